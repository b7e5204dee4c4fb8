"""The star property catalogue: the one declaration of every property getstar serves.

Each property is declared once here (name, UCD1 as GetStar writes it, UCD1+, datatype,
unit, description, default origin catalogue, optional error column).  The database
columns (``getstar.schema``), the VOTable FIELDs and GROUPs, the JSON keys, the CSV
header and the docs are all derived from this list, so adding a property is one line.

The order of ``PROPERTIES`` is GetStar's FIELD/GROUP order (SearchCal server HEAD with
``VOBS_LOW_MEM_FLAG=0``), so that clients addressing cells by position (ASPRO2's XSLT)
keep working; getstar's own additions come after GetStar's list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum


class Confidence(IntEnum):
    """GetStar's confidence index (``vobsCONFIDENCE_INDEX``)."""

    NO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3


#: Origin vocabulary.  Index = GetStar's ``vobsORIGIN_INDEX`` (0..29, "only additions at
#: the end are allowed"), so the legacy VOTable writes these codes unchanged; getstar's
#: own sources are appended after GetStar's.
ORIGINS: tuple[str, ...] = (
    "NO CATALOG", "MIXED CATALOG", "computed", "II/297/irc", "I/280", "I/280B",
    "V/50/catalog", "II/225/catalog", "B/denis", "J/A+A/413/1037/table1", "I/196/main",
    "I/239/hip_main", "I/311/hip2", "J/A+A/393/183/catalog", "II/246/out",
    "J/A+A/433/1155", "MIDI", "II/7A/catalog", "V/36B/bsc4s", "B/sb9/main", "I/284",
    "B/wds/wds", "I/280B", "SIMBAD", "II/328/allwise", "I/355/gaiadr3", "I/355/paramp",
    "II/361", "USER", "BADCAL",
    # getstar additions
    "II/345/jmdc", "II/346/jsdc_v2", "Stellarium", "I/345/gaia2", "I/347/gaia2dis",
    # Tycho-2 (Stellarium's Tycho-based star records: V, B-V from BT, VT)
    "I/259/tyc2",
)
#: Origin string -> code.  "I/280B" appears twice in GetStar (bright and faint JSDC
#: lists); the first (5, bright) wins for lookups by name.
ORIGIN_CODE: dict[str, int] = {}
for _code, _name in enumerate(ORIGINS):
    ORIGIN_CODE.setdefault(_name, _code)

DATATYPES = ("double", "int", "long", "char", "boolean")
SQL_TYPES = {
    "double": "double precision",
    "int": "integer",
    "long": "bigint",
    "char": "text",
    "boolean": "boolean",
}


@dataclass(frozen=True, slots=True)
class Err:
    """The error column that travels with a property (same origin and confidence)."""

    name: str
    ucd1: str
    ucd1p: str
    unit: str
    description: str


@dataclass(frozen=True, slots=True)
class Property:
    """One star property and everything needed to store and serve it."""

    name: str
    ucd1: str
    ucd1p: str
    datatype: str
    unit: str
    description: str
    origin: str
    error: Err | None = None
    #: SQL column holding the value; derived from ``name`` unless given.
    column: str = ""
    #: SQL type of the stored value when it differs from ``datatype`` (RA/Dec are
    #: stored as degrees and written as sexagesimal strings).
    stored_as: str = ""
    #: Name of another property whose stored value this one is computed from.
    derived_from: str = ""
    #: Output conversion applied to the stored value: "", "hms" or "dms".
    render: str = ""
    extra: bool = field(default=False)

    def __post_init__(self) -> None:
        if self.datatype not in DATATYPES:
            raise ValueError(f"{self.name}: unknown datatype {self.datatype}")
        if self.origin not in ORIGIN_CODE:
            raise ValueError(f"{self.name}: unknown origin {self.origin}")
        if not self.column and not self.derived_from:
            object.__setattr__(self, "column", column_name(self.name))

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.stored_as or self.datatype]

    @property
    def origin_code(self) -> int:
        return ORIGIN_CODE[self.origin]


def column_name(name: str) -> str:
    """SQL-safe column for a property name (``B-V`` -> ``p_b_v``, ``2MASS`` -> ``p_2mass``)."""
    return "p_" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


P = Property

