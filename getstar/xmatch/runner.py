"""``getstar xmatch FILE``: the batch cross-identification from the shell, straight on the database.

Why chunks: a file may hold far more rows than one HTTP request is allowed; it is read
once, then matched CHUNK targets at a time (each chunk one temporary table and one query,
as the endpoint does), written as it goes, with a progress bar on a terminal.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import asyncpg

from getstar import __version__, coords
from getstar.errors import BadRequest
from getstar.formats.model import Meta
from getstar.xmatch.match import CHUNK as FETCH
from getstar.xmatch.match import FLAG, ROW, TEXT, open_batch
from getstar.xmatch.output import Layout, make_writer
from getstar.xmatch.targets import DEFAULT_RADIUS_ARCSEC, check_epoch, prepare

__all__ = ["CHUNK", "kind_of_file", "xmatch_file"]

#: Targets per query on the command line.
CHUNK = 20_000
_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".vot": "votable",
               ".votable": "votable", ".xml": "votable"}


def kind_of_file(path: Path, head: bytes) -> str:
    """Body kind from the file name, else from its first character."""
    kind = _EXTENSIONS.get(path.suffix.lower())
    if kind is not None:
        return kind
    start = head.lstrip()[:1]
    return "votable" if start == b"<" else "json" if start in (b"[", b"{") else "csv"


async def xmatch_file(dsn: str, path: Path, out: BinaryIO, *, radius: str | None = None, fmt: str = "csv",
                      epoch: str | None = None, max_radius_deg: float = 60.0 / 3600.0,
                      progress: bool | None = None) -> dict[str, int]:
    """Match every row of ``path`` and write the answer to ``out``; returns the count per flag."""
    from tqdm import tqdm

    from getstar.db import connect

    radius_deg = coords.parse_radius(radius, DEFAULT_RADIUS_ARCSEC / 3600.0, maximum=max_radius_deg)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise BadRequest(f"cannot read {path}: {exc.strerror or exc}") from None
    table, targets = prepare(body, kind_of_file(path, body[:200]), "utf-8", max_rows=None, radius_deg=radius_deg,
                             max_radius_deg=max_radius_deg, epoch=check_epoch(coords.parse_epoch(epoch)))
    del body
    conn: asyncpg.Connection = await connect(dsn)
    counts: dict[str, int] = {}
    try:
        version = await conn.fetchval("SELECT version FROM live.snapshot_info LIMIT 1")
        meta = Meta(__version__, version or "", f"file={path.name}&radius={radius_deg * 3600:g}arcsec",
                    datetime.now(UTC))
        writer = make_writer(fmt, Layout.of(table), meta, len(targets))
        out.write(writer.head())
        on = sys.stderr.isatty() if progress is None else progress
        with tqdm(total=len(targets), unit="row", disable=not on, file=sys.stderr) as bar:
            for start in range(0, len(targets), CHUNK):
                chunk = targets.part(start, start + CHUNK)
                async with conn.transaction():
                    batch = await open_batch(conn, chunk, fmt, start)
                    while recs := await batch.fetch(FETCH):
                        lo, hi = recs[0][ROW], recs[-1][ROW] + 1
                        errors = [targets.errors.get(k) for k in range(lo, hi)]
                        for error, r in zip(errors, recs, strict=True):
                            flag = "error" if error is not None else r[FLAG]
                            counts[flag] = counts.get(flag, 0) + 1
                        out.write(writer.chunk(table.row_slice(lo, hi), errors if any(errors) else None,
                                               [r[TEXT] for r in recs]))
                        bar.update(len(recs))
        out.write(writer.tail())
    finally:
        await conn.close()
    return counts
