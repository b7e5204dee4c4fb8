"""Settings, read from environment variables in this one module.

Everything configurable is a ``GETSTAR_*`` variable; ``Settings.from_env()`` is the only
place that reads them, so the rest of the code takes a ``Settings`` and is easy to test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_EMBEDDED_PORT = 54329
#: The embedded cluster's streaming standby (``getstar db replica``) listens here by default.
DEFAULT_REPLICA_PORT = DEFAULT_EMBEDDED_PORT + 1


def _default_home() -> Path:
    """Where the embedded cluster and caches live.

    PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres``
    system user, which cannot enter ``/root``: use ``/var/lib/getstar`` there.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/getstar")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "getstar"


def _shared_data_dir() -> Path | None:
    """The project's ``../shared/data`` (real catalogue files beside the checkout), if any."""
    env = os.environ.get("GETSTAR_SHARED_DATA")
    if env:
        return Path(env)
    candidate = Path(__file__).resolve().parents[2] / "shared" / "data"
    return candidate if candidate.is_dir() else None


def pg_bin() -> str | None:
    """GETSTAR_PG_BIN: the folder of PostgreSQL's ``initdb``/``pg_ctl``, when not Debian's or on PATH
    (read apart from ``Settings``: the embedded cluster's tools need it before any settings exist)."""
    return os.environ.get("GETSTAR_PG_BIN") or None


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _bool(name: str, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    return default if raw == "" else raw not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class Settings:
    """All of getstar's configuration."""

    home: Path
    database_url: str | None
    embedded_port: int
    pool_min: int
    pool_max: int
    shared_data: Path | None
    stellarium_dir: Path | None
    redis_url: str | None
    simbad_tap_url: str
    max_cone_radius_deg: float
    default_cone_radius_deg: float
    max_names: int
    xmatch_max_rows: int
    xmatch_max_bytes: int
    cache_ttl: int
    cache_max_entries: int
    http_max_age: int
    log_level: str
    # SIMBAD TAP fallback (getstar.simbad): names the snapshot lacks are asked of SIMBAD
    simbad_enabled: bool = True
    simbad_timeout: float = 5.0
    simbad_retries: int = 2
    simbad_breaker_threshold: int = 5
    simbad_breaker_reset: float = 30.0
    simbad_rate: float = 5.0
    simbad_negative_ttl: float = 3600.0
    simbad_table_prefix: str = ""
    simbad_batch_size: int = 100
    # a request waits this long for SIMBAD at most (its query goes on in the background and the
    # answer is kept for the next request); a SIMBAD answer is read up to this many bytes
    simbad_request_budget: float = 5.0
    simbad_max_answer_bytes: int = 16 * 1024 * 1024
    # bulk enrichment (getstar ingest simbad-enrich): stars per uploaded table, seconds per query
    simbad_enrich_batch: int = 10_000
    simbad_enrich_timeout: float = 300.0
    simbad_enrich_max_answer_bytes: int = 256 * 1024 * 1024
    # snapshot swap: longest wait for a lock; an old snapshot still read by a long (TAP) query
    # is left for a later swap to drop rather than waited for
    swap_lock_timeout: float = 10.0
    # TAP over the live snapshot (getstar.tap, served by GAVO DaCHS: `getstar tap init|serve`)
    tap_host: str = "127.0.0.1"
    tap_port: int = 8080
    tap_url: str = ""  # public root URL (DaCHS's serverURL); "" = http://tap_host:tap_port
    tap_sync_timeout: int = 60
    tap_async_timeout: int = 600
    tap_max_running: int = 2
    tap_default_rows: int = 20_000
    tap_max_rows: int = 1_000_000
    tap_max_upload_bytes: int = 20_000_000
    tap_db_password: str | None = None

    @property
    def tap_root_url(self) -> str:
        """The DaCHS site's public root; the TAP service is ``<root>/tap``."""
        return (self.tap_url or f"http://{self.tap_host}:{self.tap_port}").rstrip("/")

    # batch cross-identification (POST /v1/xmatch): the largest radius a request or row may ask
    xmatch_max_radius_deg: float = 60.0 / 3600.0
    # operations (getstar serve): log lines as JSON or text, one line per request, and how long
    # a stopping worker lets requests in flight finish (then the pool is closed)
    log_format: str = "json"
    access_log: bool = True
    drain_timeout: float = 20.0
    # Simple Cone Search (/scs): rows per answer at most (VO clients cannot page)
    scs_max_records: int = 10_000
    # hostile input: every wait a timeout, every buffer a bound (getstar.server, getstar.db, cache)
    db_statement_timeout: float = 5.0
    db_acquire_timeout: float = 5.0
    suggest_timeout: float = 0.25
    # statements of coalesced name lookups running at once per worker (getstar.coalesce); 0: off
    lookup_inflight: int = 2
    # what startup made is moved out of the garbage collector's full passes (app.freeze_startup_heap)
    gc_freeze: bool = True
    xmatch_statement_timeout: float = 120.0
    xmatch_max_cells: int = 500_000
    xmatch_concurrency: int = 1
    xmatch_queue_timeout: float = 5.0
    xmatch_upload_bytes: int = 128 * 1024 * 1024
    xmatch_body_deadline: float = 120.0
    cache_max_bytes: int = 48 * 1024 * 1024
    http_max_url_bytes: int = 64 * 1024
    http_max_header_bytes: int = 16 * 1024
    http_max_headers: int = 100
    http_header_timeout: float = 5.0
    http_body_timeout: float = 30.0
    http_body_min_rate: float = 500.0
    http_body_grace: float = 10.0
    http_write_timeout: float = 60.0
    http_keepalive_timeout: int = 5
    http_max_concurrency: int = 1000
    http_max_connections_per_client: int = 64
    #: big requests (renders of > 20 stars, compression of big answers, uploads) one client may have
    #: waiting for or in a worker's CPU lane; more get 503 at once (0: no limit)
    lane_per_client: int = 4
    trusted_proxies: str = ""
    run_as_user: str = "nobody"
    # read replicas: reads go through database_url (a standby, or several hosts with
    # target_session_attrs), writes (SIMBAD learning, snapshot reloads, enrichment, batch
    # matching's temporary tables) through write_database_url; None = one database for both
    write_database_url: str | None = None
    replica_port: int = DEFAULT_REPLICA_PORT
    # how often a worker re-reads the snapshot version (a standby never gets the swap's NOTIFY)
    snapshot_poll_seconds: float = 30.0

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("GETSTAR_HOME") or _default_home())
        stel = os.environ.get("GETSTAR_STELLARIUM_DIR")
        return cls(
            home=home,
            database_url=os.environ.get("GETSTAR_DATABASE_URL") or None,
            embedded_port=_int("GETSTAR_EMBEDDED_PORT", DEFAULT_EMBEDDED_PORT),
            pool_min=_int("GETSTAR_POOL_MIN", 2),
            pool_max=_int("GETSTAR_POOL_MAX", 10),
            shared_data=_shared_data_dir(),
            stellarium_dir=Path(stel) if stel else None,
            redis_url=os.environ.get("GETSTAR_REDIS_URL") or None,
            simbad_tap_url=os.environ.get(
                "GETSTAR_SIMBAD_TAP_URL", "https://simbad.cds.unistra.fr/simbad/sim-tap/sync"
            ),
            max_cone_radius_deg=_float("GETSTAR_MAX_RADIUS_DEG", 1.0),
            default_cone_radius_deg=_float("GETSTAR_DEFAULT_RADIUS_ARCSEC", 5.0) / 3600.0,
            max_names=_int("GETSTAR_MAX_NAMES", 2000),
            xmatch_max_rows=_int("GETSTAR_XMATCH_MAX_ROWS", 100_000),
            xmatch_max_bytes=_int("GETSTAR_XMATCH_MAX_BYTES", 32 * 1024 * 1024),
            cache_ttl=_int("GETSTAR_CACHE_TTL", 3600),
            cache_max_entries=_int("GETSTAR_CACHE_MAX_ENTRIES", 20_000),
            http_max_age=_int("GETSTAR_HTTP_MAX_AGE", 3600),
            log_level=os.environ.get("GETSTAR_LOG_LEVEL", "INFO"),
            simbad_enabled=_bool("GETSTAR_SIMBAD_ENABLED", True),
            simbad_timeout=_float("GETSTAR_SIMBAD_TIMEOUT", 5.0),
            simbad_retries=_int("GETSTAR_SIMBAD_RETRIES", 2),
            simbad_breaker_threshold=_int("GETSTAR_SIMBAD_BREAKER_THRESHOLD", 5),
            simbad_breaker_reset=_float("GETSTAR_SIMBAD_BREAKER_RESET", 30.0),
            simbad_rate=_float("GETSTAR_SIMBAD_RATE", 5.0),
            simbad_negative_ttl=_float("GETSTAR_SIMBAD_NEGATIVE_TTL", 3600.0),
            simbad_table_prefix=os.environ.get("GETSTAR_SIMBAD_TABLE_PREFIX", ""),
            simbad_batch_size=_int("GETSTAR_SIMBAD_BATCH_SIZE", 100),
            simbad_request_budget=_float("GETSTAR_SIMBAD_REQUEST_BUDGET", 5.0),
            simbad_max_answer_bytes=_int("GETSTAR_SIMBAD_MAX_ANSWER_BYTES", 16 * 1024 * 1024),
            simbad_enrich_batch=_int("GETSTAR_SIMBAD_ENRICH_BATCH", 10_000),
            simbad_enrich_timeout=_float("GETSTAR_SIMBAD_ENRICH_TIMEOUT", 300.0),
            simbad_enrich_max_answer_bytes=_int("GETSTAR_SIMBAD_ENRICH_MAX_ANSWER_BYTES", 256 * 1024 * 1024),
            swap_lock_timeout=_float("GETSTAR_SWAP_LOCK_TIMEOUT", 10.0),
            tap_host=os.environ.get("GETSTAR_TAP_HOST") or "127.0.0.1",
            tap_port=_int("GETSTAR_TAP_PORT", 8080),
            tap_url=os.environ.get("GETSTAR_TAP_URL", ""),
            tap_sync_timeout=_int("GETSTAR_TAP_SYNC_TIMEOUT", 60),
            tap_async_timeout=_int("GETSTAR_TAP_ASYNC_TIMEOUT", 600),
            tap_max_running=_int("GETSTAR_TAP_MAX_RUNNING", 2),
            tap_default_rows=_int("GETSTAR_TAP_DEFAULT_ROWS", 20_000),
            tap_max_rows=_int("GETSTAR_TAP_MAX_ROWS", 1_000_000),
            tap_max_upload_bytes=_int("GETSTAR_TAP_MAX_UPLOAD_BYTES", 20_000_000),
            tap_db_password=os.environ.get("GETSTAR_TAP_DB_PASSWORD") or None,
            xmatch_max_radius_deg=_float("GETSTAR_XMATCH_MAX_RADIUS_ARCSEC", 60.0) / 3600.0,
            log_format=os.environ.get("GETSTAR_LOG_FORMAT", "json").strip().lower() or "json",
            access_log=_bool("GETSTAR_ACCESS_LOG", True),
            drain_timeout=_float("GETSTAR_DRAIN_TIMEOUT", 20.0),
            scs_max_records=_int("GETSTAR_SCS_MAX_RECORDS", 10_000),
            db_statement_timeout=_float("GETSTAR_DB_STATEMENT_TIMEOUT", 5.0),
            db_acquire_timeout=_float("GETSTAR_DB_ACQUIRE_TIMEOUT", 5.0),
            suggest_timeout=_float("GETSTAR_SUGGEST_TIMEOUT", 0.25),
            lookup_inflight=_int("GETSTAR_LOOKUP_INFLIGHT", 2),
            gc_freeze=_bool("GETSTAR_GC_FREEZE", True),
            xmatch_statement_timeout=_float("GETSTAR_XMATCH_STATEMENT_TIMEOUT", 120.0),
            xmatch_max_cells=_int("GETSTAR_XMATCH_MAX_CELLS", 500_000),
            xmatch_concurrency=_int("GETSTAR_XMATCH_CONCURRENCY", 1),
            xmatch_queue_timeout=_float("GETSTAR_XMATCH_QUEUE_TIMEOUT", 5.0),
            xmatch_upload_bytes=_int("GETSTAR_XMATCH_UPLOAD_BYTES", 128 * 1024 * 1024),
            xmatch_body_deadline=_float("GETSTAR_XMATCH_BODY_DEADLINE", 120.0),
            cache_max_bytes=_int("GETSTAR_CACHE_MAX_BYTES", 48 * 1024 * 1024),
            http_max_url_bytes=_int("GETSTAR_HTTP_MAX_URL_BYTES", 64 * 1024),
            http_max_header_bytes=_int("GETSTAR_HTTP_MAX_HEADER_BYTES", 16 * 1024),
            http_max_headers=_int("GETSTAR_HTTP_MAX_HEADERS", 100),
            http_header_timeout=_float("GETSTAR_HTTP_HEADER_TIMEOUT", 5.0),
            http_body_timeout=_float("GETSTAR_HTTP_BODY_TIMEOUT", 30.0),
            http_body_min_rate=_float("GETSTAR_HTTP_BODY_MIN_RATE", 500.0),
            http_body_grace=_float("GETSTAR_HTTP_BODY_GRACE", 10.0),
            http_write_timeout=_float("GETSTAR_HTTP_WRITE_TIMEOUT", 60.0),
            http_keepalive_timeout=_int("GETSTAR_HTTP_KEEPALIVE_TIMEOUT", 5),
            http_max_concurrency=_int("GETSTAR_HTTP_MAX_CONCURRENCY", 1000),
            http_max_connections_per_client=_int("GETSTAR_HTTP_MAX_CONNECTIONS_PER_CLIENT", 64),
            lane_per_client=_int("GETSTAR_LANE_PER_CLIENT", 4),
            trusted_proxies=os.environ.get("GETSTAR_TRUSTED_PROXIES", "").strip(),
            run_as_user=os.environ.get("GETSTAR_RUN_AS", "nobody").strip(),
            write_database_url=os.environ.get("GETSTAR_WRITE_DATABASE_URL") or None,
            replica_port=_int("GETSTAR_REPLICA_PORT", DEFAULT_REPLICA_PORT),
            snapshot_poll_seconds=_float("GETSTAR_SNAPSHOT_POLL_SECONDS", 30.0),
        )
