"""Connecting to the snapshot database: the embedded cluster or GETSTAR_DATABASE_URL."""

from __future__ import annotations

from typing import Any

import asyncpg

from getstar.config import Settings
from getstar.embedded import DATABASE, EmbeddedCluster
from getstar.replica import Replica


def embedded_cluster(settings: Settings) -> EmbeddedCluster:
    return EmbeddedCluster(home=settings.home, port=settings.embedded_port)


def embedded_replica(settings: Settings) -> Replica:
    """The embedded cluster's streaming standby (``getstar db replica``)."""
    return Replica(primary=embedded_cluster(settings), port=settings.replica_port)


async def ensure_database(settings: Settings) -> str:
    """Return a DSN for the snapshot database, starting the embedded cluster if needed."""
    if settings.database_url:
        return settings.database_url
    cluster = embedded_cluster(settings)
    cluster.start()
    conn = await asyncpg.connect(cluster.admin_dsn())
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await conn.close()
    return cluster.dsn


async def ensure_write_database(settings: Settings) -> str:
    """The DSN that writes go to (migrations, ingest, reloads, SIMBAD learning, batch matching's
    temporary tables): GETSTAR_WRITE_DATABASE_URL, else the one database that reads use too."""
    if settings.write_database_url:
        return settings.write_database_url
    return await ensure_database(settings)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=_json_dumps, decoder=_json_loads, schema="pg_catalog")


def _json_dumps(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()


def _json_loads(value: str) -> Any:
    import orjson

    return orjson.loads(value)


async def connect(dsn: str, timeout: float = 60) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn, server_settings=SERVER_SETTINGS, timeout=timeout)
    await _init_connection(conn)
    return conn


#: Session settings sent at connection start-up (they survive the pool's RESET ALL).
SERVER_SETTINGS = {
    "pg_trgm.word_similarity_threshold": "0.4",  # 'Sirus' must suggest 'NAME Sirius'
    "jit": "off",  # JIT compilation costs more than our millisecond queries
    # q3c cone plans take ~2 ms to plan and 0.3 ms to run: plan prepared statements once
    "plan_cache_mode": "force_generic_plan",
}


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Nothing to undo when a connection goes back to the pool: asyncpg has already rolled back a
    transaction left open, and the service's connections change no session state (settings are
    ``SET LOCAL``, locks ``pg_advisory_xact_lock``, temporary tables ``ON COMMIT DELETE ROWS``,
    no LISTEN, no cursor outside a transaction).  Why: asyncpg's default reset sends ``RESET ALL``,
    ``UNLISTEN *``... on every release, one more round trip per cold answer (~5 % of the process
    under bench/resolve.py, and as much work for PostgreSQL)."""


async def create_pool(dsn: str, settings: Settings, *, statement_timeout: float | None = None) -> asyncpg.Pool:
    """The service's pool; ``statement_timeout`` (seconds) bounds every statement a request sends
    (the service passes ``settings.db_statement_timeout``; tools that load data pass none)."""
    server_settings = dict(SERVER_SETTINGS)
    if statement_timeout:
        server_settings["statement_timeout"] = str(max(1, round(statement_timeout * 1000)))
    pool = await asyncpg.create_pool(
        dsn, min_size=settings.pool_min, max_size=settings.pool_max, init=_init_connection, reset=_keep_session,
        server_settings=server_settings, timeout=max(1.0, settings.db_acquire_timeout),
    )
    assert pool is not None
    return pool
