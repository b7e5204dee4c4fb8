"""``getstar resolve NAME|"RA DEC" ...``: ask a running service through the Python client.

The shell command is a client of the service (not of the database) so that it answers
exactly what the HTTP API answers, from a laptop as well as beside the server.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Sequence
from typing import Any, TextIO

from getstar.catalogue_view import SECTIONS, catalogue

SUMMARY = ("RAJ2000", "DEJ2000", "V", "K", "SpType")


def _value(prop: dict[str, Any] | None) -> str:
    if not prop:
        return ""
    v = prop.get("value")
    return f"{v:.10g}" if isinstance(v, float) else str(v)


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def _miss(r: dict[str, Any]) -> str:
    if r["status"] == "not_found":
        close = ", ".join(r.get("suggestions") or [])
        return f"not found{'; close names: ' + close if close else ''}"
    if r["status"] == "ambiguous":
        return "ambiguous: " + ", ".join(r.get("candidates") or [])
    return r.get("message") or r["status"]


def summary(results: Sequence[dict[str, Any]]) -> str:
    """One line per query: the star and a few key properties, or why there is none."""
    rows = [["query", "main_id", *SUMMARY]]
    for r in results:
        if r["status"] == "ok":
            props = r.get("properties", {})
            rows.append([r["query"], r.get("main_id") or "", *(_value(props.get(n)) for n in SUMMARY)])
        else:
            rows.append([r["query"], _miss(r), *([""] * len(SUMMARY))])
    return _table(rows)


def detail(r: dict[str, Any]) -> str:
    """Every property of one star, by section, with error, unit, origin and confidence."""
    props = r.get("properties", {})
    out = [f"{r['query']}: {r.get('main_id')}"]
    if r.get("separation_arcsec") is not None:
        out[0] += f"  (separation {r['separation_arcsec']:.3f} arcsec)"
    out.append(textwrap.fill(", ".join(r.get("identifiers") or []), width=100, initial_indent="identifiers: ",
                             subsequent_indent="  ", break_on_hyphens=False))
    by_section: dict[str, list[list[str]]] = {}
    for p in catalogue():
        prop = props.get(p["name"])
        if not prop:
            continue
        err = prop.get("error")
        by_section.setdefault(p["section"], []).append(
            [p["name"], _value(prop), f"± {err:.3g}" if isinstance(err, float) else "", p["unit"],
             prop.get("origin") or "", prop.get("confidence") or ""])
    for name in SECTIONS:
        if name in by_section:
            out += ["", f"{name}:", _table([["property", "value", "error", "unit", "origin", "confidence"],
                                             *by_section[name]])]
    return "\n".join(out)


def text(results: Sequence[dict[str, Any]]) -> str:
    if len(results) == 1 and results[0]["status"] == "ok":
        return detail(results[0])
    return summary(results)


def run(queries: Sequence[str], url: str, fmt: str, out: TextIO | None = None) -> int:
    """0 when every query found its star, 1 otherwise (or on an error, said on stderr)."""
    out = out or sys.stdout
    try:
        from getstar_client import Client, GetStarError
    except ImportError:
        print("getstar: the Python client is not installed: pip install -e clients/python", file=sys.stderr)
        return 2
    with Client(url, retries=2, max_retry_wait=10.0) as client:
        try:
            if fmt == "votable":
                doc = client.document(list(queries), "votable11")
                out.write(doc.decode("utf-8"))
                return 0
            results = client.resolve(list(queries))
        except GetStarError as exc:
            print(f"getstar: {exc.detail}", file=sys.stderr)
            return 1
    if fmt == "json":
        import orjson

        out.write(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        out.write(text(results) + "\n")
    return 0 if all(r["status"] == "ok" for r in results) else 1
