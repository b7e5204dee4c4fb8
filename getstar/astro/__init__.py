"""SearchCal's astrophysics for getstar: spectral types, missing magnitudes, angular diameters.

A fresh, vectorised (numpy) implementation of what JMMC's SearchCal computes for a star,
from SearchCal's published method and numbers (JMMC-OpenDev/SearchCal, ``SearchCal/alx`` and
``SearchCal/sclsvr``; Chelli et al. 2016, A&A 589, A112).  The tables live in
``getstar/astro/data/*.tsv``, each naming its source file, commit and paper.

Entry point
-----------
::

    from getstar.astro import Band, compute_stars

    res = compute_stars(
        sptype,                              # N strings (None / "" = unknown)
        {"V": Band(v, e_v, estimated=v_est), # any of B V R I J H K L M N; I = Cousins Ic
         "J": Band(j, e_j, is_2mass=j_2m), "H": Band(...), "K": Band(...)},
        method="current",                    # or "2017" (SearchCal v5.1.0, JSDC v2)
        estimate_magnitudes=True,            # fill missing bands from spectral type (colour tables)
        av=None, e_av=None,                  # optional A_V prior for the estimates (mag)
        sbc9=..., wds=..., sep1=..., sep2=..., objtypes=..., xmatch_flag=...,  # CalFlag bits 1-3
    )
    res["LDD"].value, res["LDD"].error, res["LDD"].confidence, res["LDD"].origin  # 'computed'

``Band`` arrays: ``value`` (NaN = none), ``error`` (NaN = unknown), ``estimated`` (True = not a
catalogue value), optional ``confidence`` (GetStar 1..3; default HIGH, LOW for estimates) and
``is_2mass`` (J/H/K: 2MASS photometry; SearchCal lowers other catalogues' JHK to MEDIUM, and
the 2017 method ignores them).  Parallax is not an input: SearchCal uses it only in its A_V /
distance fit, which does not enter the diameters (and is deprecated since 2025).

``res.columns`` maps property names of ``getstar.properties`` to :class:`Column` (``value``,
``error`` or None, ``confidence`` int8 with 0 = no value, ``origin`` = ``"computed"``):
``LDD`` (+ error ``e_LDD``), ``e_LDD_rel``, ``diam_chi2``, ``diam_vj`` / ``diam_vh`` / ``diam_vk``
(+ errors), ``diam_count``, ``diamFlag``, ``diamFlagInfo``, ``CalFlag``, ``UD_U`` … ``UD_N``,
``Teff_SpType``, ``logg_SpType``, ``color_table_index``, ``color_table_delta``,
``color_table_index_fix``, ``color_table_delta_fix``, ``lum_class``, ``lum_class_delta``,
``SpType_JMMC``, ``BinFlag`` ("SB"), ``MultFlag`` ("S" for a "+" in the type: only where the
star has none), and the estimated magnitudes ``B V R Icous J H K L M`` (+ errors, confidence
LOW, only where the input had no value: never a catalogue value replaced).

Confidence
----------
SearchCal's own rules (current method): a colour diameter has the lower confidence of its two
magnitudes; LDD the lowest of its three diameters, MEDIUM for the faint approach (no spectral
type), LOW when chi2 > 5, when the spectral type is too uncertain (fitted range > 2 classes) or
the faint fit is unbounded.  getstar adds: an estimated magnitude is LOW, so is every diameter
and LDD using one; ``diamFlagInfo`` then ends with ``ESTIMATED[V,J,H,K]`` (the bands that were
estimates) and ``e_LDD`` is at least the error of the best single colour diameter built on an
estimate (estimates of J, H, K are correlated; SearchCal's covariance assumes they are not).

Differences from SearchCal
--------------------------
* The decoding of spectral types reproduces SearchCal's C rules (glibc ``sscanf`` included);
  a non-finite subclass (``KNAN``) is invalid here (undefined behaviour in C); ``O3`` exactly
  gets Teff/logg from the first table line (SearchCal reads before its table there).
* Missing magnitudes: SearchCal fits A_V with a separate, deprecated step and estimates only
  from B, V (or J, K) once de-reddened; getstar fits m0 and A_V jointly on every catalogue
  band with a prior (see :mod:`getstar.astro.magnitudes`), same tables and photometric
  conventions, with errors.
* The extinction handling of the diameters is SearchCal's: the pseudo-magnitudes cancel A_V,
  so no A_V is needed or fitted (identical results for any A_V).
* ``method="2017"`` reproduces SearchCal server v5.1.0 (2017-06: JSDC v2, the ETA_TAU answer,
  GetStar's 2020 JMDC run): chi2 over n-1, other handling of an uncertain spectral type,
  JHK only from 2MASS, magnitude errors left unknown (no diameter) when absent.
* The faint approach (no spectral type: 231 trial types) is SearchCal's, in float32 (tests:
  identical results to float64); where the magnitudes are estimates it tries every 4th type
  only (LDD within 0.1 % median, 3.7 % at most of the full scan on 3,100 real stars: far below
  the error estimates carry).
* Not reproduced: SearchCal's A_V / distance fit and SED fitting (not used for diameters),
  the Av-fit's rewrite of ``SpType_JMMC`` in 2017-2020 answers, visibilities, the V fallback
  to SIMBAD / Gaia (the caller chooses V).

Validation (``bench/diameters.py``, tests ``tests/test_astro_*.py``): on ETA_TAU's own inputs
the 2017 variant reproduces SearchCal v5.1.0's LDD, e_LDD, UD_U..UD_N, Teff, logg, CalFlag
for all 394 stars (max relative difference < 2e-6); SearchCal's own regression set (573
stars) to 2e-8 in log10 diameter; GetStar's spectral-type keys for all 579 JMDC types.

Speed: the cost is the faint approach.  ``bench/diameters.py`` measures 500,000 stars (numbers
in its output; the machine is shared, compare the ratio to its numpy baseline).
"""

from getstar.astro.compute import AstroInputError, AstroResult, Band, Column, compute_stars
from getstar.astro.sptype import SpectralType, decode

__all__ = ["AstroInputError", "AstroResult", "Band", "Column", "SpectralType", "compute_stars", "decode"]
