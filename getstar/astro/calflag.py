"""SearchCal's ``CalFlag`` bit field (``sclsvrCALIBRATOR::DefineCalFlag``).

* bit 0 (1): reduced chi2 of the diameters > 5; in SearchCal's bright mode (GetStar's), also
  when the spectral type is missing (index <= 0) or uncertain by more than one class
  (delta > 20, i.e. 5 subclasses) — current method only;
* bit 1 (2): binary: an SBC9 entry, or a WDS entry with a separation <= 2 arcsec;
* bit 2 (4): SIMBAD object type among the variable / peculiar / binary types listed below;
* bit 3 (8): ``XMATCH_MAIN_FLAG`` non-zero (ambiguous cross-match) — current method only.
"""

from __future__ import annotations

import numpy as np

#: SearchCal's list of object types that make a bad calibrator ("ObjectTypes_2017.ods").
BAD_OBJECT_TYPES = (
    ",EB?,", ",Sy?,", ",CV?,", ",No?,", ",pr?,", ",TT?,", ",C*?,", ",S*?,", ",OH?,", ",CH?,", ",WR?,", ",Ae?,",
    ",RR?,", ",Ce?,", ",LP?,", ",Mi?,", ",sv?,", ",pA?,", ",WD?,", ",N*?,", ",BH?,", ",SN?,", ",BD?,", ",EB*,",
    ",Al*,", ",bL*,", ",WU*,", ",EP*,", ",SB*,", ",El*,", ",Sy*,", ",CV*,", ",NL*,", ",No*,", ",DN*,", ",Ae*,",
    ",C*,", ",S*,", ",pA*,", ",WD*,", ",ZZ*,", ",BD*,", ",N*,", ",OH*,", ",CH*,", ",pr*,", ",TT*,", ",WR*,",
    ",Ir*,", ",Or*,", ",RI*,", ",Er*,", ",FU*,", ",RC*,", ",RC?,", ",Psr,", ",BY*,", ",RS*,", ",Pu*,", ",RR*,",
    ",Ce*,", ",dS*,", ",RV*,", ",WV*,", ",bC*,", ",cC*,", ",gD*,", ",SX*,", ",LP*,", ",Mi*,", ",sr*,", ",SN*,",
)


def bad_object_type(objtypes: str | None) -> bool:
    """True when a comma-separated SIMBAD object-type list holds one of SearchCal's bad types."""
    if not objtypes or not isinstance(objtypes, str):
        return False
    wrapped = "," + objtypes.strip(",") + ","
    return any(t in wrapped for t in BAD_OBJECT_TYPES)


def cal_flag(chi2: np.ndarray, color_index: np.ndarray, color_delta: np.ndarray, *, method: str, n: int,
             sbc9: np.ndarray | None = None, wds: np.ndarray | None = None, sep1: np.ndarray | None = None,
             sep2: np.ndarray | None = None, objtypes: np.ndarray | None = None,
             xmatch_flag: np.ndarray | None = None) -> np.ndarray:
    """CalFlag for N stars; optional inputs that are not given leave their bit at 0."""
    flag = np.zeros(n, dtype=np.int32)
    has = ~np.isnan(chi2)
    with np.errstate(invalid="ignore"):
        high = has & (chi2 > 5.0)
    bit0 = high
    if method == "current":
        bit0 = bit0 | (has & ~high & ((color_index <= 0) | (color_delta > 20)))
    flag |= np.where(bit0, 1, 0).astype(np.int32)
    if sbc9 is not None or wds is not None:
        binary = np.zeros(n, dtype=bool) if sbc9 is None else sbc9.copy()
        if wds is not None:
            s1 = np.full(n, 1e9) if sep1 is None else np.where(np.isnan(sep1), 1e9, sep1)
            s2 = np.full(n, 1e9) if sep2 is None else np.where(np.isnan(sep2), 1e9, sep2)
            if method == "current":  # negative separations are ignored since 2020
                s1 = np.where(s1 < 0.0, 1e9, s1)
                s2 = np.where(s2 < 0.0, 1e9, s2)
            binary |= ~binary & wds & (np.minimum(s1, s2) <= 2.0)
        flag |= np.where(binary, 2, 0).astype(np.int32)
    if objtypes is not None:
        uniq, inv = np.unique(np.array([o if isinstance(o, str) else "" for o in objtypes], dtype=object),
                              return_inverse=True)
        bad = np.array([bad_object_type(o) for o in uniq], dtype=bool)[inv]
        flag |= np.where(bad, 4, 0).astype(np.int32)
    if xmatch_flag is not None and method == "current":
        flag |= np.where(xmatch_flag != 0, 8, 0).astype(np.int32)
    return flag
