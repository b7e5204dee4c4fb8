"""The entry point: SearchCal's computation for N stars at once, as getstar property columns.

See the package docstring (:mod:`getstar.astro`) for the interface and what differs from
SearchCal.  This module wires the pieces in SearchCal's order (``sclsvrCALIBRATOR::Complete``):
decode the spectral type, Teff/logg from it, diameters (with the spectral-type sampling),
UD from LDD, CalFlag; getstar's own estimates of missing magnitudes come first when asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from getstar.astro import diameters as diam
from getstar.astro.calflag import cal_flag
from getstar.astro.ld2ud import teff_logg_from_sptype, uniform_disks
from getstar.astro.magnitudes import OUTPUT_NAME as MAG_OUTPUT_NAME
from getstar.astro.magnitudes import av_prior, estimate_missing
from getstar.astro.sptype import SpectralType, decode, fixed_sptype
from getstar.astro.tables import BANDS, UD_BANDS

NO, LOW, MEDIUM, HIGH = 0, 1, 2, 3
#: Origin of every value this package produces.
ORIGIN = "computed"


class AstroInputError(ValueError):
    """The arrays given to :func:`compute_stars` are inconsistent (lengths, band names, method)."""


@dataclass
class Band:
    """One photometric band for N stars.

    ``value`` NaN = no magnitude; ``error`` NaN = unknown; ``estimated`` True = not a catalogue
    value (an estimate: Gaia relation, colour table …); ``confidence`` GetStar confidence of the
    value (default HIGH for catalogue values, LOW for estimates); ``is_2mass`` (J, H, K only)
    True when the value is 2MASS photometry, which SearchCal's polynomials are calibrated on.
    """

    value: Sequence[float] | np.ndarray
    error: Sequence[float] | np.ndarray | None = None
    estimated: Sequence[bool] | np.ndarray | None = None
    confidence: Sequence[int] | np.ndarray | None = None
    is_2mass: Sequence[bool] | np.ndarray | None = None


@dataclass
class Column:
    """One output property for N stars: value, error (or None), confidence (0 = no value)."""

    value: np.ndarray
    confidence: np.ndarray
    error: np.ndarray | None = None
    origin: str = ORIGIN


@dataclass
class AstroResult:
    """Column arrays named after ``getstar.properties`` (``LDD``, ``UD_K``, ``CalFlag`` …)."""

    n: int
    columns: dict[str, Column] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Column:
        return self.columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self.columns


def _array(x: object, n: int, dtype: type, fill: object, name: str) -> np.ndarray:
    if x is None:
        return np.full(n, fill, dtype=dtype)
    arr = np.asarray(x)
    if arr.shape != (n,):
        raise AstroInputError(f"{name}: expected {n} values, got shape {arr.shape}")
    if dtype is float:
        out = np.array(arr, dtype=np.float64)
        return out
    if dtype is bool:
        return np.array(arr, dtype=bool)
    return np.array(arr, dtype=dtype)


def _bands(bands: Mapping[str, Band], n: int) -> dict[str, dict[str, np.ndarray]]:
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, band in bands.items():
        if name not in BANDS:
            raise AstroInputError(f"unknown band {name!r}: one of {', '.join(BANDS)}")
        value = _array(band.value, n, float, np.nan, f"{name}.value")
        error = _array(band.error, n, float, np.nan, f"{name}.error")
        est = _array(band.estimated, n, bool, False, f"{name}.estimated")
        default_conf = np.where(est, LOW, HIGH).astype(np.int8)
        conf = default_conf if band.confidence is None else \
            _array(band.confidence, n, np.int8, HIGH, f"{name}.confidence")
        conf = np.where(np.isnan(value), np.int8(NO), conf).astype(np.int8)
        two = None if band.is_2mass is None else _array(band.is_2mass, n, bool, True, f"{name}.is_2mass")
        out[name] = {"value": value, "error": error, "estimated": est & ~np.isnan(value), "confidence": conf}
        if two is not None:
            out[name]["is_2mass"] = two
    for name in BANDS:
        if name not in out:
            out[name] = {"value": np.full(n, np.nan), "error": np.full(n, np.nan),
                         "estimated": np.zeros(n, dtype=bool), "confidence": np.zeros(n, dtype=np.int8)}
    return out


#: Stars computed together: arrays of one chunk stay in the processor's cache (measured 2x faster
#: than whole-array numpy on 500,000 stars).
CHUNK = 16384


def compute_stars(sptype: Sequence[str | None] | np.ndarray, bands: Mapping[str, Band], *,
                  method: str = "current", estimate_magnitudes: bool = True,
                  av: Sequence[float] | np.ndarray | None = None, e_av: Sequence[float] | np.ndarray | None = None,
                  plx: Sequence[float] | np.ndarray | None = None, e_plx: Sequence[float] | np.ndarray | None = None,
                  sbc9: Sequence[bool] | np.ndarray | None = None, wds: Sequence[bool] | np.ndarray | None = None,
                  sep1: Sequence[float] | np.ndarray | None = None, sep2: Sequence[float] | np.ndarray | None = None,
                  objtypes: Sequence[str | None] | np.ndarray | None = None,
                  xmatch_flag: Sequence[int] | np.ndarray | None = None) -> AstroResult:
    """SearchCal's diameters and related properties for N stars (see :mod:`getstar.astro`)."""
    if method not in diam.METHODS:
        raise AstroInputError(f"unknown method {method!r}: one of {', '.join(diam.METHODS)}")
    sp_arr = np.asarray(sptype, dtype=object)
    if sp_arr.ndim != 1:
        raise AstroInputError("sptype: expected a 1-d sequence of strings")
    n = len(sp_arr)
    b = _bands(bands, n)
    extra: dict[str, np.ndarray | None] = {
        "av": None if av is None else _array(av, n, float, np.nan, "av"),
        "e_av": None if e_av is None else _array(e_av, n, float, np.nan, "e_av"),
        "plx": None if plx is None else _array(plx, n, float, np.nan, "plx"),
        "e_plx": None if e_plx is None else _array(e_plx, n, float, np.nan, "e_plx"),
        "sbc9": None if sbc9 is None else _array(sbc9, n, bool, False, "sbc9"),
        "wds": None if wds is None else _array(wds, n, bool, False, "wds"),
        "sep1": None if sep1 is None else _array(sep1, n, float, np.nan, "sep1"),
        "sep2": None if sep2 is None else _array(sep2, n, float, np.nan, "sep2"),
        "objtypes": None if objtypes is None else _objects(objtypes, n, "objtypes"),
        "xmatch_flag": None if xmatch_flag is None else _array(xmatch_flag, n, np.int64, 0, "xmatch_flag"),
    }
    # Spectral types: decode each distinct string once.
    uniq, inverse = _factorize(sp_arr)
    decoded = [decode(s) for s in uniq]
    tl_u = np.array([teff_logg_from_sptype(x) for x in decoded], dtype=np.float64).reshape(-1, 2)

    parts = []
    for start in range(0, n, CHUNK):
        sl = slice(start, min(n, start + CHUNK))
        bs = {k: {f: a[sl] for f, a in v.items()} for k, v in b.items()}
        ex = {k: (None if a is None else a[sl]) for k, a in extra.items()}
        parts.append(_chunk(decoded, inverse[sl], tl_u, bs, ex, method, estimate_magnitudes))
    res = AstroResult(n)
    if not parts:
        parts.append(_chunk(decoded, inverse[:0], tl_u, b, extra, method, estimate_magnitudes))
    for name in parts[0]:
        cols = [p[name] for p in parts]
        error = None if cols[0].error is None else np.concatenate([c.error for c in cols])  # type: ignore[misc]
        res.columns[name] = Column(np.concatenate([c.value for c in cols]),
                                   np.concatenate([c.confidence for c in cols]), error)
    for name in MAG_OUTPUT_NAME.values():  # estimated magnitudes: only the bands that got one
        if name in res.columns and not (res.columns[name].confidence > NO).any():
            del res.columns[name]
    return res


