"""Benchmark helpers: a throw-away embedded cluster, or GETSTAR_BENCH_DSN to reuse a database."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from getstar.embedded import EmbeddedCluster

_TICK = os.sysconf("SC_CLK_TCK")


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


def proc_cpu(pid: int, children: bool = False) -> float:
    """CPU seconds of process ``pid`` (user + system), and of its waited-for children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / _TICK


def backends_cpu(dsn: str, application: str) -> float | None:
    """CPU seconds so far of the PostgreSQL backends whose ``application_name`` is ``application``
    (None when none of them can be read here: no such backend, or a server on another machine)."""
    import asyncio

    import asyncpg

    async def pids() -> list[int]:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = $1", application)
        finally:
            await conn.close()
        return [r[0] for r in rows]

    total, seen = 0.0, False
    for pid in asyncio.run(pids()):
        try:
            total += proc_cpu(pid)
            seen = True
        except OSError:
            continue
    return total if seen else None


def peak_rss_mb_children() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
