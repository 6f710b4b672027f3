"""What the run's telemetry costs a turn: CPU per turn with tracing off (the default: the
OpenTelemetry API's no-op spans, the metrics observer counting) and on (the SDK exporting over
OTLP/HTTP in batches to a loopback receiver).

    .venv/bin/python bench/telemetry_overhead.py --turns 300

The agent runs on InMemoryDb against the tests' loopback model in this process, so what is measured
is the runtime's own work per turn (the database's cost is bench/turn_cost.py's).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agentapp.agent import Agent, telemetry  # noqa: E402
from agentapp.llm import OpenAIChat  # noqa: E402
from agentapp.observability import metrics  # noqa: E402
from tests.fake_openai import FakeOpenAI, Reply  # noqa: E402


def _turns(model: OpenAIChat, turns: int) -> list[float]:
    agent = Agent(model=model, add_history_to_context=True, num_history_runs=5)
    cpu = []
    for i in range(turns):
        started = time.process_time()
        agent.run(f"message {i}", user_id="bench", session_id="bench")
        cpu.append(time.process_time() - started)
    return cpu[turns // 5 :]  # the first fifth warms up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=300)
    args = parser.parse_args()
    from http.server import ThreadingHTTPServer
    from threading import Thread

    from agentapp.observability.tracing import tracing_provider
    from tests.observability.otlp_receiver import OtlpReceiver, _handler

    telemetry.add_observer(metrics.OBSERVER)
    receiver = OtlpReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    Thread(target=server.serve_forever, daemon=True).start()
    with FakeOpenAI() as fake:
        fake.responder = lambda request: Reply(text="A short reply of a few words.", usage=(100, 7))
        model = OpenAIChat(id="gpt-bench", base_url=fake.base_url, api_key="sk-bench", max_retries=0)
        results = {}
        for label in ("off", "on", "off again"):
            provider = tracing_provider(endpoint=receiver.traces_url) if label == "on" else None
            telemetry.use_tracer_provider(provider)
            results[label] = _turns(model, args.turns)
            if provider is not None:
                provider.force_flush()
                provider.shutdown()
        telemetry.use_tracer_provider(None)
    for label, cpu in results.items():
        print(
            f"tracing {label:9}: CPU per turn median {statistics.median(cpu) * 1000:.2f} ms, "
            f"mean {statistics.fmean(cpu) * 1000:.2f} ms ({len(cpu)} turns)"
        )
    print(f"spans received while on: {len(receiver.spans)}")
    server.shutdown()


if __name__ == "__main__":
    main()