def _objects(x: object, n: int, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=object)
    if arr.shape != (n,):
        raise AstroInputError(f"{name}: expected {n} values, got shape {arr.shape}")
    return arr


def _chunk(decoded: list[SpectralType], inverse: np.ndarray, tl_u: np.ndarray, b: dict[str, dict[str, np.ndarray]],
           extra: dict[str, np.ndarray | None], method: str, estimate_magnitudes: bool) -> dict[str, Column]:
    """Every output column for one chunk of stars (SearchCal's order of steps)."""
    n = len(inverse)
    idx_u = np.array([d.color_table_index for d in decoded], dtype=np.int32)
    delta_u = np.array([d.color_table_delta for d in decoded], dtype=np.int32)
    lum_u = np.array([d.lum_class for d in decoded], dtype=np.int32)
    lumd_u = np.array([d.lum_class_delta for d in decoded], dtype=np.int32)
    color_index, color_delta = idx_u[inverse], delta_u[inverse]
    lum_class, lum_delta = lum_u[inverse], lumd_u[inverse]
    faint = (color_index == -1) | (color_delta == -1)

    # getstar: estimate missing magnitudes from the spectral type and the catalogue ones.
    est_cols: dict[str, Column] = {}
    if estimate_magnitudes:
        prior = av_prior(n, extra["av"], extra["e_av"], extra["plx"], extra["e_plx"])
        est = estimate_missing(decoded, inverse, b, *prior)
        for name, (value, error) in est.items():
            fill = ~np.isnan(value) & np.isnan(b[name]["value"])
            est_cols[MAG_OUTPUT_NAME[name]] = Column(np.where(fill, value, np.nan),
                                                     np.where(fill, np.int8(LOW), np.int8(NO)),
                                                     np.where(fill, error, np.nan))
            if fill.any():
                b[name]["value"] = np.where(fill, value, b[name]["value"])
                b[name]["error"] = np.where(fill, error, b[name]["error"])
                b[name]["estimated"] = b[name]["estimated"] | fill
                b[name]["confidence"] = np.where(fill, np.int8(LOW), b[name]["confidence"]).astype(np.int8)

    # Diameters (V-J, V-H, V-K).
    order = ("V",) + diam.DIAM_BANDS
    value = np.stack([b[k]["value"] for k in order], axis=1)
    error = np.stack([b[k]["error"] for k in order], axis=1)
    conf = np.stack([b[k]["confidence"] for k in order], axis=1)
    two = None
    if any("is_2mass" in b[k] for k in diam.DIAM_BANDS):
        two = np.stack([b[k].get("is_2mass", np.ones(n, dtype=bool)) for k in diam.DIAM_BANDS], axis=1)
    mags = diam.prepare_magnitudes(value, error, conf, faint, method=method, is_2mass=two)
    estimated = np.stack([b[k]["estimated"] for k in order], axis=1) & ~np.isnan(mags.value)
    d = diam.compute(mags, color_index, color_delta, faint, method=method, coarse=estimated.any(axis=1))
    _estimated_inputs(d, estimated)

    # UD from LDD at the (fixed) index; Teff / logg.
    ud_index = np.where(d.fixed_index >= 0, d.fixed_index, color_index)
    ud, teff_ud, logg_ud = uniform_disks(np.where(d.flag, d.ldd, np.nan), ud_index, lum_class)
    teff_sp, logg_sp = tl_u[inverse, 0], tl_u[inverse, 1]
    if method == "current":  # table first, UD table (faint stars) second
        teff = np.where(np.isnan(teff_sp), teff_ud, teff_sp)
        logg = np.where(np.isnan(teff_sp), logg_ud, logg_sp)
    else:  # 2017: the UD computation came first
        teff = np.where(np.isnan(teff_ud), teff_sp, teff_ud)
        logg = np.where(np.isnan(teff_ud), logg_sp, logg_ud)

    flags = cal_flag(d.chi2, color_index, color_delta, method=method, n=n, sbc9=extra["sbc9"], wds=extra["wds"],
                     sep1=extra["sep1"], sep2=extra["sep2"], objtypes=extra["objtypes"],
                     xmatch_flag=extra["xmatch_flag"])
    cols: dict[str, Column] = {}
    _write(cols, n, d, ud, teff, logg, flags, color_index, color_delta, lum_class, lum_delta, decoded, inverse)
    cols.update(est_cols)
    return cols


