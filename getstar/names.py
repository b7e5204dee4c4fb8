"""Star identifiers: what astronomers type -> SIMBAD's spelling, and an exact-match key.

Why this exists: the resolver stores ~1.5 million SIMBAD identifiers and must find them from
free user input ('alpha CMa', 'hd048915', 'α_And', 'Sirius'). Stored identifiers and queries
both go through :func:`ident_key`, so a lookup is one indexed string comparison instead of
fuzzy matching. Everything here is pure Python without I/O; the ingest path calls it once per
identifier, so the regexes are precompiled, dispatch is by first character and nothing is cached.

Unknown syntax is never an error: it comes back cleaned (trimmed, blanks collapsed, '_' -> ' ').

Typography people paste (rules tested in tests/test_names.py): Unicode dashes and minus signs
are '-', degree signs are blanks ('BD−22°4907' = 'BD-22 4907'), curly apostrophes are "'",
hyphens may separate the parts of a designation ('24-Cas', 'θ¹-Eri'), accents and other
diacritics do not count in keys ('Arcalís' = 'Arcalis', '51 Boötis' = '51 Boo'), Gaia EDR3
source ids are DR3's. Case counts in two places, as in SIMBAD: a Latin Bayer letter ('* b Vel'
is not '* B Vel') and the GCVS names 'MU'/'NU' ('NU UMa' is a variable, 'nu UMa' Bayer's nu).
"""

from __future__ import annotations

import re
import unicodedata
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
    ("chi", "chi khi χ"),  # khi: the older transliteration (JMDC writes KHI CYG)
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
    r"(HIP|HIC|HD|HR|BS|SAO|GC|PPM|FK5|GJ|GLIESE|GL)[ -]?0*([0-9]+)(\.[0-9]+)?(?:( ?)([A-Za-z]{1,3}))?",
    re.IGNORECASE | re.ASCII,
)
# BS: the Bright Star catalogue's number is its HR number (the BSC writes 'BS 2491', SIMBAD 'HR 2491')
_CATNUM_PREFIX = {"GLIESE": "GJ", "GL": "GJ", "BS": "HR"}
_DM = re.compile(
    r"(BD|CD|CPD|CP) ?" + _SIGN + r" ?(?:([0-9]{1,2}) 0*([0-9]+)|([0-9]{2})0*([0-9]+))(?:( ?)([A-Za-z]{1,2}))?",
    re.IGNORECASE | re.ASCII,
)
_TYC = re.compile(r"TYC ?0*([0-9]+)(?: ?- ?| )0*([0-9]+)(?: ?- ?| )0*([0-9]+)", re.IGNORECASE | re.ASCII)
_2MASS = re.compile(r"2MASS ?J? ?([0-9]{8}) ?" + _SIGN + r" ?([0-9]{7})", re.IGNORECASE | re.ASCII)
_GAIA = re.compile(r"GAIA ?-? ?(DR[123]|EDR3) ?-? ?0*([0-9]+)", re.IGNORECASE | re.ASCII)
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


# Typography of pasted text: dashes and minus signs, degree/ordinal signs, curly apostrophes.
_TYPOGRAPHY = str.maketrans({
    # full-width forms (East Asian input methods): 'ＨＤ　４８９１５' is 'HD 48915'
    **{chr(0xFF01 + k): chr(0x21 + k) for k in range(94)}, "\u3000": " ",
    # invisible characters pasted with a name: zero-width blanks and joiners, the byte-order mark
    **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff\u00ad", None),
    "\u0251": "\u03b1",  # LATIN SMALL LETTER ALPHA, typed for the Greek one ('ɑ CMa')
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d", "-"),
    **dict.fromkeys("\u00b0\u00ba\u02da", " "),
    **dict.fromkeys("\u2018\u2019\u201b\u02bc\u00b4\u2032\u0060", "'"),
})
# Letters without a Unicode decomposition that people write without their stroke.
_FOLD_LETTERS = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d",
                               "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i"})


def _clean(text: str) -> str:
    """Trim, collapse every whitespace run to one blank, turn '_' into a blank (Stellarium) and
    pasted typography (dashes, minus and degree signs, curly apostrophes) into ASCII."""
    if not text.isascii():
        text = text.translate(_TYPOGRAPHY)
    elif "`" in text:  # the grave accent typed for an apostrophe (it is in _TYPOGRAPHY too)
        text = text.replace("`", "'")
    return " ".join(text.replace("_", " ").split())


