"""A streaming standby of the embedded cluster, on another port of the same machine.

``getstar db replica init`` prepares the primary for replication (``wal_level = replica`` and
WAL senders: a restart of the primary when it ran without them), creates a physical replication
slot (the primary keeps the WAL the standby has not replayed yet, so a standby that was stopped
for a while catches up instead of needing a new base backup), copies the cluster with
``pg_basebackup`` and starts it as a hot standby under ``GETSTAR_HOME/replica``.

The standby runs with ``hot_standby_feedback = on``: it tells the primary which rows its queries
still see, so VACUUM on the primary does not remove them and replaying it cancels no query.  A
snapshot swap's ``DROP SCHEMA`` of the retired snapshot still needs an exclusive lock on the
standby; replay waits for the (millisecond) queries holding it, up to
``max_standby_streaming_delay``.

PostgreSQL's own replication is used as it is: nothing here copies rows.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Any

import asyncpg

from getstar.embedded import DATABASE, SUPERUSER, EmbeddedCluster, find_bindir
from getstar.errors import EmbeddedDatabaseError

#: The primary's replication slot of the standby on ``port``.
SLOT_PREFIX = "getstar_replica_"

#: What the primary needs to stream WAL (each needs a restart when changed).
PRIMARY_SETTINGS = {"wal_level": "replica", "max_wal_senders": "10", "max_replication_slots": "10"}

#: WAL the primary keeps for a standby that does not read it (reloaded, no restart).
MAX_SLOT_WAL_KEEP = "8GB"

#: The standby's own settings (beside the primary's, which pg_basebackup copies).
STANDBY_SETTINGS = {
    "hot_standby": "on",
    # no replay of VACUUM cancels a standby query: the primary keeps what standby queries see
    "hot_standby_feedback": "on",
    # replay of an exclusive lock (a swap's DROP SCHEMA) waits this long for standby queries
    "max_standby_streaming_delay": "30s",
    "wal_receiver_status_interval": "1s",
}


@dataclass
class Replica:
    """The standby of ``primary`` under ``primary.home / "replica"``, listening on ``port``."""

    primary: EmbeddedCluster
    port: int

    @property
    def cluster(self) -> EmbeddedCluster:
        return EmbeddedCluster(home=self.primary.home / "replica", port=self.port)

    @property
    def slot(self) -> str:
        return f"{SLOT_PREFIX}{self.port}"

    @property
    def dsn(self) -> str:
        """Reads from the standby only."""
        return self.cluster.dsn

    def read_dsn(self) -> str:
        """Reads from the standby, or from the primary while the standby is down (libpq's and
        asyncpg's host lists: the first host that is a standby wins)."""
        hosts = f"{self.cluster.socket_dir},{self.primary.socket_dir}"
        return (f"postgresql://{SUPERUSER}@/{DATABASE}?host={hosts}&port={self.port},{self.primary.port}"
                "&target_session_attrs=prefer-standby")

    def write_dsn(self) -> str:
        return self.primary.dsn

    # -- lifecycle ---------------------------------------------------------------
    def is_initialised(self) -> bool:
        return (self.cluster.pgdata / "standby.signal").exists()

    async def init(self) -> bool:
        """Create and start the standby; False when it existed (it is then only started)."""
        if self.port == self.primary.port:
            raise EmbeddedDatabaseError(f"the replica's port {self.port} is the primary's (set GETSTAR_REPLICA_PORT)")
        if self.is_initialised():
            self.start()
            return False
        standby = self.cluster
        if standby.pgdata.exists():
            raise EmbeddedDatabaseError(f"{standby.pgdata} exists but is no standby: remove it first")
        self.primary.start()
        await prepare_primary(self.primary)
        await self._create_slot()
        for d in (standby.home, standby.socket_dir):
            d.mkdir(parents=True, exist_ok=True)
            standby._chown(d)
        res = standby._run(
            [str(find_bindir() / "pg_basebackup"), "-D", str(standby.pgdata), "-h", str(self.primary.socket_dir),
             "-p", str(self.primary.port), "-U", SUPERUSER, "-S", self.slot, "-X", "stream", "-R",
             "--checkpoint=fast", "--no-sync"],
            check=False,
        )
        if res.returncode != 0:
            shutil.rmtree(standby.pgdata, ignore_errors=True)
            raise EmbeddedDatabaseError(f"pg_basebackup failed: {res.stderr.strip() or res.stdout.strip()}")
        # -R wrote standby.signal, primary_conninfo and primary_slot_name; the rest of the
        # configuration is the primary's: this one listens elsewhere
        conf = "\n".join(f"{k} = {v}" for k, v in STANDBY_SETTINGS.items())
        conf += f"\nport = {self.port}\nunix_socket_directories = '{standby.socket_dir}'\n"
        with open(standby.pgdata / "postgresql.auto.conf", "a") as fh:
            fh.write(conf)
        self.start()
        return True

    def start(self) -> None:
        if not self.is_initialised():
            raise EmbeddedDatabaseError("no replica yet: run 'getstar db replica init'")
        self.primary.start()  # a standby without its primary serves only what it has, and waits
        self.cluster.start()

    def stop(self) -> None:
        if self.is_initialised():
            self.cluster.stop()

    def running(self) -> bool:
        return self.is_initialised() and self.cluster.status()

    async def drop(self) -> None:
        """Stop and delete the standby, and drop its slot (a forgotten slot keeps WAL forever)."""
        self.stop()
        shutil.rmtree(self.cluster.home, ignore_errors=True)
        if self.primary.status():
            conn = await asyncpg.connect(self.primary.admin_dsn())
            try:
                await conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                                   "WHERE slot_name = $1 AND NOT active", self.slot)
            finally:
                await conn.close()

    async def status(self) -> dict[str, Any]:
        """Running or not, in recovery, and how far behind the primary (bytes of WAL, seconds)."""
        out: dict[str, Any] = {"running": self.running(), "port": self.port, "pgdata": str(self.cluster.pgdata),
                               "slot": self.slot}
        if not out["running"]:
            return out
        conn = await asyncpg.connect(self.cluster.admin_dsn(), timeout=10)
        try:
            row = await conn.fetchrow(
                "SELECT pg_is_in_recovery() AS in_recovery, pg_last_wal_replay_lsn()::text AS replay_lsn, "
                "extract(epoch FROM now() - pg_last_xact_replay_timestamp()) AS since_last_replay, "
                "current_setting('hot_standby_feedback') AS hot_standby_feedback, "
                "(SELECT status FROM pg_stat_wal_receiver) AS receiver")
            out.update(dict(row))
        finally:
            await conn.close()
        if self.primary.status():
            conn = await asyncpg.connect(self.primary.admin_dsn(), timeout=10)
            try:
                out["lag_bytes"] = await conn.fetchval(
                    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) FROM pg_replication_slots "
                    "WHERE slot_name = $1", self.slot)
            finally:
                await conn.close()
        return out

    async def _create_slot(self) -> None:
        conn = await asyncpg.connect(self.primary.admin_dsn())
        try:
            await conn.execute("SELECT pg_create_physical_replication_slot($1) WHERE NOT EXISTS "
                               "(SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)", self.slot)
        finally:
            await conn.close()


