"""The name normaliser as it was before issue 15 (commit 331082c), frozen for ``bench/names.py``.

Not used by the service: the bench measures ``getstar.names`` against it in the same run.
"""
# ruff: noqa


from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["CONSTELLATIONS", "GREEK", "canonical", "ident_key", "query_keys"]

# Longer (cleaned) inputs are not parsed: no identifier is that long, and it caps the work
# done on hostile input.
_MAX_PARSE = 200

# --------------------------------------------------------------------------------------------
# Greek letters. SIMBAD writes three characters; the two-letter names get a dot ('mu.', 'nu.',
# 'pi.') while xi is 'ksi'. Checked against 280k real SIMBAD identifiers (simbad_bsc_ids.tsv).
_GREEK_FORMS = (
    ("alf", "alpha alp α"),
    ("bet", "beta β ϐ"),
    ("gam", "gamma γ"),
    ("del", "delta δ"),
    ("eps", "epsilon eps ε ϵ"),
    ("zet", "zeta ζ"),
    ("eta", "eta η"),
    ("tet", "theta the tht θ ϑ"),
    ("iot", "iota ι"),
    ("kap", "kappa κ ϰ"),
    ("lam", "lambda lamda lam λ"),
    ("mu.", "mu μ µ"),  # the last one is U+00B5 MICRO SIGN, which keyboards produce
    ("nu.", "nu ν"),
    ("ksi", "xi ξ"),
    ("omi", "omicron ο"),
    ("pi.", "pi π ϖ"),
    ("rho", "rho ρ ϱ"),
    ("sig", "sigma σ ς ϲ"),
    ("tau", "tau τ"),
    ("ups", "upsilon υ ϒ"),
    ("phi", "phi φ ϕ"),
    ("chi", "chi χ"),
    ("psi", "psi ψ"),
    ("ome", "omega ω"),
)
GREEK: dict[str, str] = {}
"""Lower-case Greek letter spelling (name, SIMBAD abbreviation, Unicode) -> SIMBAD's 3-char form."""
for _simbad, _forms in _GREEK_FORMS:
    GREEK[_simbad] = _simbad
    GREEK[_simbad.rstrip(".")] = _simbad
    for _form in _forms.split():
        GREEK[_form] = _simbad

