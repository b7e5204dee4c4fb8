"""``getstar tap init`` and ``getstar tap serve``: set DaCHS up on getstar's database, run it."""

from __future__ import annotations

import asyncio
import os

import asyncpg

from getstar import db
from getstar.config import Settings
from getstar.errors import TapSetupError
from getstar.tap import sql
from getstar.tap.dachs import ADMIN_ROLE, INSTALL_HINT, QUERY_ROLES, Site


async def init(settings: Settings, dsn: str) -> Site:
    """Everything, idempotently: DaCHS's roles and tables, getstar's functions and grants, the views.

    ``dsn`` must connect as getstar's database owner with the right to create roles and the
    pgSphere extension (the embedded cluster's ``getstar`` is a superuser).
    """
    site = Site(settings, dsn)
    conn = await db.connect(dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_sphere'"):
            raise TapSetupError("the pgSphere extension is not installed on the database server "
                                "(DaCHS needs it): " + INSTALL_HINT.format(major=15))
        site.write_config()
        initialised = bool(await conn.fetchval("SELECT to_regclass('dc.tablemeta') IS NOT NULL"))
        await asyncio.to_thread(site.init_dachs, initialised)
        for role, password in site.role_passwords().items():  # the profiles' (GETSTAR_TAP_DB_PASSWORD)
            await conn.execute(await conn.fetchval("SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)",
                                                   role, password))
        await sql.install(conn, [ADMIN_ROLE, *QUERY_ROLES])
        # `dachs init` gives its admin role CREATEROLE, which in PostgreSQL 15 could grant
        # itself getstar's own role: DaCHS serving needs none of it
        await conn.execute(f'ALTER ROLE "{ADMIN_ROLE}" NOCREATEROLE')
    finally:
        await conn.close()
    await asyncio.to_thread(site.import_rd)
    await cap_jobs(site)
    return site


async def cap_jobs(site: Site) -> None:
    """Hold every TAP job to GETSTAR_TAP_ASYNC_TIMEOUT, as DaCHS's admin role (no owner needed)."""
    admin = await asyncpg.connect(**site.admin_connect_args())
    try:
        await sql.cap_job_durations(admin, site.settings.tap_async_timeout)
    finally:
        await admin.close()


def serve(settings: Settings, dsn: str) -> None:
    """Write the configuration from the settings, then become DaCHS's server (foreground)."""
    site = Site(settings, dsn)
    if not settings.tap_db_password and not (site.root / "etc" / "feed").exists():
        raise TapSetupError(f"no DaCHS set up under {site.root}: run 'getstar tap init' first "
                            "(or set GETSTAR_TAP_DB_PASSWORD, as a container does)")
    site.write_config()
    site.dachs("init", "--nodb")  # DaCHS's directories (a fresh container has none); no database change
    asyncio.run(cap_jobs(site))  # the configured limit, whatever a client asks
    args = site.serve_args()
    os.execve(args[0], args, site.env)