async def prepare_primary(primary: EmbeddedCluster) -> bool:
    """Make the primary stream WAL; True when that took a restart (the embedded cluster's
    default, ``wal_level = minimal``, lets bulk loads skip the WAL, which a standby needs)."""
    conn = await asyncpg.connect(primary.admin_dsn())
    try:
        current = {k: await conn.fetchval(f"SELECT current_setting('{k}')") for k in PRIMARY_SETTINGS}
        stale = [k for k, v in PRIMARY_SETTINGS.items() if not _enough(k, current[k], v)]
        for k in stale:
            await conn.execute(f"ALTER SYSTEM SET {k} = '{PRIMARY_SETTINGS[k]}'")
        # a standby stopped and forgotten must not make the primary keep WAL until its disk is full
        # (a swap writes gigabytes): beyond this the slot is invalidated and the standby re-made
        await conn.execute(f"ALTER SYSTEM SET max_slot_wal_keep_size = '{MAX_SLOT_WAL_KEEP}'")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()
    if not stale:
        return False
    res = primary._run([str(find_bindir() / "pg_ctl"), "-D", str(primary.pgdata), "-l", str(primary.logfile),
                        "-m", "fast", "-w", "-t", "120", "restart"], check=False)
    if res.returncode != 0:
        raise EmbeddedDatabaseError(f"restarting the primary for replication failed: {res.stderr.strip()}")
    return True


def _enough(name: str, current: str, wanted: str) -> bool:
    if name == "wal_level":
        return current in ("replica", "logical")
    return int(current) >= int(wanted)