# --------------------------------------------------------------------------------------------
# The 88 IAU constellations: abbreviation | nominative | genitive (written out as data: no
# shipped table has the genitives, and the resolver must not depend on astropy for this).
_CONSTELLATION_TABLE = """
And|Andromeda|Andromedae
Ant|Antlia|Antliae
Aps|Apus|Apodis
Aqr|Aquarius|Aquarii
Aql|Aquila|Aquilae
Ara|Ara|Arae
Ari|Aries|Arietis
Aur|Auriga|Aurigae
Boo|Bootes|Bootis
Cae|Caelum|Caeli
Cam|Camelopardalis|Camelopardalis
Cnc|Cancer|Cancri
CVn|Canes Venatici|Canum Venaticorum
CMa|Canis Major|Canis Majoris
CMi|Canis Minor|Canis Minoris
Cap|Capricornus|Capricorni
Car|Carina|Carinae
Cas|Cassiopeia|Cassiopeiae
Cen|Centaurus|Centauri
Cep|Cepheus|Cephei
Cet|Cetus|Ceti
Cha|Chamaeleon|Chamaeleontis
Cir|Circinus|Circini
Col|Columba|Columbae
Com|Coma Berenices|Comae Berenices
CrA|Corona Australis|Coronae Australis
CrB|Corona Borealis|Coronae Borealis
Crv|Corvus|Corvi
Crt|Crater|Crateris
Cru|Crux|Crucis
Cyg|Cygnus|Cygni
Del|Delphinus|Delphini
Dor|Dorado|Doradus
Dra|Draco|Draconis
Equ|Equuleus|Equulei
Eri|Eridanus|Eridani
For|Fornax|Fornacis
Gem|Gemini|Geminorum
Gru|Grus|Gruis
Her|Hercules|Herculis
Hor|Horologium|Horologii
Hya|Hydra|Hydrae
Hyi|Hydrus|Hydri
Ind|Indus|Indi
Lac|Lacerta|Lacertae
Leo|Leo|Leonis
LMi|Leo Minor|Leonis Minoris
Lep|Lepus|Leporis
Lib|Libra|Librae
Lup|Lupus|Lupi
Lyn|Lynx|Lyncis
Lyr|Lyra|Lyrae
Men|Mensa|Mensae
Mic|Microscopium|Microscopii
Mon|Monoceros|Monocerotis
Mus|Musca|Muscae
Nor|Norma|Normae
Oct|Octans|Octantis
Oph|Ophiuchus|Ophiuchi
Ori|Orion|Orionis
Pav|Pavo|Pavonis
Peg|Pegasus|Pegasi
Per|Perseus|Persei
Phe|Phoenix|Phoenicis
Pic|Pictor|Pictoris
Psc|Pisces|Piscium
PsA|Piscis Austrinus|Piscis Austrini
Pup|Puppis|Puppis
Pyx|Pyxis|Pyxidis
Ret|Reticulum|Reticuli
Sge|Sagitta|Sagittae
Sgr|Sagittarius|Sagittarii
Sco|Scorpius|Scorpii
Scl|Sculptor|Sculptoris
Sct|Scutum|Scuti
Ser|Serpens|Serpentis
Sex|Sextans|Sextantis
Tau|Taurus|Tauri
Tel|Telescopium|Telescopii
Tri|Triangulum|Trianguli
TrA|Triangulum Australe|Trianguli Australis
Tuc|Tucana|Tucanae
UMa|Ursa Major|Ursae Majoris
UMi|Ursa Minor|Ursae Minoris
Vel|Vela|Velorum
Vir|Virgo|Virginis
Vol|Volans|Volantis
Vul|Vulpecula|Vulpeculae
"""
# Spellings people use that are not the IAU ones (astropy's table has the last three).
_CONSTELLATION_ALIASES = {
    "Boötes": "Boo",
    "Scorpio": "Sco",
    "Pisces Austrinus": "PsA",
    "Chamaleon": "Cha",
    "Ophiucus": "Oph",
}

CONSTELLATIONS: dict[str, str] = {}
"""Upper-cased abbreviation / Latin name / genitive -> IAU abbreviation in its standard case."""
for _line in _CONSTELLATION_TABLE.strip().splitlines():
    _abbr, _nominative, _genitive = _line.split("|")
    for _name in (_abbr, _nominative, _genitive):
        CONSTELLATIONS[_name.upper()] = _abbr
for _name, _abbr in _CONSTELLATION_ALIASES.items():
    CONSTELLATIONS[_name.upper()] = _abbr

# --------------------------------------------------------------------------------------------
# Catalogue families. Input reaching these has been cleaned: the only blank is a single ' '.
_SIGN = r"([+\-\u2212])"  # U+2212 MINUS SIGN arrives from copy-pasted PDFs
_CATNUM = re.compile(
    r"(HIP|HIC|HD|HR|SAO|GC|PPM|FK5|GJ|GLIESE|GL) ?0*([0-9]+)(\.[0-9]+)?(?:( ?)([A-Za-z]{1,3}))?",
    re.IGNORECASE | re.ASCII,
)
_CATNUM_PREFIX = {"GLIESE": "GJ", "GL": "GJ"}
_DM = re.compile(
    r"(BD|CD|CPD) ?" + _SIGN + r" ?(?:([0-9]{1,2}) 0*([0-9]+)|([0-9]{2})0*([0-9]+))(?:( ?)([A-Za-z]{1,2}))?",
    re.IGNORECASE | re.ASCII,
)
_TYC = re.compile(r"TYC ?0*([0-9]+)(?: ?- ?| )0*([0-9]+)(?: ?- ?| )0*([0-9]+)", re.IGNORECASE | re.ASCII)
_2MASS = re.compile(r"2MASS ?J? ?([0-9]{8})" + _SIGN + r"([0-9]{7})", re.IGNORECASE | re.ASCII)
_GAIA = re.compile(r"GAIA ?(DR[123]|EDR3) ?0*([0-9]+)", re.IGNORECASE | re.ASCII)
_WDS = re.compile(
    r"WDS ?J? ?([0-9]{5})" + _SIGN + r"([0-9]{4}) ?([A-Za-z][A-Za-z,]*)?", re.IGNORECASE | re.ASCII
)