PROPERTIES: tuple[Property, ...] = (
    P('HD', 'ID_HD', 'meta.id', 'int', '', 'HD identifier, click to call Simbad on this object', 'I/280'),
    P('HIP', 'ID_HIP', 'meta.id', 'int', '', 'HIP identifier, click to call Simbad on this object', 'I/280'),
    P('DM', 'ID_DM', 'meta.id', 'int', '', 'DM number, click to call Simbad on this object', 'I/280'),
    P('ASCC', 'ID_ASCC', 'meta.id', 'int', '', 'ASCC identifier, click to call VizieR on this object', 'I/280'),
    P('TYC1', 'ID_TYC1', 'meta.id.part', 'int', '', 'TYC1 number from Tycho-2, click to call Simbad on this object', 'I/280'),
    P('TYC2', 'ID_TYC2', 'meta.id.part', 'int', '', 'TYC2 number from Tycho-2, click to call Simbad on this object', 'I/280'),
    P('TYC3', 'ID_TYC3', 'meta.id.part', 'int', '', 'TYC3 number from Tycho-2, click to call Simbad on this object', 'I/280'),
    P('2MASS', 'ID_2MASS', 'meta.id', 'char', '', '2MASS identifier, click to call VizieR on this object', 'II/246/out'),
    P('SBC9', 'ID_SB9', 'meta.id', 'int', '', 'SBC9 identifier, click to call VizieR on this object', 'B/sb9/main'),
    P('WDS', 'ID_WDS', 'meta.id', 'char', '', 'WDS identifier, click to call VizieR on this object', 'B/wds/wds'),
    P('AKARI', 'ID_AKARI', 'meta.id', 'int', '', 'AKARI source identifier, click to call VizieR on this object', 'II/297/irc'),
    P('WISE', 'ID_WISE', 'meta.id', 'char', '', 'WISE identifier, click to call VizieR on this object', 'II/328/allwise'),
    P('GAIA', 'ID_GAIA', 'meta.id', 'long', '', 'GAIA DR3 identifier, click to call VizieR on this object', 'I/355/gaiadr3'),
    P('MDFC', 'ID_MDFC', 'meta.id', 'char', '', 'MDFC identifier, click to call VizieR on this object', 'II/361'),
    P('BADCAL', 'ID_BADCAL', 'meta.id', 'int', '', 'JMMC BadCal identifier, click to query badcal on this object', 'BADCAL'),
    P('SIMBAD', 'ID_SIMBAD', 'meta.id;meta.main', 'char', '', 'Simbad Identifier, click to call Simbad on this object', 'SIMBAD'),
    P('opt', 'ID_CATALOG', 'meta.id.cross', 'char', '', "2MASS: Associated optical source (opt) 'T' for Tycho 2 or 'U' for USNO A 2.0", 'II/246/out'),
    P('TARGET_ID', 'ID_TARGET', 'meta.id;meta.query', 'char', '', 'The target identifier asked to CDS', 'USER'),
    P('jd', 'TIME_DATE', 'time.epoch;obs', 'double', 'd', '(jdate) Julian date of source measurement', 'II/246/out'),
    P('XMATCH_MAIN_FLAG', 'XMATCH_MAIN_FLAG', 'meta.code', 'int', '', 'xmatch flags for main catalogs (ASCC, GAIA, 2MASS) (internal JMMC)', 'computed'),
    P('XM_SIMBAD_sep', 'XMATCH_SIMBAD_SEP', 'pos.angDistance', 'double', 'as', 'Angular Separation of the first object in SIMBAD', 'computed'),
    P('XM_GAIA_n_mates', 'XMATCH_GAIA_N_MATES', 'meta.number', 'int', '', 'Number of mates within the cross-match radius in the GAIA catalog', 'computed'),
    P('XM_GAIA_sep', 'XMATCH_GAIA_SEP', 'pos.angDistance', 'double', 'arcsec', 'Angular Separation of the first object in GAIA catalog', 'computed'),
    P('XM_GAIA_sep_2nd', 'XMATCH_GAIA_SEP_2ND', 'pos.angDistance', 'double', 'arcsec', 'Angular Separation between first and second objects in GAIA catalog', 'computed'),
    P('GroupSize', 'GROUP_SIZE', 'meta.number', 'int', '', 'The number of close targets within 3 as found in the ASCC and SIMBAD catalogs', 'computed'),
    P('RAJ2000', 'POS_EQ_RA_MAIN', 'pos.eq.ra;meta.main', 'char', 'h:m:s', 'Right Ascension - J2000', 'I/355/gaiadr3', error=Err('e_RAJ2000', 'POS_EQ_RA_ERROR', 'stat.error;pos.eq.ra', 'mas', 'Standard error in Right Ascension * cos(Declination) - J2000'), column='ra', stored_as='double', render='hms'),
    P('DEJ2000', 'POS_EQ_DEC_MAIN', 'pos.eq.dec;meta.main', 'char', 'd:m:s', 'Declination - J2000', 'I/355/gaiadr3', error=Err('e_DEJ2000', 'POS_EQ_DEC_ERROR', 'stat.error;pos.eq.dec', 'mas', 'Standard error in Declination - J2000'), column='dec', stored_as='double', render='dms'),
    P('pmRa', 'POS_EQ_PMRA', 'pos.pm;pos.eq.ra', 'double', 'mas/yr', 'Proper Motion in Right Ascension * cos(Declination)', 'I/280', error=Err('e_pmRa', 'POS_EQ_PMRA_ERROR', 'stat.error;pos.pm', 'mas/yr', 'Standard error in Proper Motion in Right Ascension * cos(Declination)')),
    P('pmDec', 'POS_EQ_PMDEC', 'pos.pm;pos.eq.dec', 'double', 'mas/yr', 'Proper Motion in Declination', 'I/280', error=Err('e_pmDec', 'POS_EQ_PMDEC_ERROR', 'stat.error;pos.pm', 'mas/yr', 'Standard error in Proper Motion in Declination')),
    P('plx', 'POS_PARLX_TRIG', 'pos.parallax.trig', 'double', 'mas', 'Trigonometric Parallax', 'I/355/gaiadr3', error=Err('e_Plx', 'POS_PARLX_TRIG_ERROR', 'stat.error;pos.parallax.trig', '', 'Standard error in Parallax')),
    P('SpType', 'SPECT_TYPE_MK', 'src.spType', 'char', '', 'MK Spectral Type (SIMBAD)', 'SIMBAD'),
    P('ObjTypes', 'OBJ_TYPES', 'src.class', 'char', '', 'SIMBAD: Object Type list (comma separated)', 'SIMBAD'),
    P('VarFlag1', 'CODE_VARIAB_V1', 'meta.code.class;src.var', 'char', '', 'ASCC: Variability from GCVS/NSV', 'I/280'),
    P('VarFlag2', 'CODE_VARIAB_V2', 'meta.code.class;src.var', 'char', '', 'ASCC: Variability in Tycho-1', 'I/280'),
    P('VarFlag3', 'VAR_CLASS', 'meta.code.class;src.var', 'char', '', 'ASCC: Variability type among C,D,M,P,R and U', 'I/280'),
    P('MultFlag', 'CODE_MULT_FLAG', 'meta.code.multip', 'char', '', 'Multiplicity type among C,G,O,V, X or SB (for decoded spectral binaries)', 'I/280'),
    P('BinFlag', 'CODE_BIN_FLAG', 'meta.code.multip', 'char', '', 'Multiplicity type among SB, eclipsing B or S (for suspicious binaries in spectral type)', 'computed'),
    P('Comp', 'CODE_MULT_INDEX', 'meta.code.multip', 'char', '', 'Component (SBC9) or Components (WDS), when the object has more than two. Traditionally, these have been desi', 'B/sb9/main'),
    P('sep1', 'ORBIT_SEPARATION_SEP1', 'pos.angDistance', 'double', 'arcsec', 'WDS: Angular Separation of the binary on first observation', 'B/wds/wds'),
    P('sep2', 'ORBIT_SEPARATION_SEP2', 'pos.angDistance', 'double', 'arcsec', 'WDS: Angular Separation of the binary on last observation', 'B/wds/wds'),
    P('RadVel', 'VELOC_HC', 'spect.dopplerVeloc.opt', 'double', 'km/s', 'Radial Velocity', 'I/355/gaiadr3', error=Err('e_RadVel', 'VELOC_HC_ERROR', 'stat.error;spect.dopplerVeloc.opt', 'km/s', 'Radial velocity error')),
    P('RotVel', 'VELOC_ROTAT', 'phys.veloc.rotat', 'double', 'km/s', 'BSC: Rotation Velocity (vsini)', 'V/50/catalog'),
    P('gaia_AG', 'AG_GAIA', 'phys.absorption.gal', 'double', 'mag', 'GAIA: Extinction in G band from GSP-Phot Aeneas best library using BP/RP spectra (ag_gspphot)', 'I/355/paramp'),
    P('gaia_dist', 'DIST_GAIA', 'pos.distance', 'double', 'pc', 'GAIA: Distance from GSP-Phot Aeneas best library using BP/RP spectra (distance_gspphot)', 'I/355/paramp'),
    P('gaia_dist_lo', 'DIST_GAIA_LOWER', 'pos.distance;stat.min', 'double', 'pc', 'GAIA: Lower confidence level (16%) of distance from GSP-Phot Aeneas best library using BP/RP spectra (distan', 'I/355/paramp'),
    P('gaia_dist_hi', 'DIST_GAIA_UPPER', 'pos.distance;stat.max', 'double', 'pc', 'GAIA: Upper confidence level (84%) of distance from GSP-Phot Aeneas best library using BP/RP spectra (distan', 'I/355/paramp'),
    P('gaia_Teff', 'TEFF_GAIA', 'phys.temperature.effective', 'double', 'K', 'GAIA: Effective temperature from GSP-Phot Aeneas best library using BP/RP spectra (teff_gspphot)', 'I/355/paramp'),
    P('gaia_Teff_lo', 'TEFF_GAIA_LOWER', 'phys.temperature.effective;stat.min', 'double', 'K', 'GAIA: Lower confidence level (16%) of effective temperature from GSP-Phot Aeneas best library using BP/RP sp', 'I/355/paramp'),
    P('gaia_Teff_hi', 'TEFF_GAIA_UPPER', 'phys.temperature.effective;stat.max', 'double', 'K', 'GAIA: Upper confidence level (84%) of effective temperature from GSP-Phot Aeneas best library using BP/RP sp', 'I/355/paramp'),
    P('gaia_logG', 'LOGG_GAIA', 'phys.gravity', 'double', '[cm/s2]', 'GAIA: Surface gravity from GSP-Phot Aeneas best library using BP/RP spectra (logg_gspphot)', 'I/355/paramp'),
    P('gaia_logG_lo', 'LOGG_GAIA_LOWER', 'phys.gravity;stat.min', 'double', '[cm/s2]', 'GAIA: Lower confidence level (16%) of surface gravity from GSP-Phot Aeneas best library using BP/RP spectra', 'I/355/paramp'),
    P('gaia_logG_hi', 'LOGG_GAIA_UPPER', 'phys.gravity;stat.max', 'double', '[cm/s2]', 'GAIA: Upper confidence level (84%) of surface gravity from GSP-Phot Aeneas best library using BP/RP spectra', 'I/355/paramp'),
    P('gaia_M_H', 'MH_GAIA', 'phys.abund.Z', 'double', '', 'GAIA: Iron abundance from GSP-Phot Aeneas best library using BP/RP spectra (mh_gspphot)', 'I/355/paramp'),
    P('gaia_M_H_lo', 'MH_GAIA_LOWER', 'phys.abund.Z;stat.min', 'double', '', 'GAIA: Lower confidence level (16%) of iron abundance from GSP-Phot Aeneas best library using BP/RP spectra (', 'I/355/paramp'),
    P('gaia_M_H_hi', 'MH_GAIA_UPPER', 'phys.abund.Z;stat.max', 'double', '', 'GAIA: Upper confidence level (84%) of iron abundance from GSP-Phot Aeneas best library using BP/RP spectra (', 'I/355/paramp'),
    P('gaia_rad_phot', 'RAD_PHOT_GAIA', 'phys.size.radius', 'double', 'Rsun', 'GAIA: Radius from GSP-Phot Aeneas best library using BP/RP spectra (radius_gspphot)', 'I/355/paramp'),
    P('gaia_rad_phot_lo', 'RAD_PHOT_GAIA_LOWER', 'phys.size.radius;stat.min', 'double', 'Rsun', 'GAIA: Lower confidence level (16%) of radius from GSP-Phot Aeneas best library using BP/RP spectra (radiusgs', 'I/355/paramp'),
    P('gaia_rad_phot_hi', 'RAD_PHOT_GAIA_UPPER', 'phys.size.radius;stat.max', 'double', 'Rsun', 'GAIA: Upper confidence level (84%) of radius from GSP-Phot Aeneas best library using BP/RP spectra (radiusgs', 'I/355/paramp'),
    P('gaia_rad_flame', 'RAD_FLAME_GAIA', 'phys.size.radius', 'double', 'Rsun', 'GAIA: Radius of the star from FLAME using teff_gspphot and lum_flame (radius_flame)', 'I/355/paramp'),
    P('gaia_rad_flame_lo', 'RAD_FLAME_GAIA_LOWER', 'phys.size.radius;stat.min', 'double', 'Rsun', 'GAIA: Lower confidence level (16%) of radiusFlame (radiusflamelower)', 'I/355/paramp'),
    P('gaia_rad_flame_hi', 'RAD_FLAME_GAIA_UPPER', 'phys.size.radius;stat.max', 'double', 'Rsun', 'GAIA: Upper confidence level (84%) of radiusFlame (radiusflameupper)', 'I/355/paramp'),
    P('B', 'PHOT_JHN_B', 'phot.mag;em.opt.B', 'double', 'mag', "Johnson's Magnitude in B-band", 'I/280', error=Err('e_B', 'PHOT_JHN_B_ERROR', 'stat.error;phot.mag', 'mag', "Error on Johnson's Magnitude in B-band")),
    P('V', 'PHOT_JHN_V', 'phot.mag;em.opt.V', 'double', 'mag', "Johnson's Magnitude in V-band", 'I/280', error=Err('e_V', 'PHOT_JHN_V_ERROR', 'stat.error;phot.mag', 'mag', "Error on Johnson's Magnitude in V-band")),
    P('V_SIMBAD', 'SIMBAD_PHOT_JHN_V', 'phot.mag;em.opt.V', 'double', 'mag', "Johnson's Magnitude in V-band (SIMBAD)", 'SIMBAD', error=Err('e_V_SIMBAD', 'SIMBAD_PHOT_JHN_V_ERROR', 'stat.error;phot.mag', 'mag', "Error on Johnson's Magnitude in V-band (SIMBAD)")),
    P('V_GAIA', 'GAIA_PHOT_JHN_V', 'phot.mag;em.opt.V', 'double', 'mag', "Johnson's Magnitude in V-band (GAIA DR3 conversion)", 'I/355/gaiadr3', error=Err('e_V_GAIA', 'GAIA_PHOT_JHN_V_ERROR', 'stat.error;phot.mag', 'mag', "Error on Johnson's Magnitude in V-band (GAIA DR3 conversion)")),
    P('B-V', 'PHOT_JHN_B-V', 'phot.color;em.opt.B;em.opt.V', 'double', 'mag', "HIP: Johnson's B-V Colour", 'I/239/hip_main', error=Err('e_B-V', 'PHOT_JHN_B-V_ERROR', 'stat.error;phot.color', 'mag', "HIP: Error on Johnson's B-V Colour")),
    P('V-Icous', 'PHOT_COUS_V-I', 'phot.color;em.opt.V;em.opt.I', 'double', 'mag', "HIP: Cousin's V-I Colour", 'I/239/hip_main', error=Err('e_V-Icous', 'PHOT_COUS_V-I_ERROR', 'stat.error;phot.color', 'mag', "HIP: Error on Cousin's V-I Colour")),
    P('ref_V-Icous', 'PHOT_COUS_V-I_REFER_CODE', 'meta.ref;phot.color', 'char', '', "HIP: Source of Cousin's V-I Colour [A-T]", 'I/239/hip_main'),
    P('Bp', 'PHOT_MAG_Bp', 'phot.mag;em.opt.B', 'double', 'mag', 'GAIA: Integrated Bp mean magnitude (Vega)', 'I/355/gaiadr3', error=Err('e_Bp', 'PHOT_MAG_Bp_ERROR', 'stat.error;phot.mag', 'mag', 'GAIA: Standard error of BP mean magnitude (Vega)')),
    P('G', 'PHOT_MAG_G', 'phot.mag;em.opt', 'double', 'mag', 'GAIA: G-band mean magnitude (Vega)', 'I/355/gaiadr3', error=Err('e_G', 'PHOT_MAG_G_ERROR', 'stat.error;phot.mag', 'mag', 'GAIA: Standard error of G-band mean magnitude (Vega)')),
    P('Rp', 'PHOT_MAG_Rp', 'phot.mag;em.opt.R', 'double', 'mag', 'GAIA: Integrated Rp mean magnitude (Vega)', 'I/355/gaiadr3', error=Err('e_Rp', 'PHOT_MAG_Rp_ERROR', 'stat.error;phot.mag', 'mag', 'GAIA: Standard error of Rp mean magnitude (Vega)')),
    P('R', 'PHOT_JHN_R', 'phot.mag;em.opt.R', 'double', 'mag', "Johnson's Magnitude in R-band", 'II/7A/catalog', error=Err('e_R', 'PHOT_JHN_R_ERROR', 'stat.error;phot.mag', 'mag', "Error on Johnson's Magnitude in R-band")),
    P('I', 'PHOT_JHN_I', 'phot.mag;em.opt.I', 'double', 'mag', "Johnson's Magnitude in I-band", 'II/7A/catalog', error=Err('e_I', 'PHOT_JHN_I_ERROR', 'stat.error;phot.mag', 'mag', "Error on Johnson's Magnitude in I-band")),
    P('Icous', 'PHOT_COUS_I', 'phot.mag;em.opt.I', 'double', 'mag', "Cousin's Magnitude in I-band", 'B/denis', error=Err('e_Icous', 'PHOT_COUS_I_ERROR', 'stat.error;phot.mag', 'mag', "Error on Cousin's Magnitude in I-band")),
    P('J', 'PHOT_JHN_J', 'phot.mag;em.IR.J', 'double', 'mag', "Johnson's Magnitude in J-band", 'II/246/out', error=Err('e_J', 'PHOT_JHN_J_ERROR', 'stat.error;phot.mag', 'mag', "Error on Johnson's Magnitude in J-band")),
    P('H', 'PHOT_JHN_H', 'phot.mag;em.IR.H', 'double', 'mag', "Johnson's Magnitude in H-band", 'II/246/out', error=Err('e_H', 'PHOT_JHN_H_ERROR', 'stat.error;phot.mag', 'mag', "Error on Johnson's Magnitude in H-band")),
    P('K', 'PHOT_JHN_K', 'phot.mag;em.IR.K', 'double', 'mag', "Johnson's Magnitude in K-band", 'II/246/out', error=Err('e_K', 'PHOT_JHN_K_ERROR', 'stat.error;phot.mag', 'mag', "Error on Johnson's Magnitude in K-band")),
    P('Qflag', 'CODE_QUALITY', 'meta.code.qual', 'char', '', '2MASS: Quality flag [ABCDEFUX] on JHK Magnitudes', 'II/246/out'),
    P('L', 'PHOT_JHN_L', 'phot.mag;em.IR.3-4um', 'double', 'mag', "Johnson's Magnitude in L-band", 'II/328/allwise', error=Err('e_L', 'PHOT_JHN_L_ERROR', 'stat.error;phot.mag', 'mag', "Error on Johnson's Magnitude in L-band")),
    P('M', 'PHOT_JHN_M', 'phot.mag;em.IR.4-8um', 'double', 'mag', "Johnson's Magnitude in M-band", 'II/328/allwise', error=Err('e_M', 'PHOT_JHN_M_ERROR', 'stat.error;phot.mag', 'mag', "Error on Johnson's Magnitude in M-band")),
    P('N', 'PHOT_JHN_N', 'phot.mag;em.IR.8-15um', 'double', 'mag', "Johnson's Magnitude in N-band", 'II/328/allwise', error=Err('e_N', 'PHOT_JHN_N_ERROR', 'stat.error;phot.mag', 'mag', "Error on Johnson's Magnitude in N-band")),
    P('W4', 'PHOT_FLUX_IR_25', 'phot.mag;em.IR.15-30um', 'double', 'mag', 'Wise W4 magnitude (22.1um)', 'II/328/allwise', error=Err('e_W4', 'PHOT_FLUX_IR_25_ERROR', 'stat.error;phot.mag', 'mag', 'Error on Wise W4 magnitude (22.1um)')),
    P('Qph_wise', 'CODE_QUALITY_WISE', 'meta.code.qual', 'char', '', 'WISE: Quality flag [ABCUX] on LMN Magnitudes', 'II/328/allwise'),
    P('S09', 'PHOT_FLUX_IR_9', 'phot.flux.density;em.IR.8-15um', 'double', 'Jy', 'AKARI: Mid-Infrared Flux Density at 9 microns', 'II/297/irc', error=Err('e_S09', 'PHOT_FLUX_IR_9_ERROR', 'stat.error;phot.flux.density', 'Jy', 'AKARI: Relative Error on Mid-Infrared Flux Density at 9 microns')),
    P('F12', 'PHOT_FLUX_IR_12', 'phot.flux.density;em.IR.8-15um', 'double', 'Jy', 'AKARI: Mid-Infrared Flux at 12 microns', 'computed', error=Err('e_F12', 'PHOT_FLUX_IR_12_ERROR', 'stat.error;phot.flux.density', 'Jy', 'AKARI: Relative Error on Mid-Infrared Flux at 12 microns')),
    P('S18', 'PHOT_FLUX_IR_18', 'phot.flux.density;em.IR.15-30um', 'double', 'Jy', 'AKARI: Mid-Infrared Flux Density at 18 microns', 'II/297/irc', error=Err('e_S18', 'PHOT_FLUX_IR_18_ERROR', 'stat.error;phot.flux.density', 'Jy', 'AKARI: Relative Error on Mid-Infrared Flux Density at 18 microns')),
    P('IRFlag', 'IR_FLAG', 'meta.code', 'int', '', 'MDFC: IR Flag (bit field):  bit 0 is set if the star shows an IR excess, identified thanks to the [K-W4] and', 'II/361'),
    P('Lflux_med', 'PHOT_FLUX_L', 'phot.flux.density;em.IR.3-4um', 'double', 'Jy', 'MDFC: Median flux value in band L', 'II/361', error=Err('e_Lflux_med', 'PHOT_FLUX_L_ERROR', 'stat.error;phot.flux.density', 'Jy', 'MDFC: Error on flux values in band L')),
    P('Mflux_med', 'PHOT_FLUX_M', 'phot.flux.density;em.IR.4-8um', 'double', 'Jy', 'MDFC: Median flux value in band M', 'II/361', error=Err('e_Mflux_med', 'PHOT_FLUX_M_ERROR', 'stat.error;phot.flux.density', 'Jy', 'MDFC: Error on flux values in band M')),
    P('Nflux_med', 'PHOT_FLUX_N', 'phot.flux.density;em.IR.8-15um', 'double', 'Jy', 'MDFC: Median flux value in band N', 'II/361', error=Err('e_Nflux_med', 'PHOT_FLUX_N_ERROR', 'stat.error;phot.flux.density', 'Jy', 'MDFC: Error on flux values in band N')),
    P('diam_vj', 'DIAM_VJ', 'phys.angSize;src', 'double', 'mas', 'V-J Diameter', 'computed', error=Err('e_diam_vj', 'DIAM_VJ_ERROR', 'stat.error;phys.angSize', 'mas', 'Error on V-J Diameter')),
    P('diam_vh', 'DIAM_VH', 'phys.angSize;src', 'double', 'mas', 'V-H Diameter', 'computed', error=Err('e_diam_vh', 'DIAM_VH_ERROR', 'stat.error;phys.angSize', 'mas', 'Error on V-H Diameter')),
    P('diam_vk', 'DIAM_VK', 'phys.angSize;src', 'double', 'mas', 'V-K Diameter', 'computed', error=Err('e_diam_vk', 'DIAM_VK_ERROR', 'stat.error;phys.angSize', 'mas', 'Error on V-K Diameter')),
    P('diam_count', 'DIAM_COUNT', 'meta.number', 'int', '', 'Number of consistent and valid computed diameters', 'computed'),
    P('LDD', 'LD_DIAM', 'phys.angSize;src', 'double', 'mas', 'Limb-darkened diameter', 'computed', error=Err('e_LDD', 'LD_DIAM_ERROR', 'stat.error;phys.angSize', 'mas', 'Error on limb-darkened diameter')),
    P('e_LDD_rel', 'LD_DIAM_ERROR_REL', 'stat.error', 'double', '%', 'Relative error on limb-darkened diameter', 'computed'),
    P('diam_chi2', 'DIAM_CHI2', 'stat.fit.chi2', 'double', '', 'Reduced chi-square of the LDD diameter estimation', 'computed'),
    P('CalFlag', 'CAL_FLAG', 'meta.code', 'int', '', 'Calibrator Flag (bit field):  bit 0 is set if LDD_CHI2 is above 5 or the spectral type is missing or not pre', 'computed'),
    P('diamFlag', 'DIAM_FLAG', 'meta.code', 'boolean', '', 'Diameter Flag (true means the LDD diameter is computed)', 'computed'),
    P('diamFlagInfo', 'DIAM_FLAG_INFO', 'meta.note', 'char', '', 'Information related to the LDD diameter estimation', 'computed'),
    P('Teff_SpType', 'TEFF_SPTYP', 'phys.temperature.effective', 'double', 'K', 'Effective Temperature adopted from Spectral Type', 'computed'),
    P('logg_SpType', 'LOGG_SPTYP', 'phys.gravity', 'double', '[cm/s2]', 'Gravity adopted from Spectral Type', 'computed'),
    P('UD_U', 'UD_U', 'phys.angSize;em.opt.U', 'double', 'mas', 'U-band Uniform-Disk Diameter', 'computed'),
    P('UD_B', 'UD_B', 'phys.angSize;em.opt.B', 'double', 'mas', 'B-band Uniform-Disk Diameter', 'computed'),
    P('UD_V', 'UD_V', 'phys.angSize;em.opt.V', 'double', 'mas', 'V-band Uniform-Disk Diameter', 'computed'),
    P('UD_R', 'UD_R', 'phys.angSize;em.opt.R', 'double', 'mas', 'R-band Uniform-Disk Diameter', 'computed'),
    P('UD_I', 'UD_I', 'phys.angSize;em.opt.I', 'double', 'mas', 'I-band Uniform-Disk Diameter', 'computed'),
    P('UD_J', 'UD_J', 'phys.angSize;em.IR.J', 'double', 'mas', 'J-band Uniform-Disk Diameter', 'computed'),
    P('UD_H', 'UD_H', 'phys.angSize;em.IR.H', 'double', 'mas', 'H-band Uniform-Disk Diameter', 'computed'),
    P('UD_K', 'UD_K', 'phys.angSize;em.IR.K', 'double', 'mas', 'K-band Uniform-Disk Diameter', 'computed'),
    P('UD_L', 'UD_L', 'phys.angSize;em.IR.3-4um', 'double', 'mas', 'L-band Uniform-Disk Diameter', 'computed'),
    P('UD_M', 'UD_M', 'phys.angSize;em.IR.4-8um', 'double', 'mas', 'M-band Uniform-Disk Diameter', 'computed'),
    P('UD_N', 'UD_N', 'phys.angSize;em.IR.8-15um', 'double', 'mas', 'N-band Uniform-Disk Diameter', 'computed'),
    P('vis2', 'VIS2', 'meta.number', 'double', '', 'Squared Visibility', 'computed', error=Err('vis2Err', 'VIS2_ERROR', 'stat.error', '', 'Error on Squared Visibility')),
    P('dist', 'DIST', 'pos.angDistance', 'double', 'deg', 'Calibrator to Science object Angular Distance', 'computed'),
    P('color_table_index', 'COLOR_TABLE_INDEX', 'meta.code', 'int', '', '(internal) index in color tables', 'computed'),
    P('color_table_delta', 'COLOR_TABLE_DELTA', 'meta.code', 'int', '', '(internal) delta in color tables', 'computed'),
    P('color_table_index_fix', 'COLOR_TABLE_INDEX_FIX', 'meta.code', 'int', '', '(internal) fixed index in color tables', 'computed'),
    P('color_table_delta_fix', 'COLOR_TABLE_DELTA_FIX', 'meta.code', 'int', '', '(internal) fixed delta in color tables', 'computed'),
    P('lum_class', 'LUM_CLASS', 'src.class.luminosity', 'int', '', '(internal) (min) luminosity class from spectral type (1,2,3,4,5)', 'computed'),
    P('lum_class_delta', 'LUM_CLASS_DELTA', 'src.class.luminosity', 'int', '', '(internal) luminosity class delta (lc_max = lum_class + lum_class_delta)', 'computed'),
    P('SpType_JMMC', 'SPECTRAL_TYPE', 'src.spType', 'char', '', 'Corrected spectral type by the JMMC', 'computed'),
    P('Name', 'NAME', 'meta.id', 'char', '', "Star name (identifier from HIP, HD, TYC, 2MASS, DM or coordinates 'RA DE'), click to call Simbad on this obj", 'computed'),
    P('RA', 'POS_EQ_RA', 'pos.eq.ra', 'double', 'deg', 'Right Ascension in degrees - J2000', 'computed', derived_from='RAJ2000'),
    P('DEC', 'POS_EQ_DEC', 'pos.eq.dec', 'double', 'deg', 'Declination in degrees - J2000', 'computed', derived_from='DEJ2000'),
    # getstar additions (after GetStar's list: existing clients address cells by name)
    P('HR', 'ID_HR', 'meta.id', 'int', '', 'HR (Yale Bright Star) identifier', 'SIMBAD', extra=True),
    P('SAO', 'ID_SAO', 'meta.id', 'int', '', 'SAO identifier', 'SIMBAD', extra=True),
    P('OType', 'OBJ_TYPE_MAIN', 'src.class;meta.main', 'char', '', 'SIMBAD: main object type', 'SIMBAD', extra=True),
    P('U', 'PHOT_JHN_U', 'phot.mag;em.opt.U', 'double', 'mag', "Johnson's Magnitude in U-band", 'SIMBAD',
      error=Err('e_U', 'PHOT_JHN_U_ERROR', 'stat.error;phot.mag', 'mag', "Error on Johnson's Magnitude in U-band"),
      extra=True),
    P('Hp', 'PHOT_HIP_MAG', 'phot.mag;em.opt', 'double', 'mag', 'HIP2: Hipparcos magnitude (Hp)', 'I/311/hip2',
      error=Err('e_Hp', 'PHOT_HIP_MAG_ERROR', 'stat.error;phot.mag', 'mag', 'HIP2: Error on Hipparcos magnitude'),
      extra=True),
    P('LDD_meas', 'LD_DIAM_MEAS', 'phys.angSize;src;obs', 'double', 'mas',
      'JMDC: measured limb-darkened diameter (weighted mean of the measurements)', 'II/345/jmdc',
      error=Err('e_LDD_meas', 'LD_DIAM_MEAS_ERROR', 'stat.error;phys.angSize', 'mas',
                'JMDC: error on the measured limb-darkened diameter'),
      extra=True),
    P('LDD_meas_n', 'LD_DIAM_MEAS_COUNT', 'meta.number', 'int', '', 'JMDC: number of diameter measurements',
      'II/345/jmdc', extra=True),
    P('LDD_meas_band', 'LD_DIAM_MEAS_BAND', 'instr.bandpass', 'char', '',
      'JMDC: photometric bands of the diameter measurements', 'II/345/jmdc', extra=True),
    P('Rcous', 'PHOT_COUS_R', 'phot.mag;em.opt.R', 'double', 'mag', "Cousins' Magnitude in R-band", 'computed',
      error=Err('e_Rcous', 'PHOT_COUS_R_ERROR', 'stat.error;phot.mag', 'mag', "Error on Cousins' Magnitude in R-band"),
      extra=True),
)

BY_NAME: dict[str, Property] = {p.name: p for p in PROPERTIES}
#: Properties with their own storage (all but the derived ones), in catalogue order.
STORED: tuple[Property, ...] = tuple(p for p in PROPERTIES if not p.derived_from)


def storage_column(prop: Property) -> str:
    """Column a property's value is read from (its own, or the one it derives from)."""
    return BY_NAME[prop.derived_from].column if prop.derived_from else prop.column


def _check() -> None:
    """Fail at import if the declaration is inconsistent (duplicate names or columns)."""
    names = [p.name for p in PROPERTIES] + [p.error.name for p in PROPERTIES if p.error]
    if len(names) != len(set(names)):
        raise ValueError("duplicate property names")
    cols = [c for p in STORED for c in (p.column, p.column + "_e", p.column + "_o", p.column + "_c")]
    if len(cols) != len(set(cols)):
        raise ValueError("duplicate property columns")
    for p in PROPERTIES:
        if p.derived_from and p.derived_from not in BY_NAME:
            raise ValueError(f"{p.name}: derives from unknown {p.derived_from}")


_check()
