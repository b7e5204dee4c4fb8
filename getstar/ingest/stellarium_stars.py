"""Stellarium's binary star catalogues (Debian ``stellarium-data``, 0.22 era): V, B−V, spectral types.

Layout (written fresh from Stellarium's ``Star.hpp``, ``ZoneArray.cpp`` and
``StelGeodesicGrid.cpp``): a header of 8 little-endian u32 (magic ``0x835f040a``, record
type, major, minor, level, mag_min [millimag, signed], mag_range, mag_steps), one u32 star
count per zone (20·4^level zones of Stellarium's geodesic grid), then the records zone by
zone.  ``Star1`` (type 0, 28 bytes: Hipparcos stars) holds HIP, a component index, two
int32 offsets in the zone's tangent frame, B−V, V, a spectral-type index and proper motion
/ parallax; ``Star2`` (type 1, 10 bytes, Tycho-2 stars) packs x0:20, x1:20, dx0:14,
dx1:14, B−V:7, V:5 bits.  A position is normalise(centre + x0·axis0 + x1·axis1) with the
axes scaled by the level's largest extent over ``MaxPosVal``; the proper motion, in units
of 0.1 mas/yr, moves it along the same axes.

Traps measured on the 0.22 files (``shared/data/SOURCES.md``): magnitudes are rounded
*down* to 0.05-mag steps (we add half a step), the stored proper motions are rough, a few
fast movers sit near epoch 1991.25, and one HIP number may have up to 4 component records.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from getstar.errors import IngestError

MAGIC = 0x835F040A
#: Star1 catalogues (Hipparcos) and the Star2 one (Tycho-2), as Debian ships them.
STAR1_FILES = ("stars_0_0v0_8.cat", "stars_1_0v0_8.cat", "stars_2_0v0_8.cat")
STAR2_FILES = ("stars_3_1v0_4.cat",)
SPECTRAL_FILE = "stars_hip_sp_0v0_4.cat"
COMPONENT_FILE = "stars_hip_cids_0v0_0.cat"
#: Largest HIP number Stellarium accepts (``NR_OF_HIP``): a few stars beyond Hipparcos' 118,218.
MAX_HIP = 120416
#: Epoch of the catalogue positions (most stars; see the module docstring for the exceptions).
EPOCH = 2000.0

STAR1 = np.dtype([("hip_lo", "<u2"), ("hip_hi", "i1"), ("component", "u1"), ("x0", "<i4"), ("x1", "<i4"),
                  ("bv", "u1"), ("mag", "u1"), ("sp", "<u2"), ("dx0", "<i4"), ("dx1", "<i4"), ("plx", "<i4")])
STAR2_SIZE = 10
MAX_POS = {0: 0x7FFFFFFF, 1: (1 << 19) - 1}

# the icosahedron of StelGeodesicGrid: 12 corners, 20 faces (corner indices, in Stellarium's order)
_G = 0.5 * (1.0 + np.sqrt(5.0))
_B = 1.0 / np.sqrt(1.0 + _G * _G)
_A = _B * _G
ICOSAHEDRON_CORNERS = np.array([
    (_A, -_B, 0.0), (_A, _B, 0.0), (-_A, _B, 0.0), (-_A, -_B, 0.0),
    (0.0, _A, -_B), (0.0, _A, _B), (0.0, -_A, _B), (0.0, -_A, -_B),
    (-_B, 0.0, _A), (_B, 0.0, _A), (_B, 0.0, -_A), (-_B, 0.0, -_A),
])
ICOSAHEDRON_FACES = np.array([
    (1, 0, 10), (0, 1, 9), (0, 9, 6), (9, 8, 6), (0, 7, 10), (6, 7, 0), (7, 6, 3), (6, 8, 3), (11, 10, 7),
    (7, 3, 11), (3, 2, 11), (2, 3, 8), (10, 11, 4), (2, 4, 11), (5, 4, 2), (2, 8, 5), (4, 1, 10), (4, 5, 1),
    (5, 9, 1), (8, 9, 5),
])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def grid_triangles(level: int) -> np.ndarray:
    """Corners (n, 3, 3) of the 20·4^level zones of ``level``, in Stellarium's zone order.

    Child k of zone i is zone 4i + k: (c0, e2, e1), (e2, c1, e0), (e1, e0, c2), (e0, e1, e2)
    with e0, e1, e2 the normalised midpoints opposite c0, c1, c2.
    """
    tri = ICOSAHEDRON_CORNERS[ICOSAHEDRON_FACES]
    for _ in range(level):
        c0, c1, c2 = tri[:, 0], tri[:, 1], tri[:, 2]
        e0, e1, e2 = _unit(c1 + c2), _unit(c2 + c0), _unit(c0 + c1)
        children = np.stack([
            np.stack([c0, e2, e1], axis=1), np.stack([e2, c1, e0], axis=1),
            np.stack([e1, e0, c2], axis=1), np.stack([e0, e1, e2], axis=1),
        ], axis=1)
        tri = children.reshape(-1, 3, 3)
    return tri


@dataclass(frozen=True)
class ZoneFrames:
    """Centre and (scaled) axes of every zone of one level, for one record type."""

    center: np.ndarray
    axis0: np.ndarray
    axis1: np.ndarray


def zone_frames(level: int, max_pos: int) -> ZoneFrames:
    tri = grid_triangles(level)
    center = _unit(tri.sum(axis=1))
    north = np.array([0.0, 0.0, 1.0])
    axis0 = _unit(np.cross(north, center))
    axis1 = np.cross(center, axis0)
    # the scale: the largest tangent-plane coordinate of any corner of any zone of the level
    d = tri - center[:, None, :]
    mu0 = np.einsum("zck,zk->zc", d, axis0)
    mu1 = np.einsum("zck,zk->zc", d, axis1)
    f = 1.0 / np.sqrt(1.0 - mu0 * mu0 - mu1 * mu1)
    scale = max(float(np.max(np.abs(mu0) * f)), float(np.max(np.abs(mu1) * f))) / max_pos
    return ZoneFrames(center, axis0 * scale, axis1 * scale)


@dataclass(frozen=True)
class Header:
    kind: int
    level: int
    mag_min: int
    mag_range: int
    mag_steps: int
    zone_sizes: np.ndarray
    data_offset: int


def read_header(path: Path, raw: bytes) -> Header:
    if len(raw) < 32:
        raise IngestError(str(path), None, "file shorter than its 32-byte header")
    magic, kind, _major, _minor, level, mag_min, mag_range, mag_steps = struct.unpack("<8I", raw[:32])
    if magic != MAGIC:
        raise IngestError(str(path), None, f"not a Stellarium star catalogue (magic {magic:#x})")
    if kind not in (0, 1):
        raise IngestError(str(path), None, f"record type {kind} not supported (0: Star1, 1: Star2)")
    if level > 7 or mag_steps == 0:
        raise IngestError(str(path), None, f"implausible header: level {level}, {mag_steps} magnitude steps")
    n_zones = 20 * 4 ** level
    offset = 32 + 4 * n_zones
    if len(raw) < offset:
        raise IngestError(str(path), None, f"file too short for the {n_zones} zone counts of level {level}")
    sizes = np.frombuffer(raw, dtype="<u4", count=n_zones, offset=32).astype(np.int64)
    record = STAR1.itemsize if kind == 0 else STAR2_SIZE
    expected = offset + int(sizes.sum()) * record
    if len(raw) != expected:
        present = (len(raw) - offset) // record
        raise IngestError(str(path), present + 1,
                          f"file holds {len(raw)} bytes, its zone counts announce {int(sizes.sum())} "
                          f"records ({expected} bytes)")
    signed_min = struct.unpack("<i", struct.pack("<I", mag_min))[0]
    return Header(kind, level, signed_min, mag_range, mag_steps, sizes, offset)


def _bits(lo: np.ndarray, hi: np.ndarray, shift: int, width: int, *, signed: bool) -> np.ndarray:
    """Bits [shift, shift + width) of the 80-bit little-endian records held as (lo: 0..63, hi: 64..79)."""
    mask = (1 << width) - 1
    if shift >= 64:
        v = (hi >> np.uint64(shift - 64)) & np.uint64(mask)
    elif shift + width <= 64:
        v = (lo >> np.uint64(shift)) & np.uint64(mask)
    else:
        low = 64 - shift
        v = (lo >> np.uint64(shift)) | ((hi & np.uint64((1 << (width - low)) - 1)) << np.uint64(low))
    out = v.astype(np.int64)
    if signed:
        out = np.where(out >= 1 << (width - 1), out - (1 << width), out)
    return out.astype(np.float64)


def _to_radec(vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v = _unit(vec)
    ra = np.degrees(np.arctan2(v[:, 1], v[:, 0])) % 360.0
    dec = np.degrees(np.arcsin(np.clip(v[:, 2], -1.0, 1.0)))
    return ra, dec


def _proper_motion(pos: np.ndarray, dpos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pmRA·cosδ, pmDec) in mas/yr from a position and its yearly tangent displacement (radians)."""
    p = _unit(pos)
    east = _unit(np.cross(np.array([0.0, 0.0, 1.0]), p))
    north = np.cross(p, east)
    mas = np.degrees(1.0) * 3600e3
    return np.einsum("ij,ij->i", dpos, east) * mas, np.einsum("ij,ij->i", dpos, north) * mas


