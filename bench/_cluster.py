"""Benchmark helpers: a throw-away embedded cluster, or GETSTAR_BENCH_DSN to reuse a database."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from getstar.embedded import EmbeddedCluster


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[EmbeddedCluster]:
    home = Path(tempfile.mkdtemp(prefix="getstar-bench-", dir="/tmp"))
    os.chmod(home, 0o755)
    cluster = EmbeddedCluster(home=home, port=free_port())
    cluster.init()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()


def peak_rss_mb_children() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