# Bayer/Flamsteed/GCVS designation token: letters (or one Unicode letter), optional '.'/'-',
# optional one- or two-digit number, possibly written as superscript ('γ¹', 'mu.01', 'gamma-1').
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_FROM_SUPERSCRIPT = str.maketrans(_SUPERSCRIPTS, "0123456789")
_DESIG = re.compile(r"([A-Za-z]+|[^\W\d_])([.\-]?)([0-9]{1,2}|[" + _SUPERSCRIPTS + r"]{1,2})?")
_VNUMBER = re.compile(r"[Vv]([0-9]{3,})")
_FLAMSTEED = re.compile(r"[0-9]{1,3}")
_TWO_DIGITS = re.compile(r"[0-9]{1,2}")
_COMPONENT = re.compile(r"[A-Za-z]{1,3}")
# 'V* NU Pav' and 'V* MU Cep' are GCVS names; Greek nu/mu are lower-case ('nu.') in SIMBAD.
_GCVS_NOT_GREEK = frozenset(("MU", "NU"))

# For query_keys: catalogue number with a blank-separated component -> SIMBAD's attached form.
_SPACED_COMPONENT = re.compile(
    r"((?:HIP|HIC|HD|HR|SAO|GC|PPM|FK5) [0-9]+|(?:BD|CD|CPD)[+-][0-9]{2} [0-9]+) ([A-Z]{1,3})"
)


def _clean(text: str) -> str:
    """Trim, collapse every whitespace run to one blank and turn '_' into a blank (Stellarium)."""
    return " ".join(text.replace("_", " ").split())


def _catnum(m: re.Match[str]) -> str:
    prefix, number, decimals, blank, component = m.groups()
    prefix = prefix.upper()
    out = f"{_CATNUM_PREFIX.get(prefix, prefix)} {number}{decimals or ''}"
    if component is None:
        return out
    if out.startswith("GJ "):
        # SIMBAD writes Gliese components blank-separated ('GJ 244 A'), planets too ('GJ 876 b').
        return f"{out} {component if blank else component.upper()}"
    # SIMBAD attaches components ('HD 12345A') and separates planets ('HD 41004 b'): keep the
    # blank as typed so both stay distinct; an attached suffix is a component, hence upper-case.
    return f"{out} {component}" if blank else out + component.upper()


def _dm(m: re.Match[str]) -> str:
    catalogue, sign, zone, number, zone2, number2, blank, component = m.groups()
    sign = "+" if sign == "+" else "-"
    out = f"{catalogue.upper()}{sign}{int(zone or zone2):02d} {number or number2}"
    if component is None:
        return out
    return f"{out}{blank}{component}"  # SIMBAD keeps the case here ('BD+43 4305a', '...p')


def _tyc(m: re.Match[str]) -> str:
    return f"TYC {m[1]}-{m[2]}-{m[3]}"


def _2mass(m: re.Match[str]) -> str:
    return f"2MASS J{m[1]}{'+' if m[2] == '+' else '-'}{m[3]}"


def _gaia(m: re.Match[str]) -> str:
    return f"Gaia {m[1].upper()} {m[2]}"


def _wds(m: re.Match[str]) -> str:
    return f"WDS J{m[1]}{'+' if m[2] == '+' else '-'}{m[3]}{m[4] or ''}"


