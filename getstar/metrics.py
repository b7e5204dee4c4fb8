"""Prometheus metrics: requests by route and status, latency, cache levels, database pool.

Requests are observed by the one request middleware (``getstar.logs``), which also logs them:
one wrapper of ``send`` per request, not two.

One registry for the process (several apps in one process, as in the tests, share it);
cache and pool figures are read from the live app states when scraped.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry()
REQUESTS = Counter("getstar_requests_total", "HTTP requests", ["route", "status"], registry=REGISTRY)
LATENCY = Histogram("getstar_request_duration_seconds", "HTTP request latency", ["route"], registry=REGISTRY,
                    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10))
DB_QUERIES = Counter("getstar_database_queries_total", "Statements sent to the snapshot database", ["kind"],
                     registry=REGISTRY)
NOT_MODIFIED = Counter("getstar_not_modified_total", "304 answers (no database work)", registry=REGISTRY)

ROUTES = frozenset({"/v1/stars", "/v1/xmatch", "/sclwsGetStarProxy.php", "/scs", "/health", "/health/ready",
                    "/metrics", "/"})
_states: weakref.WeakSet[Any] = weakref.WeakSet()


def track(state: Any) -> None:
    _states.add(state)


class _StateCollector(Collector):
    def collect(self) -> Iterable[GaugeMetricFamily]:
        cache = GaugeMetricFamily("getstar_cache_events", "Cache hits/misses/errors by level",
                                  labels=["level", "event"])
        pool = GaugeMetricFamily("getstar_db_pool_connections", "Connection pool", labels=["state"])
        for state in list(_states):
            for name, value in state.cache.stats.counts.items():
                level, event = name.split("_", 1)
                cache.add_metric([level, event], value)
            if state.pool is not None:
                size = state.pool.get_size()
                pool.add_metric(["open"], size)
                pool.add_metric(["in_use"], size - state.pool.get_idle_size())
        yield cache
        yield pool


REGISTRY.register(_StateCollector())


def exposition() -> bytes:
    return generate_latest(REGISTRY)


def observe_request(path: str, status: int | str, seconds: float) -> None:
    """Count and time one HTTP request (called by ``getstar.logs.RequestLogMiddleware``)."""
    route = path if path in ROUTES else "other"
    _latency(route).observe(seconds)
    _requests(route, status).inc()


@functools.cache
def _latency(route: str) -> Any:
    """Label children resolved once: ``labels()`` costs microseconds per call on the hot path."""
    return LATENCY.labels(route)


@functools.cache
def _requests(route: str, status: int | str) -> Any:
    return REQUESTS.labels(route, str(status))
