"""Validation against real SearchCal answers: read a ``.scvot``, feed its inputs, compare outputs.

Used by the tests (``tests/test_astro_searchcal.py``), ``bench/diameters.py`` and, if the lead
wires it, ``getstar report``.  Files are read where they are (``shared/``), never copied.

* :func:`read_answer` reads a SearchCal VOTable with astropy, whichever of its two shapes:
  origin / confidence as FIELDs (legacy strings, or integer codes), or constant ones written
  once as PARAMs bound through ``PARAMref`` (SearchCal's trimmed output).
* :func:`inputs_of` turns its columns into :func:`getstar.astro.compute_stars` arguments.
* :func:`agreement` compares one of our columns with one of SearchCal's.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from getstar.astro.compute import Band

#: SearchCal's confidence names (legacy answers spell them out).
_CONFIDENCE = {"NO": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3}
#: 2MASS, the photometry SearchCal's diameter polynomials are calibrated on.
TWOMASS = "II/246/out"


@dataclass
class SearchCalAnswer:
    """The columns of one SearchCal answer, with origins and confidences resolved to names / 0..3."""

    path: Path
    version: str
    nrows: int
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    origin_names: dict[int, str] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.columns

    def values(self, name: str) -> np.ndarray:
        """A numeric column as float64, NaN where empty (or all NaN when the column is absent)."""
        col = self.columns.get(name)
        if col is None:
            return np.full(self.nrows, np.nan)
        data = np.ma.asarray(col)
        if data.dtype.kind in "OUS":
            out = np.full(self.nrows, np.nan)
            for i, v in enumerate(np.ma.filled(data, "")):
                try:
                    out[i] = float(v) if str(v).strip() else np.nan
                except ValueError:
                    out[i] = np.nan
            return out
        return np.ma.filled(data.astype(np.float64), np.nan)

    def strings(self, name: str) -> list[str]:
        col = self.columns.get(name)
        if col is None:
            return [""] * self.nrows
        return [("" if v is None or v is np.ma.masked else str(v)).strip() for v in np.ma.filled(col, "")]

    def _meta(self, name: str) -> np.ndarray | None:
        if name in self.columns:
            return np.ma.filled(np.ma.asarray(self.columns[name]), "" if
                                np.ma.asarray(self.columns[name]).dtype.kind in "OUS" else -1)
        if name in self.params:
            return np.full(self.nrows, self.params[name], dtype=object)
        return None

    def origin(self, name: str) -> list[str]:
        """Origin (catalogue) of each value of a property ('' where unknown)."""
        raw = self._meta(f"{name}.origin")
        if raw is None:
            return [""] * self.nrows
        out = []
        for v in raw:
            if isinstance(v, (int, np.integer)):
                out.append(self.origin_names.get(int(v), ""))
            else:
                out.append(str(v).strip())
        return out

    def confidence(self, name: str) -> np.ndarray:
        """Confidence 0..3 of each value of a property (HIGH where the answer gives none)."""
        raw = self._meta(f"{name}.confidence")
        if raw is None:
            return np.full(self.nrows, 3, dtype=np.int8)
        out = np.full(self.nrows, 3, dtype=np.int8)
        for i, v in enumerate(raw):
            if isinstance(v, (int, np.integer)):
                out[i] = int(v) if 0 <= int(v) <= 3 else 3
            elif str(v).strip().upper() in _CONFIDENCE:
                out[i] = _CONFIDENCE[str(v).strip().upper()]
        return out


def read_answer(path: str | Path) -> SearchCalAnswer:
    """Read a SearchCal / GetStar VOTable (``.scvot``) with astropy."""
    from astropy.io.votable import parse

    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vot = parse(str(path))
    resource = vot.resources[0]
    table = resource.tables[0]
    params = {p.name: p.value for p in table.params}
    names: dict[int, str] = {}
    for p in table.params:
        if p.name == "OriginIndexes" and p.values is not None:
            for opt in p.values.options:
                names[int(opt[1] if str(opt[1]).isdigit() else opt[0])] = str(opt[0] if str(opt[1]).isdigit()
                                                                               else opt[1])
    data = table.array
    columns = {f.name: data[f.ID] if f.ID in data.dtype.names else data[f.name] for f in table.fields}
    return SearchCalAnswer(path, str(resource.name or ""), len(data), columns, params, names)


def inputs_of(ans: SearchCalAnswer, bands: Sequence[str] = ("B", "V", "J", "H", "K")) -> dict[str, Any]:
    """``compute_stars`` arguments from a SearchCal answer's own inputs (magnitudes, SpType, flags)."""
    args: dict[str, Any] = {"sptype": ans.strings("SpType")}
    mags = {}
    for b in bands:
        if not ans.has(b):
            continue
        origins = ans.origin(b)
        two = np.array([o == TWOMASS for o in origins]) if b in "JHK" else None
        mags[b] = Band(ans.values(b), ans.values(f"e_{b}"), confidence=ans.confidence(b), is_2mass=two)
    args["bands"] = mags
    if ans.has("SBC9"):
        args["sbc9"] = np.array([bool(s) for s in ans.strings("SBC9")])
    if ans.has("WDS"):
        args["wds"] = np.array([bool(s) for s in ans.strings("WDS")])
        args["sep1"] = ans.values("sep1")
        args["sep2"] = ans.values("sep2")
    if ans.has("ObjTypes"):
        args["objtypes"] = np.array(ans.strings("ObjTypes"), dtype=object)
    if ans.has("plx"):
        args["plx"] = ans.values("plx")
        args["e_plx"] = ans.values("e_Plx")
    return args