def _factorize(values: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Distinct values (non-strings count as "") and each value's position among them.

    A dict pass over a list, O(n): sorting an object array (``np.unique``) costs 10x more.
    """
    codes: dict[object, int] = {}
    inverse = np.array([codes.setdefault(v, len(codes)) for v in values.tolist()], dtype=np.int64)
    return [k if isinstance(k, str) else "" for k in codes], inverse


def _estimated_inputs(d: diam.DiameterResult, estimated: np.ndarray) -> None:
    """getstar: a diameter from estimated magnitudes is at most LOW, says so, and has an honest error.

    Estimates of J, H, K share their source (one relation, one spectral type), so their errors
    are correlated, which SearchCal's covariance (independent magnitudes) does not know: the
    weighted mean would look more precise than any single colour.  Here the LDD error is at
    least the smallest error of a colour diameter that uses an estimate.
    """
    any_est = estimated.any(axis=1) & d.flag
    if not any_est.any():
        return
    col_est = estimated[:, 1:] | estimated[:, :1]
    d.diam_conf = np.where(col_est & (d.diam_conf > LOW), np.int8(LOW), d.diam_conf).astype(np.int8)
    with np.errstate(invalid="ignore"):
        rel_col = np.where(col_est, d.e_diam / d.diam, np.inf).min(axis=1)
        rel_ldd = d.e_ldd / d.ldd
        floor = np.sqrt(rel_col**2 + 0.02**2)
    bump = any_est & np.isfinite(rel_col) & (floor > rel_ldd)
    d.e_ldd = np.where(bump, floor * d.ldd, d.e_ldd)
    d.e_ldd_rel = np.where(bump, 100.0 * floor, d.e_ldd_rel)
    d.ldd_conf = np.where(any_est & (d.ldd_conf > LOW), np.int8(LOW), d.ldd_conf).astype(np.int8)
    names = ("V", "J", "H", "K")
    code = estimated.astype(np.int64) @ np.array([1, 2, 4, 8])
    labels = np.array(["ESTIMATED[" + ",".join(nm for k, nm in enumerate(names) if c >> k & 1) + "]"
                       for c in range(16)], dtype=object)
    rows = np.flatnonzero(any_est)
    old = d.info[rows]
    label = labels[code[rows]]
    d.info[rows] = np.where(old == "", label, old + " " + label)


def _write(cols: dict[str, Column], n: int, d: diam.DiameterResult, ud: np.ndarray, teff: np.ndarray,
           logg: np.ndarray, flags: np.ndarray, color_index: np.ndarray, color_delta: np.ndarray,
           lum_class: np.ndarray, lum_delta: np.ndarray, decoded: list[SpectralType], inverse: np.ndarray) -> None:
    ldd_ok = d.flag
    for k, name in enumerate(diam.COLOUR_NAMES):
        has = ~np.isnan(d.diam[:, k])
        cols[f"diam_{name}"] = Column(d.diam[:, k], np.where(has, d.diam_conf[:, k], np.int8(NO)), d.e_diam[:, k])
    cols["LDD"] = Column(np.where(ldd_ok, d.ldd, np.nan), np.where(ldd_ok, d.ldd_conf, np.int8(NO)),
                         np.where(ldd_ok, d.e_ldd, np.nan))
    cols["e_LDD_rel"] = Column(np.where(ldd_ok, d.e_ldd_rel, np.nan), np.where(ldd_ok, d.ldd_conf, np.int8(NO)))
    has_chi2 = ~np.isnan(d.chi2)
    cols["diam_chi2"] = Column(d.chi2, np.where(has_chi2, d.chi2_conf, np.int8(NO)))
    cols["diam_count"] = Column(d.count, np.full(n, HIGH, dtype=np.int8))
    cols["diamFlag"] = Column(d.flag, np.full(n, HIGH, dtype=np.int8))
    has_info = d.info != ""
    cols["diamFlagInfo"] = Column(d.info, np.where(has_info, np.int8(HIGH), np.int8(NO)))
    cols["CalFlag"] = Column(flags, np.full(n, HIGH, dtype=np.int8))
    for k, band in enumerate(UD_BANDS):
        has = ~np.isnan(ud[:, k])
        cols[f"UD_{band}"] = Column(ud[:, k], np.where(has, d.ldd_conf, np.int8(NO)))
    has_t = ~np.isnan(teff)
    cols["Teff_SpType"] = Column(teff, np.where(has_t, np.int8(HIGH), np.int8(NO)))
    cols["logg_SpType"] = Column(logg, np.where(~np.isnan(logg), np.int8(HIGH), np.int8(NO)))
    sp_set = color_index != -1
    cols["color_table_index"] = Column(color_index, np.where(sp_set, np.int8(HIGH), np.int8(NO)))
    cols["color_table_delta"] = Column(color_delta, np.where(sp_set, np.int8(HIGH), np.int8(NO)))
    cols["lum_class"] = Column(lum_class, np.where(lum_class != -1, np.int8(HIGH), np.int8(NO)))
    cols["lum_class_delta"] = Column(lum_delta, np.where(lum_delta != -1, np.int8(HIGH), np.int8(NO)))
    fixed = d.fixed_index >= 0
    cols["color_table_index_fix"] = Column(d.fixed_index, np.where(fixed, np.int8(HIGH), np.int8(NO)))
    cols["color_table_delta_fix"] = Column(d.fixed_delta, np.where(fixed & (d.fixed_delta > 0), np.int8(HIGH),
                                                                   np.int8(NO)))
    # SpType_JMMC: the decoded spelling, replaced by the fitted one where the fit fixed it.
    jmmc_u = np.array([x.jmmc for x in decoded], dtype=object)
    lum_u = [x.luminosity for x in decoded]
    jmmc = jmmc_u[inverse].copy()
    rows = np.flatnonzero(fixed)
    if len(rows):
        # Few distinct (index, delta, luminosity class) triples: spell each once.
        lum_names, lum_code = _factorize(np.array(lum_u, dtype=object)[inverse[rows]])
        keys = (d.fixed_index[rows].astype(np.int64) * 1024 + d.fixed_delta[rows]) * 1024 + lum_code
        uk, kinv = np.unique(keys, return_inverse=True)
        texts = np.array([fixed_sptype(int(k // 1024 // 1024), int(k // 1024 % 1024), lum_names[int(k % 1024)])
                          for k in uk], dtype=object)
        jmmc[rows] = texts[kinv]
    has_j = jmmc != ""
    cols["SpType_JMMC"] = Column(jmmc, np.where(has_j, np.int8(HIGH), np.int8(NO)))
    sb = np.array([x.spectral_binary for x in decoded], dtype=bool)[inverse]
    dbl = np.array([x.double for x in decoded], dtype=bool)[inverse]
    cols["BinFlag"] = Column(np.where(sb, "SB", ""), np.where(sb, np.int8(HIGH), np.int8(NO)))
    cols["MultFlag"] = Column(np.where(dbl, "S", ""), np.where(dbl, np.int8(HIGH), np.int8(NO)))
