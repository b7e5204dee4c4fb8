"""Name-resolution report: the identifiers the snapshot holds, typed the ways people type them.

Every identifier family of the live snapshot (HIP, HD, HR, SAO, TYC, 2MASS, Gaia DR3, GJ,
BD/CD/CPD, WDS, Bayer, Flamsteed, GCVS, proper names, multiple systems' names, others) is
sampled, each identifier re-spelled (``respell``: case, spelled-out and Unicode Greek,
superscript digits, genitives with and without diacritics, hyphens and underscores between
parts, Unicode minus and degree signs, loose spacing, ``NAME`` dropped, accents dropped or
added, curly apostrophes, ``Gaia EDR3``), and every spelling is resolved by the service's
own resolver (``Resolver.resolve_names``, the code behind ``GET /v1/stars``).

The right star: for an identifier SIMBAD gives (the bright-star dump in ``raw``), the star
of SIMBAD's object; for a multiple system's name (``live.system_name``), the system's primary
component; otherwise the star(s) the snapshot holds it on.  An identifier several stars hold
is right when answered ``ambiguous`` with them.  Printed per family: identifiers, spellings,
the fraction answered with the right star, ambiguous, not found, and **wrong stars** (an
``ok`` answer with another star: must be 0), with the first wrong ones listed.

    .venv/bin/python bench/names_report.py [--dsn DSN] [--per-family 3000] [--all] [--seed 15]

Without ``--dsn`` (or ``GETSTAR_BENCH_DSN``) it uses the embedded cluster of the environment
(``GETSTAR_HOME`` / ``GETSTAR_EMBEDDED_PORT``), which must hold a snapshot.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from getstar.names import CONSTELLATIONS, GREEK  # noqa: E402

FAMILIES: list[tuple[str, re.Pattern[str]]] = [(name, re.compile(rx)) for name, rx in (
    ("HIP", r"HIP \d+"), ("HD", r"HD \d+[A-Z]*"), ("HR", r"HR \d+[A-Z]*"), ("SAO", r"SAO \d+"),
    ("TYC", r"TYC \d+-\d+-\d+"), ("2MASS", r"2MASS J\d{8}[+-]\d{7}"), ("Gaia DR3", r"Gaia DR3 \d+"),
    ("GJ", r"GJ \d+(\.\d+)?( [A-Z])?"), ("BD/CD/CPD", r"(BD|CD|CPD)[+-]\d\d \d+[A-Za-z]*"),
    ("WDS", r"WDS J\d{5}[+-]\d{4}.*"), ("Bayer", r"V?\* [a-z]{2}[a-z.](\d\d)? \w{3}( [A-Z]\w*)?"),
    ("Bayer (Latin)", r"\* [A-Za-z](\d\d)? \w{3}( [A-Z]\w*)?"), ("Flamsteed", r"\* \d{1,3} \w{3}( [A-Z]\w*)?"),
    ("GCVS", r"V\* ([A-Z]{1,2}|V\d+) \w{3}"), ("proper name", r"NAME .+"),
)]
SYSTEM = "multiple system"
OTHER = "other"

_SIMBAD_GREEK: dict[str, str] = {}  # SIMBAD's abbreviation -> the longest spelled-out name ('mu.' -> 'mu')
for _spelled, _simbad in GREEK.items():
    if _spelled.isascii() and _spelled.isalpha() and len(_spelled) >= len(_SIMBAD_GREEK.get(_simbad, "")):
        _SIMBAD_GREEK[_simbad] = _spelled
_UNICODE_GREEK = {v: k for k, v in GREEK.items() if len(k) == 1 and not k.isascii()}
_GENITIVE: dict[str, list[str]] = collections.defaultdict(list)
for _word, _abbr in CONSTELLATIONS.items():
    if _word != _abbr.upper():
        _GENITIVE[_abbr].append(_word.title())
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_ACCENTED = str.maketrans("aeiouAEIOU", "áéíóúÁÉÍÓÚ")


def family_of(identifier: str) -> str:
    for name, pattern in FAMILIES:
        if pattern.fullmatch(identifier):
            return name
    return OTHER


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def respell(identifier: str, taken: Callable[[str], bool] = lambda _typed: False) -> list[tuple[str, str]]:
    """(style, spelling) pairs: the ways people type ``identifier`` (SIMBAD's spelling).

    ``taken(typed)``: whether ``typed`` is some other star's own identifier (then it is not a
    way to type this one: 'o Tau' is Latin o Tau, not omicron Tau)."""
    out: list[tuple[str, str]] = []
    if not re.match(r"\* [A-Za-z](\d\d)? |V\* (MU|NU) ", identifier):  # where case means something, as in SIMBAD
        out += [("lower case", identifier.lower()), ("upper case", identifier.upper())]
    m = re.fullmatch(r"(V?\*) ([a-z]{2}[a-z.]|[A-Za-z]|\d{1,3})(\d\d)? (\w{3})( [A-Z]\w*)?", identifier)
    if m:
        prefix, letter, number, constellation, component = m.groups()
        component = component or ""
        digits = str(int(number)) if number else ""
        genitives = _GENITIVE.get(constellation, [constellation])
        greek = _SIMBAD_GREEK.get(letter)
        if greek:
            out += [("spelled-out Greek", f"{greek}{digits} {constellation}{component}"),
                    ("spelled-out Greek, genitive", f"{greek.title()}{digits} {genitives[-1]}{component}"),
                    ("Unicode Greek", f"{_UNICODE_GREEK[letter]}{digits} {constellation}{component}"),
                    ("hyphens", f"{greek.title()}-{digits + '-' if digits else ''}{constellation}{component}"
                     .replace(" ", "-")),
                    ("underscores", f"{_UNICODE_GREEK[letter]}{digits}_{constellation}{component.replace(' ', '_')}"),
                    ("no prefix", f"{letter.rstrip('.')}{digits} {constellation}{component}")]
            if digits:
                sup = digits.translate(_SUPERSCRIPT)
                out += [("superscript", f"{_UNICODE_GREEK[letter]}{sup} {constellation}{component}"),
                        ("superscript, hyphen", f"{_UNICODE_GREEK[letter]}{sup}-{constellation}{component}"),
                        ("spelled-out, number apart", f"{greek.title()} {digits} {genitives[-1]}{component}")]
            if letter == "omi" and not taken(f"* o{number or ''} {constellation}{component}"):
                out.append(("o for omicron", f"o{digits} {constellation}{component}"))
        elif letter.isdigit():
            out += [("Flamsteed, genitive", f"{letter} {genitives[-1]}{component}"),
                    ("Flamsteed, hyphen", f"{letter}-{constellation}{component.replace(' ', '-')}"),
                    ("Flamsteed, underscore", f"{letter}_{constellation}{component.replace(' ', '_')}"),
                    ("Flamsteed, diacritics", f"{letter} {genitives[-1].replace('oo', 'oö')}{component}")]
        elif not (prefix == "*" and "R" <= letter <= "Z" and not digits):  # 'V Pup' without '*' is GCVS's
            out += [("no prefix", f"{letter}{digits} {constellation}{component}"),
                    ("genitive", f"{letter}{digits} {genitives[-1]}{component}")]
    elif identifier.startswith("NAME "):
        name = identifier[5:]
        if not taken(name):  # 'Os Pegasi' without NAME is the variable OS Peg
            out += [("without NAME", name), ("lower case, without NAME", name.lower())]
        folded = _strip_accents(name)
        if folded != name:
            out.append(("accents dropped", folded))
        else:
            out.append(("an accent added", name.translate(_ACCENTED)[:1] + name[1:]))
        if "'" in name:
            out.append(("curly apostrophe", name.replace("'", "\u2019")))
        if " " in name:
            out.append(("underscores", name.replace(" ", "_")))
    elif m := re.fullmatch(r"(HIP|HD|HR|SAO|GJ) (\d+.*)", identifier):
        out += [("no blank", f"{m[1]}{m[2]}"), ("leading zeros", f"{m[1]} 0{m[2]}"), ("hyphen", f"{m[1]}-{m[2]}")]
    elif m := re.fullmatch(r"(BD|CD|CPD)([+-])(\d\d) (\d+)(.*)", identifier):
        sign = "\u2212" if m[2] == "-" else "+"
        out += [("minus and degree signs", f"{m[1]}{sign}{m[3]}°{m[4]}{m[5]}"),
                ("loose spacing", f"{m[1]} {m[2]}{m[3]}  {m[4]}{m[5]}")]
    elif m := re.fullmatch(r"Gaia DR3 (\d+)", identifier):
        out += [("EDR3", f"Gaia EDR3 {m[1]}"), ("loose spacing", f"Gaia EDR3- {m[1]}"), ("hyphen", f"Gaia DR3-{m[1]}")]
    elif m := re.fullmatch(r"2MASS J(\d{8})([+-])(\d{7})", identifier):
        out += [("without J", f"2MASS {m[1]}{m[2]}{m[3]}"),
                ("Unicode minus", f"2MASS J{m[1]}{chr(0x2212) if m[2] == '-' else '+'}{m[3]}")]
    elif m := re.fullmatch(r"TYC (\d+)-(\d+)-(\d+)", identifier):
        out += [("blanks", f"TYC {m[1]} {m[2]} {m[3]}"), ("en dashes", f"TYC {m[1]}\u2013{m[2]}\u2013{m[3]}")]
    elif identifier.startswith("WDS J"):
        out.append(("without J", "WDS " + identifier[5:]))
    seen = {identifier}
    unique = [("as stored", identifier)]
    for style, spelling in out:
        if spelling not in seen:
            seen.add(spelling)
            unique.append((style, spelling))
    return unique


@dataclass
class Tally:
    identifiers: int = 0
    spellings: int = 0
    right: int = 0
    ambiguous: int = 0
    not_found: int = 0
    wrong: int = 0
    wrong_examples: list[str] = field(default_factory=list)
    styles_missed: collections.Counter[str] = field(default_factory=collections.Counter)


TRUTH_SQL = """
WITH simbad AS (
    SELECT r.key, array_agg(DISTINCT s.star_id) AS stars
    FROM raw.simbad_ident r JOIN raw.simbad b USING (oid) JOIN live.star s ON s.p_simbad = b.main_id
    GROUP BY r.key),
