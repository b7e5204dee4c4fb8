"""`getstar ingest jsdc` end to end: a JSDC file in VizieR's layout attaches to snapshot stars."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from getstar.config import Settings
from getstar.db import connect
from getstar.ingest import hipparcos
from getstar.ingest.pipeline import run_ingest
from getstar.properties import ORIGIN_CODE
from getstar.schema import migrate


@pytest.fixture(scope="module")
def jsdc_dsn(make_database) -> str:  # type: ignore[no-untyped-def]
    return make_database("jsdc_e2e")


def write_jsdc_fits(path: Path, rows: list[dict[str, object]]) -> None:
    cols = [
        fits.Column(name="Name", format="20A", array=np.array([r["Name"] for r in rows])),
        fits.Column(name="RAJ2000", format="D", unit="deg", array=np.array([r["ra"] for r in rows])),
        fits.Column(name="DEJ2000", format="D", unit="deg", array=np.array([r["dec"] for r in rows])),
        fits.Column(name="SpType", format="10A", array=np.array(["K0III"] * len(rows))),
        fits.Column(name="Vmag", format="E", array=np.array([r["V"] for r in rows], dtype=np.float32)),
        fits.Column(name="e_Vmag", format="E", array=np.full(len(rows), 0.02, dtype=np.float32)),
        fits.Column(name="Kmag", format="E", array=np.array([r["K"] for r in rows], dtype=np.float32)),
        fits.Column(name="LDD", format="E", array=np.array([r["LDD"] for r in rows], dtype=np.float32)),
        fits.Column(name="e_LDD", format="E", array=np.full(len(rows), 0.05, dtype=np.float32)),
        fits.Column(name="LDDCHI", format="E", array=np.full(len(rows), 0.8, dtype=np.float32)),
        fits.Column(name="CalFlag", format="J", array=np.zeros(len(rows), dtype=np.int32)),
        fits.Column(name="UDDK", format="E", array=np.array([r["LDD"] for r in rows], dtype=np.float32) * 0.97),
    ]
    fits.BinTableHDU.from_columns(cols).writeto(path)


async def test_jsdc_attaches_by_position(jsdc_dsn: str, settings: Settings, tmp_path: Path) -> None:
    hip = tmp_path / "hip2.dat"
    with open(hipparcos.default_path()) as fh:
        hip.write_text("".join(next(fh) for _ in range(300)))
    conn = await connect(jsdc_dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    quiet = settings.__class__(**{**settings.__dict__, "shared_data": None})
    await run_ingest(jsdc_dsn, quiet, "hipparcos", [hip], progress=lambda _l: None)
    conn = await connect(jsdc_dsn)
    try:
        targets = await conn.fetch("SELECT star_id, ra, dec FROM live.star ORDER BY star_id LIMIT 3")
    finally:
        await conn.close()
    rows = [{"Name": f"HIP test {i}", "ra": t["ra"] + 0.5 / 3600, "dec": t["dec"], "V": 7.5 + i, "K": 5.0 + i,
             "LDD": 0.5 + i} for i, t in enumerate(targets)]
    rows.append({"Name": "far away", "ra": 180.0, "dec": 89.0, "V": 9.0, "K": 8.0, "LDD": 0.1})
    path = tmp_path / "jsdc_v2.fits"
    write_jsdc_fits(path, rows)
    _version, report = await run_ingest(jsdc_dsn, quiet, "jsdc", [path], progress=lambda _l: None)
    assert report.counts["jsdc_rows"] == 4 and report.counts["jsdc_attached"] == 3
    conn = await connect(jsdc_dsn)
    try:
        for i, t in enumerate(targets):
            # star ids change with each build; the positions do not
            star = await conn.fetchrow("SELECT * FROM live.star WHERE ra = $1 AND dec = $2", t["ra"], t["dec"])
            assert star["p_ldd"] == pytest.approx(0.5 + i, rel=1e-6)
            assert star["p_ldd_e"] == pytest.approx(0.05, rel=1e-6)
            assert star["p_ldd_o"] == ORIGIN_CODE["II/346/jsdc_v2"]
            assert star["p_v"] == pytest.approx(7.5 + i, rel=1e-6) and star["p_ud_k"] is not None
        sources = await conn.fetchval("SELECT sources FROM live.snapshot_info")
        assert "jsdc" in sources and len(sources["jsdc"]["sha256"]) == 64
    finally:
        await conn.close()