def read_catalogue(path: Path) -> dict[str, np.ndarray]:
    """Every record of one zone file: ra, dec (deg, J2000), pm (mas/yr), V (centred), B−V, and for
    Star1 files hip, component, sp (spectral-type index) and plx (mas)."""
    raw = Path(path).read_bytes()
    h = read_header(path, raw)
    n = int(h.zone_sizes.sum())
    zone = np.repeat(np.arange(len(h.zone_sizes)), h.zone_sizes)
    frames = zone_frames(h.level, MAX_POS[h.kind])
    out: dict[str, np.ndarray] = {}
    if h.kind == 0:
        rec = np.frombuffer(raw, dtype=STAR1, count=n, offset=h.data_offset)
        hip = rec["hip_lo"].astype(np.int64) | (rec["hip_hi"].astype(np.int64) << 16)
        x0, x1 = rec["x0"].astype(np.float64), rec["x1"].astype(np.float64)
        dx0, dx1 = rec["dx0"].astype(np.float64), rec["dx1"].astype(np.float64)
        mag, bv = rec["mag"].astype(np.int64), rec["bv"].astype(np.int64)
        out.update(hip=hip, component=rec["component"].astype(np.int64), sp=rec["sp"].astype(np.int64),
                   plx=rec["plx"].astype(np.float64) * 0.01)
        bad = (hip < 0) | (hip > MAX_HIP)
        if bad.any():
            row = int(np.argmax(bad))
            raise IngestError(str(path), row + 1, f"HIP number {int(hip[row])} out of range 0..{MAX_HIP}")
    else:
        b = np.frombuffer(raw, dtype=np.uint8, count=n * STAR2_SIZE, offset=h.data_offset).reshape(n, STAR2_SIZE)
        lo = b[:, :8].copy().view("<u8").ravel()  # bits 0..63
        hi = b[:, 8].astype(np.uint64) | (b[:, 9].astype(np.uint64) << np.uint64(8))  # bits 64..79
        x0 = _bits(lo, hi, 0, 20, signed=True)
        x1 = _bits(lo, hi, 20, 20, signed=True)
        dx0 = _bits(lo, hi, 40, 14, signed=True)
        dx1 = _bits(lo, hi, 54, 14, signed=True)  # straddles the two words
        bv = _bits(lo, hi, 68, 7, signed=False).astype(np.int64)
        mag = _bits(lo, hi, 75, 5, signed=False).astype(np.int64)
    a0, a1 = frames.axis0[zone], frames.axis1[zone]
    pos = frames.center[zone] + x0[:, None] * a0 + x1[:, None] * a1
    out["ra"], out["dec"] = _to_radec(pos)
    # dx in 0.1 mas/yr along the scaled axes: divide the scale back out
    scale = np.linalg.norm(frames.axis0[0])
    dpos = (dx0[:, None] * a0 + dx1[:, None] * a1) / scale * np.radians(1e-4 / 3600.0)
    out["pmra"], out["pmdec"] = _proper_motion(pos, dpos)
    step = h.mag_range / 1000.0 / h.mag_steps
    # rounded down to the step when written: the centre of the step is half a step above
    out["v"] = h.mag_min / 1000.0 + mag * step + step / 2.0
    out["v_step"] = np.full(n, step)
    out["b_v"] = bv * (4.0 / 127.0) - 0.5
    out["zone"] = zone
    return out