def fold(text: str) -> str:
    """``text`` without accents and other diacritics ('Arcalís' -> 'Arcalis', 'Boötis' -> 'Bootis').

    Greek letters, superscript digits and other symbols are kept: only combining marks go.
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD_LETTERS))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def _folded_constellation(words: str) -> str | None:
    """IAU abbreviation of a constellation written with diacritics ('Boötis')."""
    return None if words.isascii() else CONSTELLATIONS.get(fold(words).upper())


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
    catalogue = catalogue.upper()
    if catalogue == "CP":  # the BSC writes 'CP-52 1234' for SIMBAD's 'CPD-52 1234'
        catalogue = "CPD"
    out = f"{catalogue}{sign}{int(zone or zone2):02d} {number or number2}"
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
    ("HSPFB", (_CATNUM, _catnum)),
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


_PREFIXES = frozenset(("*", "V*", "v*"))


def _designation(s: str) -> str | None:
    """'* alf CMa' / 'V* R And' form of a Bayer, Flamsteed or GCVS designation, else None."""
    tokens = s.split(" ")
    first = tokens[0]
    if "*" in first and first not in _PREFIXES:
        # '*alf Cen', 'V*V1234 Cyg': the prefix typed against the letter
        if first[0] == "*" and first[1] != "*":
            tokens[0:1] = ["*", first[1:]]
        elif first[:2] in _PREFIXES and first[2] != "*":
            tokens[0:1] = ["V*", first[2:]]
        first = tokens[0]
    count = len(tokens)
    if count < 2 or count > 7:
        return None
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
    if token in ("V", "v") and count - i >= 2 and tokens[i].isdigit() and tokens[i].isascii():
        token = "V" + tokens[i]  # 'V 1334 Cyg' (a blank after the V, as JMDC writes some)
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
        two = f"{rest[0]} {rest[1]}"
        constellation = CONSTELLATIONS.get(two.upper())
        if constellation is None and not two.isascii():
            constellation = _folded_constellation(two)
        used = 2
    if constellation is None:
        constellation = CONSTELLATIONS.get(rest[0].upper())
        if constellation is None and not rest[0].isascii():
            constellation = _folded_constellation(rest[0])
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
    if s[-1] in _DIGITS:  # a designation ends with its constellation or component letters
        return None
    found = _designation(s)
    if found is None and "-" in s:
        found = _hyphenated_designation(s)
    if found is None:
        found = _glued_designation(s)
    return found


# A designation glued to its constellation: '61Cyg', 'alp1Cen', 'del01Tau', 'mu 1Sco' (KStars, JMDC)
_GLUED = re.compile(r"(.*?[0-9]|[A-Za-z]{2,7}\.?)([A-Za-z]{3})", re.ASCII)


def _glued_designation(s: str) -> str | None:
    """The designation of ``s`` with its constellation abbreviation typed against the number
    or Greek letter before it (tried when nothing else parsed ``s``)."""
    tokens = s.split(" ")
    for k in (len(tokens) - 1, len(tokens) - 2):  # the constellation, or it then a component
        if k < 0:
            continue
        m = _GLUED.fullmatch(tokens[k])
        if m is None or m[2].upper() not in _ABBREVIATIONS:
            continue
        head = m[1]
        if not head[-1].isdigit() and head.rstrip(".").lower() not in GREEK:
            continue  # 'ALTAIR' is not 'ALT' + 'AIR'
        return _designation(" ".join([*tokens[:k], head, m[2], *tokens[k + 1:]]))
    return None


_DIGITS = frozenset("0123456789")
#: The 88 IAU abbreviations, upper-cased.
_ABBREVIATIONS = frozenset(abbreviation.upper() for abbreviation in CONSTELLATIONS.values())


def _hyphenated_designation(s: str) -> str | None:
    """Hyphens between the parts of a designation: '24-Cas', 'θ¹-Eri', 'beta-1-Sco', 'alf-Cen-A'
    (tried only when a constellation ends the text or precedes its last word)."""
    parts = s.replace("-", " ").split()
    n = len(parts)
    if n < 2:
        return None
    ascii_text = s.isascii()
    for words in (parts[-1], parts[-2], f"{parts[-2]} {parts[-1]}", f"{parts[-3]} {parts[-2]}" if n > 2 else ""):
        if words.upper() in CONSTELLATIONS or (not ascii_text and _folded_constellation(words) is not None):
            return _designation(" ".join(parts))
    return None


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


def _upper(c: str, apostrophes: bool = False) -> str:
    """``c`` upper-cased, but a Latin Bayer letter: SIMBAD has both '* b Vel' and '* B Vel'
    (Lacaille's and Bayer's letters, 45 such pairs among the bright stars); apostrophes dropped
    (kept with ``apostrophes``: key rule 3)."""
    key = c.upper()
    if c[:1] == "*" and len(c) > 3 and c[1] == " " and "a" <= c[2] <= "z" and c[3] in _AFTER_LETTER:
        key = key[:2] + c[2] + key[3:]
    return _without_apostrophes(key) if "'" in key and not apostrophes else key


def _without_apostrophes(key: str) -> str:
    """Why: people type 'Barnards star', 'Andrews star', 'Al Sad al Mulk' for SIMBAD's and
    Stellarium's "Barnard's star", "Andrews' star", "Al Sa'd al Mulk"; no two names differ by
    an apostrophe alone."""
    return " ".join(key.replace("'", "").split())


def _key_of(c: str) -> str:
    """The key of canonical form ``c`` (see ident_key)."""
    if c.isascii():
        return _upper(c)
    # Rare path: folding and upper() can turn non-ASCII letters into ASCII ones ('ß' -> 'SS',
    # 'ö' -> 'O') which parse differently; settle on a fixed point so keys of keys are stable.
    key = _upper(fold(c))
    for _ in range(4):
        again = _upper(fold(canonical(key)))
        if again == key:
            break
        key = again
    return key


_AFTER_LETTER = frozenset(" 0123456789")


def ident_key(text: str) -> str:
    """Matching key: canonical(text) without diacritics, upper-cased (but a Latin Bayer letter),
    whitespace runs collapsed to one space.

    Equal keys <=> same identifier. Applied to both stored SIMBAD identifiers and user input,
    so the lookup is an exact comparison on an indexed column.
    """
    c = canonical(text)
    if c.isascii() and "'" not in c:  # _key_of(c), inlined: the ingest calls this once per identifier
        if c[:1] == "*" and c[2:3].islower() and len(c) > 3 and c[3] in _AFTER_LETTER and c[1] == " ":
            return "* " + c[2] + c[3:].upper()
        return c.upper()
    return _key_of(c)


def _alternatives(s: str, key: str) -> list[str]:
    """Other keys SIMBAD may store a recognised query under (see query_keys).

    Never across SIMBAD's case rules: 'NU UMa' is the GCVS variable and 'nu UMa' Bayer's nu,
    with no fallback from one to the other (a wrong star is worse than none).
    """
    head, _, tail = key.partition(" ")
    if head in ("*", "V*"):
        if s[0] == "*" or s[:3].upper() == "V* ":
            return []  # typed in SIMBAD's own form
        designation, _, rest = tail.partition(" ")
        if head == "V*" and len(designation) == 1:
            return ["* " + tail]  # typed 'R Aps', SIMBAD has '* R Aps'
        if head != "*" or not designation[0].isascii() or not designation[0].isalpha() \
                or not (len(designation) == 1 or (len(designation) == 3 and designation[1:].isdigit())):
            return []
        letter = designation[0]
        if letter in "oO":
            # 'o Cet' is omicron Ceti unless a Latin 'o' exists ('* o Leo' is tried first); the
            # other case's Latin letter ('* O Pup' for 'o Pup') only after omicron
            omicron, other = f"* OMI{designation[1:]} {rest}", f"* {designation.swapcase()} {rest}"
            return [omicron, other] if letter == "o" else [other, omicron]
        if letter.upper() <= "Q":
            swapped = f"* {designation.swapcase()} {rest}"  # a Latin letter in the other case: 'B Per'
            if letter.isupper() and len(designation) == 1:
                return ["V* " + tail, swapped]  # some capitals are SIMBAD's variables: 'V* G Leo' (20 Leo)
            return [swapped]
        if len(designation) == 1 and letter.islower():
            return ["V* " + tail.upper()]  # typed 'r Leo' meaning the variable R Leo
        return []
    if head == "GAIA" and tail.startswith("EDR3 "):
        return ["GAIA DR3 " + tail[5:]]  # Gaia EDR3 source ids are DR3's
    if head == "GAIA" and tail.startswith("DR2 "):
        # most DR2 source ids are kept in DR3 (SIMBAD's bright stars: 7,172 of the 8,246 with
        # both ids), and none of SIMBAD's 8,616 DR2 ids is another object's DR3 id: the snapshot
        # holds DR3 ids only, but for SIMBAD's stars
        return ["GAIA DR3 " + tail[4:]]
    m = _SPACED_COMPONENT.fullmatch(key)
    return [m[1] + m[2]] if m is not None else []  # typed 'HD 48915 A', SIMBAD has 'HD 48915A'


_TRAILING_COMPONENT = re.compile(r"[0-9] ?[A-Z][A-Za-z]?[A-Z]?$")


def _names_a_pair(c: str) -> bool:
    """Whether canonical ``c`` ends with component letters ('* sig Peg A', 'HD 119361AB')."""
    if c[:2] == "* " or c[:3] == "V* ":
        return c.count(" ") == 3
    return c[:5] != "NAME " and _TRAILING_COMPONENT.search(c) is not None


#: Catalogues whose numbers people type against their acronym ('IRAS06429-1639', 'LHS219',
#: 'IRC+10024'): SIMBAD writes a blank between them ('CCDMJ…': 'CCDM J…').
_UNSPACED = re.compile(r"(IRAS|IRC|LHS|LTT|LFT|LP|GCRV|NSV|ADS|TIC|CCDM|ROSS|WOLF|UCAC4|PLX)(J?[+\-]?[0-9].*)",
                       re.IGNORECASE | re.ASCII)
#: Punctuation around a name pasted from a list or a sentence: "'Sirius'", 'HD 48915.', 'Vega,'
_QUOTES = ("''", '""', "()", "[]", "<>")


def _untyped(s: str) -> str:
    """``s`` without the quotes around it and the punctuation after it (cleaned ``s``)."""
    while len(s) > 2 and s[0] + s[-1] in _QUOTES:
        s = s[1:-1].strip()
    return s.rstrip(",;:.!?").rstrip() or s


def _spaced(s: str) -> str | None:
    """``s`` with the blank SIMBAD writes after a catalogue acronym typed without it, else None."""
    m = _UNSPACED.fullmatch(s)
    if m is None:
        return None
    acronym, rest = m[1], m[2]
    if acronym.upper() == "CCDM" and rest[:1] in "jJ":
        rest = "J" + rest[1:]
    return f"{acronym} {rest}"


def _system_of(c: str) -> str | None:
    """The system a pair's designation names ('* alf Cen AB' -> '* alf Cen', 'HD 119361AB' ->
    'HD 119361'): the resolver answers a system by its primary (``system_name``)."""
    m = _PAIR_LETTERS.search(c)
    return c[:m.start()] if m is not None and _names_a_pair(c) else None


#: A pair's or triple's letters: 'AB', 'ABC' (not 'AC': A with another star than the primary's mate)
_PAIR_LETTERS = re.compile(r" ?ABC?$")


def query_keys(text: str) -> list[str]:
    """Ordered, de-duplicated candidate keys for a user query (at most 4), best first.

    ident_key(text) first, then spellings SIMBAD may have used instead: 'NAME X' for a plain
    word that could be a proper name ('Sirius' -> ['SIRIUS', 'NAME SIRIUS']) and, last, for a
    component designation SIMBAD also uses as a name ('NAME iot Cas AB'), '* R Aps' for a
    typed 'R Aps' (some letter designations are stored without 'V*'), 'V* R LEO' for 'r Leo',
    'V* NU PAV' for 'nu Pav' (GCVS 'NU' vs Greek nu), and the attached component 'HD 48915A'
    for 'HD 48915 A'. Why: a user query has no catalogue context, so the resolver tries these
    in order and takes the first hit.
    """
    s = _clean(text)
    if not s:
        return []
    if len(s) > _MAX_PARSE:
        return [_key_of(s)]
    keys = _keys_of(s)
    bare = _untyped(s)
    if bare and bare != s:  # the punctuation typed around it: the bare name's keys next
        keys[1:1] = _keys_of(bare)
    if "'" in s and s[0].isalnum():  # a snapshot built before key rule 4 kept apostrophes in its keys
        keys += [_upper(c, apostrophes=True) for c in (s, "NAME " + s)]
    return [k for k in dict.fromkeys(keys) if k][:4]  # no empty key: "'" alone names nothing


def _keys_of(s: str) -> list[str]:
    """query_keys of cleaned ``s`` (at most ``_MAX_PARSE`` characters), in order, maybe repeated."""
    parsed = _parse(s)
    key = _key_of(parsed or s)
    keys = [key]
    if parsed is None:
        spaced = _spaced(s)
        if spaced is not None:
            keys.append(_key_of(spaced))
        if s[0].isalnum() and any(ch.isalpha() for ch in s):
            keys.append(_key_of("NAME " + s))  # canonical('NAME ' + s): s is clean
    else:
        keys.extend(_alternatives(s, key))
        if _names_a_pair(parsed):  # SIMBAD names some systems so: 'NAME iot Cas AB'
            keys.append(_key_of("NAME " + parsed.removeprefix("* ").removeprefix("V* ")))
            system = _system_of(parsed)
            if system is not None:  # else the system itself, answered by its primary
                keys.append(_key_of(system))
    return keys
