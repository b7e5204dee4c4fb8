"""Settings, read from environment variables in this one module.

Everything configurable is a ``GETSTAR_*`` variable; ``Settings.from_env()`` is the only
place that reads them, so the rest of the code takes a ``Settings`` and is easy to test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_EMBEDDED_PORT = 54329


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


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


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
    log_level: str

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
            xmatch_max_rows=_int("GETSTAR_XMATCH_MAX_ROWS", 200_000),
            xmatch_max_bytes=_int("GETSTAR_XMATCH_MAX_BYTES", 64 * 1024 * 1024),
            cache_ttl=_int("GETSTAR_CACHE_TTL", 3600),
            log_level=os.environ.get("GETSTAR_LOG_LEVEL", "INFO"),
        )

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.home / "run"