# Which families to try, by the upper-cased first character of the cleaned text.
_Family = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]
_FAMILIES: dict[str, tuple[_Family, ...]] = {}
_family: _Family
for _initial, _family in (
    ("HSPF", (_CATNUM, _catnum)),
    ("G", (_CATNUM, _catnum)),
    ("G", (_GAIA, _gaia)),
    ("BC", (_DM, _dm)),
    ("T", (_TYC, _tyc)),
    ("2", (_2MASS, _2mass)),
    ("W", (_WDS, _wds)),
):
    for _ch in _initial:
        for _case in (_ch, _ch.lower()):
            _FAMILIES[_case] = (*_FAMILIES.get(_case, ()), _family)
del _simbad, _forms, _form, _line, _abbr, _nominative, _genitive, _name, _initial, _family, _ch, _case


def _gcvs_pair(letters: str) -> bool:
    """Two-letter GCVS names: RR..RZ, SS..SZ, ..., ZZ, then AA..AZ, BB..BZ, ..., QZ; no J."""
    a, b = letters[0], letters[1]
    return "A" <= a <= b <= "Z" and a != "J" and b != "J"


def _designation(s: str) -> str | None:
    """'* alf CMa' / 'V* R And' form of a Bayer, Flamsteed or GCVS designation, else None."""
    tokens = s.split(" ")
    count = len(tokens)
    if count < 2 or count > 7:
        return None
    first = tokens[0]
    if first == "*":
        prefix, i = "*", 1
    elif first == "V*" or first == "v*":
        prefix, i = "V*", 1
    else:
        prefix, i = "", 0
    if count - i < 2:
        return None
    token = tokens[i]
    i += 1
    variable = False  # GCVS-shaped: gets 'V* ' when no prefix was typed
    if token[0] in "0123456789":
        if not _FLAMSTEED.fullmatch(token):
            return None
        designation = str(int(token))
    elif (v := _VNUMBER.fullmatch(token)) is not None:
        number = int(v[1])
        if number < 335:  # V1..V334 are written as letters in the GCVS
            return None
        designation, variable = f"V{number}", True
    else:
        m = _DESIG.fullmatch(token)
        if m is None:
            return None
        letters, separator, digits = m.groups()
        greek = GREEK.get(letters.lower())
        if greek is not None and not (letters in _GCVS_NOT_GREEK and not separator and digits is None):
            if digits is None and count - i >= 2 and _TWO_DIGITS.fullmatch(tokens[i]):
                digits = tokens[i]  # 'gamma 1 And' (also 'gamma_1_And')
                i += 1
            designation = greek
        elif len(letters) == 1 and letters.isascii():
            designation = letters  # Bayer letters keep their case: '* b Vel' vs '* B Vel'
            variable = digits is None and "R" <= letters <= "Z"
        elif len(letters) == 2 and digits is None and letters.isascii() and _gcvs_pair(letters.upper()):
            designation, variable = letters.upper(), True
        else:
            return None
        if digits is not None:
            designation += f"{int(digits.translate(_FROM_SUPERSCRIPT)):02d}"
    rest = tokens[i:]
    constellation = None
    used = 1
    if len(rest) >= 2:
        constellation = CONSTELLATIONS.get(f"{rest[0]} {rest[1]}".upper())
        used = 2
    if constellation is None:
        constellation = CONSTELLATIONS.get(rest[0].upper())
        used = 1
        if constellation is None:
            return None
    if not prefix:
        prefix = "V*" if variable else "*"
    if len(rest) == used:
        return f"{prefix} {designation} {constellation}"
    if len(rest) == used + 1 and _COMPONENT.fullmatch(component := rest[used]) and component.isascii():
        # Case kept: SIMBAD has components ('* alf Cen A') and planets ('* eps Eri b').
        return f"{prefix} {designation} {constellation} {component}"
    return None


