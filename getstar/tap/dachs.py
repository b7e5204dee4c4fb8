"""GAVO DaCHS for getstar: its configuration written from getstar's settings, init and serve.

DaCHS keeps everything under one root (``$GETSTAR_HOME/tap``): ``gavo.rc`` (bind address,
URL, limits, timeouts), ``etc/`` (database profiles of its three roles), ``inputs/getstar/q.rd``
(the generated RD), logs and async job files.  Its tables (``dc``, ``tap_schema``, ``uws``)
and the ``getstar`` schema of views live in getstar's database and belong to DaCHS's admin
role ``gavoadmin``; getstar's own schemas stay getstar's.  The query roles ``gavo`` and
``untrusted`` are members of ``READER_ROLE`` and read the published snapshot tables only.
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from getstar.config import Settings
from getstar.errors import TapSetupError
from getstar.tap.rd import RD_ID, TAP_SCHEMA, resource_descriptor

#: DaCHS's database profiles and the roles ``dachs init`` creates for them.
PROFILES = {"feed": "gavoadmin", "trustedquery": "gavo", "untrustedquery": "untrusted"}
ADMIN_ROLE = PROFILES["feed"]
QUERY_ROLES = [PROFILES["trustedquery"], PROFILES["untrustedquery"]]
INSTALL_HINT = "apt-get install python3-gavo postgresql-{major}-pgsphere ('bash deploy/dev.sh tap' does it)"


def libpq_params(dsn: str) -> dict[str, str]:
    """host, port, dbname, user, password, sslmode of a ``postgresql://`` URL (asyncpg's forms)."""
    url = urlsplit(dsn)
    if url.scheme not in ("postgresql", "postgres"):
        raise TapSetupError(f"not a postgresql:// URL: {url.scheme}://…")
    query = {k: v[-1] for k, v in parse_qs(url.query).items()}
    params = {
        "host": query.get("host") or url.hostname or "localhost",
        "port": query.get("port") or str(url.port or 5432),
        "dbname": unquote(url.path.lstrip("/")) or query.get("dbname", ""),
        "user": unquote(url.username or "") or query.get("user", ""),
        "password": unquote(url.password or "") or query.get("password", ""),
        "sslmode": query.get("sslmode", ""),
    }
    return {k: v for k, v in params.items() if v}


