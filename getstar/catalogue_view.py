"""How people see the property catalogue: properties in sections (identifiers, astrometry,
photometry...), with units and descriptions.  Shared by the web page and ``getstar resolve``
so both show the same sections; derived from ``properties.PROPERTIES`` (UCD1+ words), so a
new property lands in a section without touching this file.
"""

from __future__ import annotations

from typing import Any

from getstar.properties import PROPERTIES, Property

#: Section order on the page and in the shell.
SECTIONS = ("Identifiers", "Astrometry", "Classification", "Photometry", "Diameters", "Kinematics",
            "Astrophysics", "Cross-match", "Other")

# (UCD1+ prefix, section): the first matching prefix wins
_RULES = (
    ("meta.id", "Identifiers"),
    ("pos.eq", "Astrometry"), ("pos.pm", "Astrometry"), ("pos.parallax", "Astrometry"),
    ("time.epoch", "Astrometry"), ("pos.distance", "Astrophysics"),
    ("pos.angDistance", "Cross-match"),
    ("src.spType", "Classification"), ("src.class", "Classification"), ("meta.code.class", "Classification"),
    ("meta.code.multip", "Classification"),
    ("phot.", "Photometry"),
    ("phys.angSize", "Diameters"),
    ("spect.dopplerVeloc", "Kinematics"), ("phys.veloc", "Kinematics"),
    ("phys.", "Astrophysics"),
)
_BY_NAME = {"XMATCH_MAIN_FLAG": "Cross-match", "GroupSize": "Cross-match", "XM_GAIA_n_mates": "Cross-match",
            "e_LDD_rel": "Diameters", "diam_chi2": "Diameters", "diam_count": "Diameters", "CalFlag": "Diameters",
            "diamFlag": "Diameters", "diamFlagInfo": "Diameters", "LDD_meas_n": "Diameters",
            "LDD_meas_band": "Diameters", "Qflag": "Photometry", "Qph_wise": "Photometry", "IRFlag": "Photometry",
            "TARGET_ID": "Identifiers", "Name": "Identifiers", "Av_fit_chi2": "Astrophysics",
            "dist_fit_chi2": "Astrophysics"}


def section(prop: Property) -> str:
    if prop.name in _BY_NAME:
        return _BY_NAME[prop.name]
    for prefix, name in _RULES:
        if prop.ucd1p.startswith(prefix):
            return name
    return "Other"


def catalogue() -> list[dict[str, Any]]:
    """Every property in GetStar order: name, section, unit, description, error column name."""
    return [{"name": p.name, "section": section(p), "unit": p.unit, "description": p.description,
             "error": p.error.name if p.error else None} for p in PROPERTIES]