def _parse(s: str) -> str | None:
    """Canonical form of cleaned, non-empty `s`, or None when the syntax is not recognised."""
    families = _FAMILIES.get(s[0])
    if families is not None:
        for pattern, formatter in families:
            m = pattern.fullmatch(s)
            if m is not None:
                return formatter(m)
    if s[:5].upper() == "NAME " and len(s) > 5:
        return "NAME " + s[5:]  # free text after NAME: SIMBAD's spelling, kept as typed
    return _designation(s)


def canonical(text: str) -> str:
    """SIMBAD spelling of `text`: 'alpha CMa' -> '* alf CMa', 'hd048915' -> 'HD 48915',
    'Sirius' -> 'Sirius' (unknown syntax comes back cleaned: trimmed, blanks collapsed,
    '_' -> ' ').

    Why: stored identifiers and user input must meet in one spelling; SIMBAD's is the one the
    database already holds, so results read naturally too.
    """
    s = _clean(text)
    if not s or len(s) > _MAX_PARSE:
        return s
    return _parse(s) or s


def ident_key(text: str) -> str:
    """Matching key: canonical(text) upper-cased, whitespace runs collapsed to one space.

    Equal keys <=> same identifier. Applied to both stored SIMBAD identifiers and user input,
    so the lookup is an exact comparison on an indexed column.
    """
    c = canonical(text)
    key = c.upper()
    if c.isascii():
        return key
    # Rare path: upper() can turn non-ASCII letters into ASCII ones ('ß' -> 'SS', 'ı' -> 'I')
    # which parse differently; settle on a fixed point so keys of keys are stable.
    for _ in range(4):
        again = canonical(key).upper()
        if again == key:
            break
        key = again
    return key


def _alternatives(s: str, key: str) -> list[str]:
    """Other keys SIMBAD may store a recognised query under (see query_keys)."""
    head, _, tail = key.partition(" ")
    if head in ("*", "V*") and s[0] != "*" and s[:3].upper() != "V* ":
        designation, _, rest = tail.partition(" ")
        if head == "V*" and len(designation) == 1:
            return ["* " + tail]  # typed 'R Aps', SIMBAD has '* R Aps'
        if head == "V*" and designation in _GCVS_NOT_GREEK:
            return [f"* {designation}. {rest}"]  # typed 'MU Cep' (caps lock) meaning mu Cep
        if head == "*" and designation in ("MU.", "NU."):
            return [f"V* {designation[:2]} {rest}"]  # typed 'nu Pav', SIMBAD has 'V* NU Pav'
        if head == "*" and len(designation) == 1 and "R" <= designation <= "Z":
            return ["V* " + tail]  # typed 'r Leo' meaning the variable R Leo
        return []
    m = _SPACED_COMPONENT.fullmatch(key)
    return [m[1] + m[2]] if m is not None else []  # typed 'HD 48915 A', SIMBAD has 'HD 48915A'


def query_keys(text: str) -> list[str]:
    """Ordered, de-duplicated candidate keys for a user query (at most 4), best first.

    ident_key(text) first, then spellings SIMBAD may have used instead: 'NAME X' for a plain
    word that could be a proper name ('Sirius' -> ['SIRIUS', 'NAME SIRIUS']), '* R Aps' for a
    typed 'R Aps' (some letter designations are stored without 'V*'), 'V* R LEO' for 'r Leo',
    'V* NU PAV' for 'nu Pav' (GCVS 'NU' vs Greek nu), and the attached component 'HD 48915A'
    for 'HD 48915 A'. Why: a user query has no catalogue context, so the resolver tries these
    in order and takes the first hit.
    """
    key = ident_key(text)
    if not key:
        return []
    keys = [key]
    s = _clean(text)
    if len(s) <= _MAX_PARSE:
        if _parse(s) is None:
            if s[0].isalnum() and any(ch.isalpha() for ch in s):
                keys.append(ident_key("NAME " + s))
        else:
            keys.extend(_alternatives(s, key))
    return list(dict.fromkeys(keys))[:4]
