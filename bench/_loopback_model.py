"""The tests' loopback OpenAI-compatible server as a process of its own, for the benchmarks.

    python bench/_loopback_model.py --words 21 --chunk-delay 0.05 --delay 0

Prints its base URL on the first line of stdout, then serves every request with
the same streamed reply until stdin closes (the benchmark that started it exits).
Only 127.0.0.1 is bound.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import fake_openai  # noqa: E402
from tests.fake_openai import FakeOpenAI, Reply  # noqa: E402

# socketserver's default listen backlog is 5: a burst of 200 connections would wait on SYN retries.
fake_openai._Server.request_queue_size = 512


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--words", type=int, default=21)
    parser.add_argument("--chunk-delay", type=float, default=0.05, help="seconds between streamed words")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before the first byte")
    args = parser.parse_args()
    text = " ".join(f"word{i}" for i in range(args.words))
    with FakeOpenAI() as server:
        server.responder = lambda request: Reply(
            text=text, delay=args.delay, chunk_delay=args.chunk_delay, usage=(100, args.words)
        )
        server.requests = _Discard()  # keep no history: the benchmark sends thousands of requests
        print(server.base_url, flush=True)
        sys.stdin.read()


class _Discard(list):
    def append(self, item: object) -> None:
        pass


if __name__ == "__main__":
    main()