held AS (
    SELECT i.key, min(i.id) AS id, array_agg(DISTINCT i.star_id) AS stars FROM live.ident i GROUP BY i.key)
SELECT h.id, coalesce(m.stars, h.stars) AS stars, false AS system FROM held h LEFT JOIN simbad m USING (key)
UNION ALL
SELECT min(y.id), array_agg(DISTINCT y.star_id), true FROM live.system_name y
WHERE y.kind = 'primary' GROUP BY y.key
"""


async def truths(dsn: str) -> list[tuple[str, set[int], bool]]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        simbad = await conn.fetchval("SELECT to_regclass('raw.simbad_ident') IS NOT NULL")
        sql = TRUTH_SQL if simbad else TRUTH_SQL.replace("raw.simbad_ident", "(SELECT NULL::bigint oid, "
                                                         "NULL::text key, NULL::text id LIMIT 0)")
        rows = await conn.fetch(sql)
    finally:
        await conn.close()
    return [(r["id"], set(r["stars"]), r["system"]) for r in rows]


async def run(dsn: str, per_family: int | None, seed: int, batch: int = 400) -> dict[str, Tally]:
    import asyncpg

    from getstar.names import ident_key
    from getstar.resolver import Resolver

    by_family: dict[str, list[tuple[str, set[int], bool]]] = collections.defaultdict(list)
    known = await truths(dsn)
    owner = {ident_key(identifier): stars for identifier, stars, _ in known}
    for identifier, stars, system in known:
        by_family[SYSTEM if system else family_of(identifier)].append((identifier, stars, system))
    rng = random.Random(seed)
    queries: list[tuple[str, str, str, set[int]]] = []  # family, style, spelling, right stars
    tallies: dict[str, Tally] = {}
    for family in sorted(by_family):
        items = sorted(by_family[family])
        if per_family is not None and len(items) > per_family:
            items = rng.sample(items, per_family)
        tallies[family] = Tally(identifiers=len(items))
        for identifier, stars, _ in items:
            def taken(typed: str, stars: set[int] = stars) -> bool:
                return owner.get(ident_key(typed), stars) != stars

            for style, spelling in respell(identifier, taken):
                if style == "as stored" or not taken(spelling):  # another star's own identifier: not this one
                    queries.append((family, style, spelling, stars))
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        resolver = Resolver(pool)
        for start in range(0, len(queries), batch):
            chunk = queries[start:start + batch]
            answers = await resolver.resolve_names([q[2] for q in chunk])
            for (family, style, spelling, stars), answer in zip(chunk, answers, strict=True):
                t = tallies[family]
                t.spellings += 1
                if answer.status == "ok" and answer.star is not None:
                    if answer.star["star_id"] in stars and len(stars) == 1:
                        t.right += 1
                    elif answer.star["star_id"] in stars:
                        t.ambiguous += 1  # answered one of several holders: the name is ambiguous
                        t.styles_missed[style] += 1
                    else:
                        t.wrong += 1
                        if len(t.wrong_examples) < 15:
                            t.wrong_examples.append(f"{spelling!r} -> {answer.star['main_id']}")
                elif answer.status == "ambiguous":
                    if len(stars) > 1:
                        t.right += 1
                    else:
                        t.ambiguous += 1
                        t.styles_missed[style] += 1
                else:
                    t.not_found += 1
                    t.styles_missed[style] += 1
    finally:
        await pool.close()
    return tallies


def print_report(tallies: dict[str, Tally], seconds: float) -> int:
    print(f"{'family':18s} {'identifiers':>11s} {'spellings':>10s} {'right':>8s} {'ambiguous':>9s} "
          f"{'not found':>9s} {'WRONG':>6s}")
    total = Tally()
    for family, t in tallies.items():
        share = t.right / t.spellings if t.spellings else 0.0
        print(f"{family:18s} {t.identifiers:11,d} {t.spellings:10,d} {share:8.2%} {t.ambiguous:9,d} "
              f"{t.not_found:9,d} {t.wrong:6,d}")
        for k in ("identifiers", "spellings", "right", "ambiguous", "not_found", "wrong"):
            setattr(total, k, getattr(total, k) + getattr(t, k))
    print(f"{'all':18s} {total.identifiers:11,d} {total.spellings:10,d} {total.right / max(1, total.spellings):8.2%} "
          f"{total.ambiguous:9,d} {total.not_found:9,d} {total.wrong:6,d}")
    print(f"({total.spellings / seconds:,.0f} spellings/s resolved)")
    for family, t in tallies.items():
        if t.styles_missed:
            missed = ", ".join(f"{style} {n}" for style, n in t.styles_missed.most_common(4))
            print(f"  {family}: missed by style: {missed}")
        for example in t.wrong_examples:
            print(f"  WRONG {family}: {example}")
    return 1 if total.wrong else 0


def _dsn(args: argparse.Namespace) -> str:
    if args.dsn:
        return str(args.dsn)
    if os.environ.get("GETSTAR_BENCH_DSN"):
        return os.environ["GETSTAR_BENCH_DSN"]
    from getstar.config import Settings
    from getstar.embedded import EmbeddedCluster

    settings = Settings.from_env()
    if settings.database_url:
        return settings.database_url
    cluster = EmbeddedCluster(home=settings.home, port=settings.embedded_port)
    return cluster.dsn


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--per-family", type=int, default=3000, help="identifiers sampled per family")
    parser.add_argument("--all", action="store_true", help="every identifier of the snapshot (slow)")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    tallies = asyncio.run(run(_dsn(args), None if args.all else args.per_family, args.seed))
    return print_report(tallies, time.perf_counter() - start)


if __name__ == "__main__":
    sys.exit(main())
