"""A throw-away GAVO DaCHS (Debian ``gavodachs2-server``) serving SIMBAD-shaped resources.

``running_dachs(resources)`` starts everything itself: a private PostgreSQL cluster
(getstar's EmbeddedCluster, pgSphere installed), a DaCHS configuration under a temporary root
(``GAVOSETTINGS``, a free loopback port), ``dachs init`` against that cluster, ``dachs imp`` of
each resource folder (copied under the root's ``inputs/``; ``prepare`` may add files to the
copy first), and ``dachs serve debug``.  It yields the TAP base URL (``…/tap``).  Used by the
fixtures of ``tests/test_simbad_tap_server.py`` and ``tests/test_simbad_enrich.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import asyncpg
import httpx

from getstar.embedded import EmbeddedCluster
from tests.conftest import free_port

HERE = Path(__file__).parent


def missing() -> str | None:
    """Why DaCHS cannot run on this machine, or None."""
    if shutil.which("dachs") is None:
        return "DaCHS is not installed (Debian package gavodachs2-server; 'bash deploy/dev.sh test' installs it)"
    if not glob.glob("/usr/share/postgresql/*/extension/pg_sphere.control"):
        return "pgSphere is not installed (Debian package postgresql-15-pgsphere), DaCHS needs it"
    return None


def _run(args: list[str], env: dict[str, str], cwd: Path) -> None:
    res = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({res.returncode}):\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")


@contextlib.contextmanager
def running_dachs(resources: Sequence[str],
                  prepare: Callable[[str, Path], None] | None = None) -> Iterator[str]:
    """DaCHS serving ``tests/tap_server/<name>/q.rd`` for each name; yields the TAP base URL."""
    home = Path(tempfile.mkdtemp(prefix="getstar-dachs-", dir="/tmp"))
    os.chmod(home, 0o755)  # the postgres user enters it when we run as root
    cluster = EmbeddedCluster(home=home / "pg", port=free_port())
    proc: subprocess.Popen[bytes] | None = None
    try:
        cluster.init()
        cluster.start({"fsync": "off"})

        async def create_db() -> None:
            conn = await asyncpg.connect(cluster.admin_dsn())
            try:
                await conn.execute("CREATE DATABASE gavo ENCODING 'UTF8' TEMPLATE template0")
            finally:
                await conn.close()

        asyncio.run(create_db())
        root, port = home / "gavo", free_port()
        root.mkdir()
        rc = home / "gavo.rc"
        rc.write_text(f"[general]\nrootDir: {root}\n\n[web]\nserverPort: {port}\n"
                      f"serverURL: http://127.0.0.1:{port}\nbindAddress: 127.0.0.1\n")
        env = {**os.environ, "GAVOSETTINGS": str(rc), "GAVOCUSTOM": str(home / "no-gavorc")}
        _run(["dachs", "init", "-d", f"host={cluster.socket_dir} port={cluster.port} user=getstar dbname=gavo"],
             env, home)
        for name in resources:
            target = root / "inputs" / name
            shutil.copytree(HERE / name, target)
            if prepare is not None:
                prepare(name, target)
            _run(["dachs", "imp", f"{name}/q"], env, home)
        log = open(home / "serve.log", "wb")  # noqa: SIM115 - open for the server's whole life
        proc = subprocess.Popen(["dachs", "serve", "debug"], env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        base = f"http://127.0.0.1:{port}/tap"
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"dachs serve exited: {(home / 'serve.log').read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/availability", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"DaCHS did not come up: {(home / 'serve.log').read_text()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        cluster.destroy()
        shutil.rmtree(home, ignore_errors=True)