def read_lines(path: Path) -> list[str]:
    """A Stellarium index file (spectral types, component letters): line i is index i."""
    try:
        return Path(path).read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise IngestError(str(path), None, f"not UTF-8 text: {exc}") from None


def find(root: Path, name: str) -> Path:
    for cand in (root / "stars" / "default" / name, root / name):
        if cand.exists():
            return cand
    raise IngestError(str(root / name), None, "file not found (install Debian's stellarium-data)")


def files(root: Path) -> list[Path]:
    return [find(root, n) for n in (*STAR1_FILES, *STAR2_FILES, SPECTRAL_FILE, COMPONENT_FILE)]


def read(root: Path) -> Iterator[tuple[str, dict[str, np.ndarray]]]:
    """("star1" | "star2", columns) per catalogue file; Star1 columns gain ``sptype`` and ``comp``."""
    sptypes = read_lines(find(root, SPECTRAL_FILE))
    comps = read_lines(find(root, COMPONENT_FILE))
    for name in STAR1_FILES:
        path = find(root, name)
        cols = read_catalogue(path)
        for key, table, what in (("sp", sptypes, "spectral type"), ("component", comps, "component")):
            bad = cols[key] >= len(table)
            if bad.any():
                row = int(np.argmax(bad))
                raise IngestError(str(path), row + 1, f"{what} index {int(cols[key][row])} beyond the "
                                                      f"{len(table)} lines of its index file")
        cols["sptype"] = np.array([sptypes[i].strip() for i in cols["sp"]], dtype=object)
        cols["comp"] = np.array([comps[i].strip() for i in cols["component"]], dtype=object)
        yield "star1", cols
    for name in STAR2_FILES:
        yield "star2", read_catalogue(find(root, name))


