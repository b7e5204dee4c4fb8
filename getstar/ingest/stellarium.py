"""Star identifiers and names from Stellarium's data files (Debian ``stellarium-data``).

Every identifier is returned in SIMBAD's spelling, keyed by HIP number: ``HD 48915``,
``HR 2491``, ``SAO 151881`` (cross-id.dat), ``* alf CMa`` / ``* 9 CMa`` (name.fab),
``NAME Sirius`` (western sky culture), ``V* R And`` (GCVS) and ``WDS J06451-1643``.
Proper names carry an authority (``name_authority``): the IAU's lists above the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from getstar.errors import IngestError
from getstar.names import canonical

SYSTEM_DIR = Path("/usr/share/stellarium")
FILES = {
    "cross-id": ("stars/default/cross-id.dat", "cross-id.dat"),
    "name": ("stars/default/name.fab", "name.fab"),
    "gcvs": ("stars/default/gcvs_hip_part.dat", "gcvs_hip_part.dat"),
    "wds": ("stars/default/wds_hip_part.dat", "wds_hip_part.dat"),
    "star_names": ("skycultures/western/star_names.fab", "star_names.fab"),
}
_PROPER = re.compile(r'^\s*(\d+)\|_\("([^"]+)"\)\s*([0-9,]*)')
#: Authority of a proper name by its references in star_names.fab (numbers of Stellarium's
#: skycultures/western/reference.fab): 4, 6, 12, 36 are the IAU's lists (NameExoWorlds 2015,
#: IAU Catalog of Star Names, IAU Naming Stars, IAU100 NameExoWorlds).
IAU_REFERENCES = frozenset({4, 6, 12, 36})
NAME_IAU, NAME_LISTED, NAME_UNREFERENCED = 3, 2, 1


def find_file(root: Path, kind: str) -> Path:
    """A Stellarium file in either the installed layout or a flat folder (shared/data)."""
    nested, flat = FILES[kind]
    for cand in (root / nested, root / flat):
        if cand.exists():
            return cand
    raise IngestError(str(root / nested), None, "file not found (install Debian's stellarium-data)")


def default_dir(shared_data: Path | None) -> Path:
    if (SYSTEM_DIR / FILES["cross-id"][0]).exists():
        return SYSTEM_DIR
    if shared_data and (shared_data / "stellarium" / "cross-id.dat").exists():
        return shared_data / "stellarium"
    raise IngestError(str(SYSTEM_DIR), None, "Stellarium data not found: apt-get install stellarium-data")


def _hip(path: Path, lineno: int, text: str) -> int:
    try:
        hip = int(text)
    except ValueError:
        raise IngestError(str(path), lineno, f"HIP number expected, found {text!r}") from None
    if hip <= 0:
        raise IngestError(str(path), lineno, f"HIP number must be positive, found {hip}")
    return hip


def read(root: Path) -> Iterator[tuple[int, str]]:
    """Yield (HIP, identifier in SIMBAD's spelling) for every identifier Stellarium knows."""
    path = find_file(root, "cross-id")
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 5:
                raise IngestError(str(path), lineno, f"expected 5 tab-separated fields, found {len(parts)}")
            hip = _hip(path, lineno, parts[0])
            for prefix, value in (("SAO", parts[2]), ("HD", parts[3]), ("HR", parts[4])):
                if value.strip():
                    yield hip, f"{prefix} {int(value)}"
    for kind in ("name",):
        path = find_file(root, kind)
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if "|" not in line:
                    continue
                hip_text, designation = line.split("|", 1)
                yield _hip(path, lineno, hip_text.strip()), canonical(designation.strip())
    path = find_file(root, "star_names")
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            m = _PROPER.match(line)
            if m:
                yield _hip(path, lineno, m.group(1)), "NAME " + m.group(2).strip()
    for hip, designation in _tab_designations(find_file(root, "gcvs")):
        yield hip, "V* " + canonical(designation).removeprefix("* ").removeprefix("V* ")
    for hip, designation in _tab_designations(find_file(root, "wds")):
        yield hip, "WDS J" + designation


def name_authority(root: Path) -> dict[tuple[int, str], int]:
    """(HIP, 'NAME x') -> authority of that proper name: ``NAME_IAU`` when an IAU list gives it,
    ``NAME_LISTED`` when another reference does, ``NAME_UNREFERENCED`` otherwise (the
    build ranks Stellarium's names with it, below SIMBAD's)."""
    path = find_file(root, "star_names")
    authority: dict[tuple[int, str], int] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            m = _PROPER.match(line)
            if m:
                refs = {int(r) for r in m.group(3).split(",") if r}
                rank = NAME_IAU if refs & IAU_REFERENCES else NAME_LISTED if refs else NAME_UNREFERENCED
                key = (_hip(path, lineno, m.group(1)), "NAME " + m.group(2).strip())
                authority[key] = max(rank, authority.get(key, 0))
    return authority


def _tab_designations(path: Path) -> Iterator[tuple[int, str]]:
    """(HIP, second field) of a tab-separated Stellarium file, comments skipped."""
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.startswith("#") or not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) > 1 and parts[1].strip():
                yield _hip(path, lineno, parts[0]), parts[1].strip()
