"""The embedded cluster: created, started, reported, private (socket only)."""

from __future__ import annotations

import asyncpg
import pytest

from getstar.embedded import EmbeddedCluster, check_extensions, find_bindir
from getstar.errors import EmbeddedDatabaseError


def test_cluster_runs_on_its_own_socket(cluster: EmbeddedCluster) -> None:
    assert cluster.status()
    assert (cluster.socket_dir / f".s.PGSQL.{cluster.port}").exists()
    assert cluster.init() is False  # idempotent: already initialised


async def test_cluster_has_q3c_and_listens_on_no_tcp_port(cluster: EmbeddedCluster) -> None:
    conn = await asyncpg.connect(cluster.admin_dsn())
    try:
        assert await conn.fetchval("SHOW listen_addresses") == ""
        names = {r["name"] for r in await conn.fetch("SELECT name FROM pg_available_extensions")}
        assert {"q3c", "pg_trgm"} <= names
    finally:
        await conn.close()


def test_missing_extension_names_the_debian_package(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real = find_bindir()
    fake = tmp_path / "lib" / "bin"
    fake.mkdir(parents=True)
    for tool in ("initdb", "pg_ctl", "postgres"):
        (fake / tool).symlink_to(real / tool)
    monkeypatch.setattr("getstar.embedded.Path", _NoShareDirs)
    with pytest.raises(EmbeddedDatabaseError, match=r"postgresql-\d+-q3c"):
        check_extensions(fake)


class _NoShareDirs(type(find_bindir())):  # type: ignore[misc]
    """A Path whose Debian share directory does not exist (extensions look missing)."""

    def exists(self, *args, **kwargs) -> bool:  # type: ignore[no-untyped-def]
        if "/share/" in str(self) and str(self).endswith(".control"):
            return False
        return super().exists(*args, **kwargs)


def test_missing_binaries_are_explained(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GETSTAR_PG_BIN", "/nonexistent")
    monkeypatch.setattr("getstar.embedded.glob.glob", lambda pattern: [])
    monkeypatch.setattr("getstar.embedded.shutil.which", lambda name: None)
    with pytest.raises(EmbeddedDatabaseError, match="apt-get install postgresql-15"):
        find_bindir()


def test_second_cluster_does_not_collide(tmp_path_factory, cluster: EmbeddedCluster) -> None:  # type: ignore[no-untyped-def]
    import os

    from tests.conftest import free_port

    home = tmp_path_factory.mktemp("second", numbered=True)
    os.chmod(home, 0o755)
    for parent in home.parents:
        if str(parent).startswith("/tmp/"):
            os.chmod(parent, 0o755)
    other = EmbeddedCluster(home=home, port=free_port())
    try:
        other.start()
        assert other.status() and cluster.status()
    finally:
        other.destroy()
    assert not other.status()