@dataclass(frozen=True)
class Agreement:
    """How one of our columns compares with SearchCal's: relative differences |ours / theirs - 1|."""

    quantity: str
    n_reference: int
    n_ours: int
    n_both: int
    median: float
    p95: float
    max: float
    bias: float  # median of ours / theirs - 1 (signed)

    def row(self) -> str:
        return (f"{self.quantity:<22} {self.n_reference:>5} {self.n_ours:>5} {self.n_both:>5} "
                f"{100 * self.median:>8.4f}% {100 * self.p95:>8.4f}% {100 * self.max:>8.3f}% "
                f"{100 * self.bias:>+8.4f}%")


HEADER = (f"{'quantity':<22} {'ref':>5} {'ours':>5} {'both':>5} {'median':>9} {'p95':>9} {'max':>9} "
          f"{'bias':>9}")


def agreement(quantity: str, ours: np.ndarray, theirs: np.ndarray) -> Agreement:
    """Relative agreement on the stars where both have a value."""
    ours = np.asarray(ours, dtype=np.float64)
    theirs = np.asarray(theirs, dtype=np.float64)
    both = ~np.isnan(ours) & ~np.isnan(theirs) & (theirs != 0.0)
    rel = ours[both] / theirs[both] - 1.0
    absrel = np.abs(rel)
    nan = float("nan")
    return Agreement(quantity, int(np.sum(~np.isnan(theirs))), int(np.sum(~np.isnan(ours))), int(both.sum()),
                     float(np.median(absrel)) if len(rel) else nan,
                     float(np.percentile(absrel, 95)) if len(rel) else nan,
                     float(np.max(absrel)) if len(rel) else nan, float(np.median(rel)) if len(rel) else nan)


# --------------------------------------------------------------------------------------------
# The report: the agreement tables of bench/diameters.py (and ``getstar report`` if wired).

#: The answers, as paths relative to the project's shared folder.
ANSWERS = {
    "ETA_TAU (SearchCal v5.1.0, 2017)": "reference/getstar-samples/sclgui_SearchCal-ETA_TAU.scvot",
    "HD_32617 (SearchCal v3.8.1, 2011)": "data/searchcal/SearchCal-HD_32617.scvot",
    "HIP 1234 (SearchCal v3.7.5, 2011)": "reference/getstar-samples/aspro_SearchCal-hip1234.scvot",
}
JMDC = "data/jmdc/JMDC_full_20200730_final_lddUpdated.fits"


