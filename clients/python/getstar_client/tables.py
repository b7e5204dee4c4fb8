"""astropy Tables from the service's VOTable 1.4 answers.

Why VOTable rather than JSON for tables: the service's VOTable already carries every
column's unit, UCD and description, and each property's ``.origin`` and ``.confidence``
columns, so the table is read, not rebuilt from a second copy of the property catalogue.
Names that were not found or ambiguous are not rows: they are listed in ``table.meta``
(``not_found``: query -> close names, ``ambiguous``: query -> candidates, ``unavailable``:
query -> why, for a name not found because SIMBAD could not be asked now: ask again later).
A multiple system's name answered by its primary component is a row, and listed in
``primary_component`` (query -> the system and its components).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from typing import Any

_META_INFOS = {"NOT_FOUND": "not_found", "AMBIGUOUS": "ambiguous", "UNAVAILABLE": "unavailable",
               "PRIMARY_COMPONENT": "primary_component"}
_META_KEYS = ("not_found", "ambiguous", "unavailable", "primary_component")
_TEXT_ONLY = ("unavailable", "primary_component")


def _astropy() -> Any:
    try:
        from astropy.io import votable
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("table=True needs astropy: pip install 'getstar-client[astropy]'") from exc
    return votable


def _info_list(text: str) -> list[str]:
    """The names listed after 'close names: ' / 'candidates: ' in an INFO's text."""
    for marker in ("close names: ", "candidates: "):
        if marker in text:
            return [s.strip() for s in text.split(marker, 1)[1].split(",") if s.strip()]
    return []


def read_votable(body: bytes) -> Any:
    """An astropy Table from a VOTable answer, with the per-name outcomes in ``meta``."""
    votable = _astropy()
    from astropy.table import Table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # CDS units without a VOUnit spelling ('h:m:s'), unknown INFO names
        doc = votable.parse(io.BytesIO(body), verify="ignore")
        tables = list(doc.iter_tables())
        table = tables[0].to_table(use_names_over_ids=True) if tables else Table()
    meta: dict[str, Any] = {key: {} for key in _META_KEYS}
    for resource in doc.resources:
        for info in resource.infos:
            key = _META_INFOS.get(info.name)
            if key is not None:
                content = (info.content or "").strip()
                meta[key][info.value] = content if key in _TEXT_ONLY else _info_list(content)
                if key == "not_found" and "SIMBAD could not be asked" in content:
                    meta["unavailable"][info.value] = content
            elif info.name in ("snapshot_version", "service_version", "query"):
                meta[info.name] = info.value
    table.meta.update(meta)
    return table


def empty_table(names: Sequence[str], miss: dict[str, Any]) -> Any:
    """The table for a single name the service answered 404/409 for: no rows, the outcome in meta."""
    _astropy()
    from astropy.table import Table

    table = Table()
    table.meta.update({key: {} for key in _META_KEYS})
    if miss["status"] == "not_found":
        table.meta["not_found"][names[0]] = miss.get("suggestions", [])
        if miss.get("retry_after"):
            table.meta["unavailable"][names[0]] = miss.get("message", "SIMBAD could not be asked")
    else:
        table.meta["ambiguous"][names[0]] = miss.get("candidates", [])
    return table


def stack(tables: list[Any]) -> Any:
    """One table from the chunks of a long name list (meta merged)."""
    if len(tables) == 1:
        return tables[0]
    from astropy.table import vstack

    with_rows = [t for t in tables if len(t.colnames)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # meta merge conflicts (query, snapshot): the last wins
        out = vstack(with_rows, metadata_conflicts="silent") if with_rows else tables[0]
    for key in _META_KEYS:
        merged: dict[str, Any] = {}
        for t in tables:
            merged.update(t.meta.get(key, {}))
        out.meta[key] = merged
    return out
