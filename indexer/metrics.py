"""Prometheus metrics of the indexer: head, indexed block, lag, events/s, events and reorgs."""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

log = logging.getLogger(__name__)


class Metrics:
    """The indexer's gauges and counters, served on `port` when one is given."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        # A registry of its own, so that several indexers in one process (tests) do not collide.
        self.registry = CollectorRegistry()
        r = self.registry
        self.head = Gauge("silktrace_indexer_head_block", "latest block of the node", registry=r)
        self.indexed_block = Gauge("silktrace_indexer_indexed_block", "block the mirror is at",
                                   registry=r)
        self.lag = Gauge("silktrace_indexer_lag_blocks", "blocks the mirror is behind", registry=r)
        self.rate = Gauge("silktrace_indexer_events_per_second", "recent indexing rate", registry=r)
        self.events = Counter("silktrace_indexer_events", "ledger events indexed", registry=r)
        self.reorgs = Counter("silktrace_indexer_reorgs", "reorgs undone", registry=r)
        self.reorg_depth = Gauge("silktrace_indexer_last_reorg_depth", "depth of the last reorg",
                                 registry=r)
        self._server: Any = None
        if port is not None:
            self._server, _thread = start_http_server(port, addr=host, registry=r)
            log.info("metrics on http://%s:%d/metrics", host, port)

    def indexed(self, block: int, events: int) -> None:
        self.indexed_block.set(block)
        self.events.inc(events)

    def position(self, head: int, indexed: int, eps: float) -> None:
        self.head.set(head)
        self.indexed_block.set(indexed)
        self.lag.set(max(head - indexed, 0))
        self.rate.set(eps)

    def reorg(self, depth: int) -> None:
        self.reorgs.inc()
        self.reorg_depth.set(depth)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