def errors(kind: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(e_V, e_(B−V)) of a record: a precision model measured on the 0.22 files.

    Hipparcos records (kind 1): V against SIMBAD's V for 8,921 bright stars has a robust
    scatter of 0.022 mag and B−V of 0.017 (``shared/data/SOURCES.md``), the 0.05-mag
    rounding included.  Tycho-2 records (kinds 2, 3): V against the Gaia DR3 estimate of V
    (G, BP−RP; relation scatter 0.03) has a robust scatter growing from 0.036 at V 9.0 to
    0.072 at V 10.3 (measured here, nearest Gaia source within 1.5″): e_V = max(0.03,
    0.035 + 0.025 (V − 9)); Tycho's B−V comes from BT − VT, whose BT is the noisier band:
    taken as twice e_V.
    """
    kind = np.asarray(kind)
    tycho = np.maximum(0.03, 0.035 + 0.025 * (np.asarray(v, dtype=np.float64) - 9.0))
    e_v = np.where(kind == 1, 0.022, tycho)
    e_bv = np.where(kind == 1, 0.017, 2.0 * tycho)
    return e_v, e_bv


SYSTEM_DIR = Path("/usr/share/stellarium")


def default_dir(shared_data: Path | None) -> Path:
    """Debian's installed ``stellarium-data``, else the project's ``shared/data/stellarium``."""
    if (SYSTEM_DIR / "stars" / "default" / STAR1_FILES[0]).exists():
        return SYSTEM_DIR
    if shared_data and (shared_data / "stellarium" / STAR1_FILES[0]).exists():
        return shared_data / "stellarium"
    raise IngestError(str(SYSTEM_DIR), None, "Stellarium star catalogues not found: apt-get install stellarium-data")
