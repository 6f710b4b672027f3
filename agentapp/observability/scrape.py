"""What /metrics answers: this process's metrics, or every process's summed (multiprocess mode),
plus the figures read at scrape time: queue depth and memories per person."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.db import DatabaseError
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from . import probes, selectors

logger = logging.getLogger(__name__)


class ScrapeTimeCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from self._memories()
        depths = probes.queue_lengths()
        if depths is not None:  # the broker told us
            gauge = GaugeMetricFamily("agentapp_queue_depth", "Messages waiting in a queue", labels=["queue"])
            for queue, depth in depths.items():
                gauge.add_metric([queue], depth)
            yield gauge

    def _memories(self) -> Iterator[Metric]:
        try:
            counts = selectors.memories_per_person()
        except DatabaseError as exc:  # the database away: the processes' own metrics still answer
            logger.warning("memories per person not read for /metrics: %s", exc)
            return
        yield SummaryMetricFamily(
            "agentapp_memories_per_person",
            "Live memories per person who has any (count: people, sum: memories)",
            count_value=len(counts),
            sum_value=sum(counts),
        )
        yield GaugeMetricFamily(
            "agentapp_memories_per_person_max",
            "The most live memories one person has",
            value=max(counts, default=0),
        )


def metrics_render(*, multiprocess_dir: str) -> bytes:
    if multiprocess_dir:
        summed = CollectorRegistry()
        MultiProcessCollector(summed, path=multiprocess_dir)
        body = generate_latest(summed)
    else:
        body = generate_latest(REGISTRY)
    at_scrape = CollectorRegistry()
    at_scrape.register(ScrapeTimeCollector())
    return body + generate_latest(at_scrape)