def kv_line(params: dict[str, str]) -> str:
    """A libpq keyword/value connection string (what ``dachs init -d`` takes)."""
    def quote(value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return " ".join(f"{k}={quote(v)}" for k, v in params.items())


def _unix_group() -> str:
    """DaCHS's group for shared directories: Debian's ``gavo`` when there, else our own."""
    try:
        grp.getgrnam("gavo")
        return "gavo"
    except KeyError:
        return grp.getgrgid(os.getegid()).gr_name


def _server_user() -> str:
    """The user DaCHS switches to when started as root (it never serves as root)."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    try:
        pwd.getpwnam("gavo")
    except KeyError as exc:
        raise TapSetupError("DaCHS started as root switches to the 'gavo' user, which does not exist: run "
                            "'getstar tap' as another user, or install gavodachs2-server (creates it)") from exc
    return "gavo"


def gavo_rc(settings: Settings, root: Path) -> str:
    """DaCHS's settings file, from getstar's (see the README's TAP section)."""
    group = _unix_group()
    return f"""# Written by getstar (getstar/tap/dachs.py) from GETSTAR_* settings at each `getstar tap` command.
[general]
rootDir: {root}
logLevel: info
group: {group}
gavoGroup: {group}

[web]
bindAddress: {settings.tap_host}
serverPort: {settings.tap_port}
serverURL: {settings.tap_root_url}
user: {_server_user()}
sitename: getstar TAP
maxUploadSize: {settings.tap_max_upload_bytes}
maxSyncUploadSize: {settings.tap_max_upload_bytes}
sqlTimeout: {settings.tap_sync_timeout}

[async]
defaultExecTimeSync: {settings.tap_sync_timeout}
defaultExecTime: {settings.tap_async_timeout}
maxTAPRunning: {settings.tap_max_running}
defaultMAXREC: {settings.tap_default_rows}
hardMAXREC: {settings.tap_max_rows}
defaultLifetime: 172800

[ivoa]
dalDefaultLimit: {settings.tap_default_rows}
dalHardLimit: {settings.tap_max_rows}
"""


DEFAULT_META = """publisher: getstar
contact.name: getstar operators
contact.email: getstar@localhost
creator.name: getstar
authority.shortName: getstar
authority.creationDate: 2026-01-01T00:00:00
authority.title: getstar
site.description: TAP and ADQL over the live snapshot of the getstar star resolver.
_noresultwarning: Your query did not match any star.
"""


@dataclass(frozen=True)
class Site:
    """The DaCHS installation of one getstar home, against one database."""

    settings: Settings
    dsn: str

    @property
    def root(self) -> Path:
        return self.settings.home / "tap"

    @property
    def rc(self) -> Path:
        return self.root / "gavo.rc"

    @property
    def env(self) -> dict[str, str]:
        # GAVOCUSTOM: no ~/.gavorc of whoever runs us changes the configuration
        return {**os.environ, "GAVOSETTINGS": str(self.rc), "GAVOCUSTOM": str(self.root / "no-gavorc")}

    @property
    def tap_url(self) -> str:
        return self.settings.tap_root_url + "/tap"

    def write_config(self) -> None:
        """gavo.rc, the database profiles, the default metadata and the RD (idempotent)."""
        etc = self.root / "etc"
        inputs = self.root / "inputs" / TAP_SCHEMA
        for d in (self.root, etc, inputs):
            d.mkdir(parents=True, exist_ok=True)
        self.rc.write_text(gavo_rc(self.settings, self.root))
        db = libpq_params(self.dsn)
        dsn_profile = [f"database = {shlex.quote(db.get('dbname', 'getstar'))}",
                       f"host = {shlex.quote(db.get('host', 'localhost'))}",
                       f"port = {shlex.quote(db.get('port', '5432'))}"]
        if "sslmode" in db:
            dsn_profile.append(f"sslmode = {shlex.quote(db['sslmode'])}")
        _write_private(etc / "dsn", "\n".join(dsn_profile) + "\n")
        for profile, role in PROFILES.items():
            path = etc / profile
            password = self.settings.tap_db_password or _profile_password(path) or secrets.token_hex(20)
            _write_private(path, f"include dsn\nuser = {role}\npassword = {shlex.quote(password)}\n")
        (etc / "defaultmeta.txt").write_text(DEFAULT_META)
        (inputs / "q.rd").write_text(resource_descriptor())

    def dachs(self, *args: str, timeout: float = 600) -> str:
        """Run a ``dachs`` command on this site; its output, or TapSetupError with the end of it."""
        exe = dachs_executable()
        try:
            res = subprocess.run([exe, *args], env=self.env, cwd=self.root, capture_output=True, text=True,
                                 timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise TapSetupError(f"dachs {' '.join(args[:2])} did not finish in {timeout:.0f} s") from exc
        out = res.stdout + res.stderr
        if res.returncode != 0:
            raise TapSetupError(f"dachs {' '.join(args[:2])} failed ({res.returncode}): {out.strip()[-3000:]}")
        return out

    def init_dachs(self, initialised: bool) -> None:
        """DaCHS's roles, schemas and pgSphere (``dachs init`` as getstar's database owner) the
        first time; its directories and ``dachs upgrade`` after (``dachs init`` runs once only)."""
        if initialised:
            self.dachs("init", "--nodb")
            self.dachs("upgrade")
        else:
            self.dachs("init", "-d", kv_line(libpq_params(self.dsn)))

    def role_passwords(self) -> dict[str, str]:
        """DaCHS role -> the password its profile holds."""
        out = {}
        for profile, role in PROFILES.items():
            password = _profile_password(self.root / "etc" / profile)
            if password:
                out[role] = password
        return out

    def import_rd(self) -> str:
        return self.dachs("imp", RD_ID)

    def validate_rd(self) -> str:
        return self.dachs("val", RD_ID)

    def admin_connect_args(self) -> dict[str, Any]:
        """asyncpg.connect keywords logging in as DaCHS's admin role (its profile's password)."""
        db = libpq_params(self.dsn)
        args: dict[str, Any] = {"host": db.get("host", "localhost"), "port": int(db.get("port", "5432")),
                "database": db.get("dbname", "getstar"), "user": ADMIN_ROLE}
        password = self.role_passwords().get(ADMIN_ROLE)
        if password:
            args["password"] = password
        if "sslmode" in db:
            args["ssl"] = db["sslmode"]
        return args

    def serve_args(self) -> list[str]:
        """The foreground server (logs in ``root/logs``); DaCHS drops root to its server user."""
        return [dachs_executable(), "serve", "start", "--foreground"]


def _write_private(path: Path, text: str) -> None:
    """A profile holds a password: readable by its owner and DaCHS's group only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o640)
    if os.geteuid() == 0:
        os.chown(path, -1, grp.getgrnam(_unix_group()).gr_gid)


def _profile_password(path: Path) -> str | None:
    """The password of an existing profile (kept across commands when none is configured)."""
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "password":
            parts = shlex.split(value)
            return parts[0] if parts else None
    return None


def dachs_executable() -> str:
    exe = shutil.which("dachs")
    if exe is None:
        raise TapSetupError("GAVO DaCHS is not installed: " + INSTALL_HINT.format(major=15))
    return exe