def searchcal_tables(shared: Path) -> list[str]:
    """Agreement with SearchCal on its own inputs, one table per answer and method."""
    from getstar.astro.compute import compute_stars
    from getstar.astro.tables import UD_BANDS

    lines: list[str] = []
    for label, rel in ANSWERS.items():
        path = shared / rel
        if not path.is_file():
            lines.append(f"{label}: {path} not found")
            continue
        ans = read_answer(path)
        for method in ("2017", "current"):
            res = compute_stars(**inputs_of(ans), method=method, estimate_magnitudes=False)
            lines += ["", f"{label}: {path.name}, {ans.nrows} rows, method={method}", HEADER]
            if ans.has("LDD"):
                pairs = [("LDD", "LDD"), ("e_LDD", None), ("diam_chi2", "diam_chi2"),
                         ("Teff_SpType", "Teff_SpType"), ("logg_SpType", "logg_SpType")]
                pairs += [(f"UD_{b}", f"UD_{b}") for b in UD_BANDS]
                for theirs, ours in pairs:
                    col = res["LDD"].error if ours is None else res[ours].value
                    assert col is not None
                    lines.append(agreement(theirs, col, ans.values(theirs)).row())
                flags = ans.values("CalFlag")
                same = int(np.sum(res["CalFlag"].value == flags))
                lines.append(f"{'CalFlag':<22} equal for {same} of {int(np.sum(~np.isnan(flags)))}")
            else:  # the former method: diam_vk of de-reddened V-K (Bonneau et al. 2006)
                for ours, theirs in (("LDD", "diam_vk"), ("diam_vk", "diam_vk"), ("UD_K", "UD_K"),
                                     ("UD_V", "UD_V")):
                    lines.append(agreement(f"{ours} vs {theirs}", res[ours].value, ans.values(theirs)).row())
    return lines


def jmdc_tables(shared: Path) -> list[str]:
    """GetStar's 2020 JMDC run: decoding keys (reproduced) and its diameters (not reproducible)."""
    path = shared / JMDC
    if not path.is_file():
        return [f"JMDC: {path} not found"]
    from astropy.io import fits

    from getstar.astro.compute import compute_stars
    from getstar.astro.sptype import decode

    with warnings.catch_warnings(), fits.open(path) as hdul:
        warnings.simplefilter("ignore")
        d = hdul[1].data
        _, first = np.unique(np.asarray(d["SIMBAD"]), return_index=True)
        d = d[np.sort(first)]
        sptypes = [str(s) for s in d["SPTYPE"]]
        keys = np.stack([np.asarray(d[c], dtype=np.int64) for c in (
            "COLOR_TABLE_INDEX", "COLOR_TABLE_DELTA", "LUM_CLASS", "LUM_CLASS_DELTA")], axis=1)
        cols = {c: np.asarray(d[c], dtype=np.float64) for c in (
            "V", "E_V", "J", "E_J", "H", "E_H", "K", "E_K", "LDD", "DIAM_VK", "TEFF_SPTYPE")}
        two = {b: np.asarray(d[f"{b}_ORIGIN"]) == 14 for b in "JHK"}
    mine = {s: decode(s) for s in set(sptypes)}
    same = sum(1 for s, k in zip(sptypes, keys, strict=True) if (
        mine[s].color_table_index, mine[s].color_table_delta, mine[s].lum_class, mine[s].lum_class_delta)
        == tuple(int(x) for x in k))
    res = compute_stars(sptypes, {b: Band(cols[b], cols[f"E_{b}"], is_2mass=two.get(b)) for b in "VJHK"},
                        method="2017", estimate_magnitudes=False)
    return ["", f"JMDC as GetStar processed it (2020): {path.name}, {len(sptypes)} stars",
            f"  spectral-type keys (colour-table index, delta, class, class delta) equal for {same} of "
            f"{len(sptypes)} stars ({len(mine)} distinct types)",
            "  its diameters are not reproducible from its own V, J, H, K (they differ from SearchCal's "
            "code on those inputs, correlated with its AV column: another pipeline):", HEADER,
            agreement("LDD (2017 rules)", res["LDD"].value, cols["LDD"]).row(),
            agreement("diam_vk (2017 rules)", res["diam_vk"].value, cols["DIAM_VK"]).row()]


def regression_table(source: str) -> list[str]:
    """SearchCal's own regression set for alxComputeAngularDiameters (573 JMDC stars, IDL values of
    2017-03-30, in ``alxAngularDiameter.c``): log10 diameters, errors, weighted mean; read, not copied."""
    import re

    from getstar.astro import diameters as diam

    row = re.compile(r"\{\s*\d+,\s*/\* SP \"[^\"]*\" idx \*/\s*(\d+),\s*/\*MAG\*/([^/]*)/\*EMAG\*/([^/]*)"
                     r"/\*DIAM\*/([^/]*)/\*EDIAM\*/([^/]*)/\*DMEAN\*/([^/]*)/\*EDMEAN\*/([^}]*)\}")
    indices: list[int] = []
    groups: list[list[list[float]]] = []
    for m in row.finditer(source):
        indices.append(int(m.group(1)))
        groups.append([[float(x) for x in g.replace("NaN", "nan").split(",") if x.strip()]
                       for g in m.groups()[1:]])
    if not indices:
        return ["SearchCal regression set: not found in the source given"]
    idx = np.array(indices)
    mags = np.array([r[0] for r in groups])  # B V Ic J H K
    emags = np.array([r[1] for r in groups])
    ref_d, ref_e = np.array([r[2] for r in groups]), np.array([r[3] for r in groups])
    ref_m, ref_em = np.array([r[4][0] for r in groups]), np.array([r[5][0] for r in groups])
    value = mags[:, [1, 3, 4, 5]]
    error = emags[:, [1, 3, 4, 5]]
    prepared = diam.PreparedMagnitudes(value, error, np.full(value.shape, 3, dtype=np.int8))
    g = diam._grid()
    y, mvv, mxx, has = diam._star_terms(prepared, g)
    fit = diam._fit(idx, y, mvv, mxx, has, g, n_dof=3.0)
    dlog = np.abs(fit.logd - ref_d)
    derr = np.abs(np.sqrt(fit.var) - ref_e)
    dmean = np.abs(fit.mean - ref_m)
    demean = np.abs(fit.mean_err - ref_em)
    return ["", f"SearchCal's regression set (alxAngularDiameter.c, {len(indices)} stars, IDL 2017-03-30):",
            f"  log10 diameters V-J V-H V-K: max |diff| {np.nanmax(dlog):.2e}; their errors: {np.nanmax(derr):.2e}",
            f"  weighted mean log10 diameter: max |diff| {np.nanmax(dmean):.2e}; its error: {np.nanmax(demean):.2e}"
            " (SearchCal's own tolerance: 2e-8)"]


def _mad(x: np.ndarray) -> float:
    """Robust standard deviation (1.4826 x median absolute deviation)."""
    return 1.4826 * float(np.median(np.abs(x - np.median(x))))


def magnitude_tables(shared: Path) -> list[str]:
    """Estimated magnitudes against hidden catalogue values (2MASS J H K, Tycho/Hipparcos B V)."""
    from getstar.astro.compute import compute_stars

    lines = ["", "Missing magnitudes from the spectral type: estimate - catalogue (robust), z = diff / error",
             f"{'sample':<12} {'from':>5} {'->':>3} {'N':>5} {'bias':>7} {'sigma':>6} {'z bias':>7} {'z sigma':>8}"]
    for label, rel in list(ANSWERS.items())[:2]:
        ans = read_answer(shared / rel)
        for known, target in (("BV", "K"), ("V", "K"), ("V", "J"), ("K", "V"), ("VK", "H")):
            bands = {b: Band(ans.values(b), ans.values(f"e_{b}")) for b in known}
            res = compute_stars(ans.strings("SpType"), bands, plx=ans.values("plx"), e_plx=ans.values("e_Plx"))
            truth, terr = ans.values(target), ans.values(f"e_{target}")
            terr = np.where(np.isnan(terr), 0.03, terr)
            col = res[target]
            assert col.error is not None
            good = ~np.isnan(truth) & (terr < 0.06) & ~np.isnan(col.value)
            diff = col.value[good] - truth[good]
            z = diff / np.hypot(col.error[good], terr[good])
            lines.append(f"{label.split()[0]:<12} {known:>5} {target:>3} {good.sum():>5} "
                         f"{np.median(diff):>+7.3f} {_mad(diff):>6.3f} {np.median(z):>+7.2f} {_mad(z):>8.2f}")
    return lines
