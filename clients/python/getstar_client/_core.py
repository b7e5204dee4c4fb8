"""What the sync and async clients share: requests as data, answers parsed, retry delays.

Keeping this free of I/O lets ``Client`` and ``AsyncClient`` be thin loops around the same
decisions, so they cannot drift apart.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from getstar_client.errors import GetStarError, error_for

#: Statuses worth asking again after a pause: rate limited, overloaded or SIMBAD down/slow.
RETRY_STATUSES = frozenset({429, 503, 504})
#: Names per GET request: keeps URLs well under servers' request-line limits.
NAMES_PER_REQUEST = 100
#: Pause before a retry when the server gives no Retry-After (doubled per attempt).
BACKOFF_SECONDS = 0.5

Params = list[tuple[str, Any]]


@dataclass(frozen=True)
class Call:
    """One HTTP request, as data."""

    method: str
    path: str
    params: Params
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: at most ``retries`` more attempts, each pause at most ``max_wait`` s."""

    retries: int = 3
    max_wait: float = 30.0

    def delay(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None when this answer is final.

        ``response`` None means the connection failed (nothing reached the server).
        """
        if attempt >= self.retries:
            return None
        if response is not None and response.status_code not in RETRY_STATUSES:
            return None
        wait = retry_after(response.headers.get("retry-after")) if response is not None else None
        if wait is None:
            wait = BACKOFF_SECONDS * (2**attempt)
        return max(0.0, min(wait, self.max_wait))


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def radius_text(radius: Any, unit: str = "arcsec") -> str:
    """A radius for the service: a number (in ``unit``), a string with its unit ('2arcsec',
    '0.01deg'), or an astropy Quantity."""
    to_value = getattr(radius, "to_value", None)
    if to_value is not None:  # astropy Quantity (or Angle): no astropy import needed here
        return f"{float(to_value('arcsec'))!r}arcsec"
    if isinstance(radius, str):
        return radius.strip()
    return f"{float(radius)!r}{unit}"


def angle_text(value: Any, unit: str = "deg") -> str:
    """RA or Dec for the service: degrees as a number, sexagesimal text, or an astropy Angle."""
    to_value = getattr(value, "to_value", None)
    if to_value is not None:
        return repr(float(to_value(unit)))
    if isinstance(value, str):
        return value.strip()
    return repr(float(value))


def name_calls(names: Sequence[str], fmt: str) -> list[tuple[list[str], Call]]:
    """GET /v1/stars calls for ``names`` (in chunks), each with the names it asks."""
    out = []
    for start in range(0, len(names), NAMES_PER_REQUEST):
        chunk = list(names[start:start + NAMES_PER_REQUEST])
        params: Params = [("name", n) for n in chunk] + [("format", fmt)]
        out.append((chunk, Call("GET", "/v1/stars", params)))
    return out


def cone_call(ra: Any, dec: Any, radius: Any, limit: int, epoch: Any, fmt: str) -> Call:
    params: Params = [("ra", angle_text(ra)), ("dec", angle_text(dec)), ("radius", radius_text(radius)),
                      ("limit", str(int(limit))), ("format", fmt)]
    if epoch is not None:
        params.append(("epoch", str(epoch)))
    return Call("GET", "/v1/stars", params)


def xmatch_call(targets: Any, radius: Any, epoch: Any, fmt: str) -> Call:
    params: Params = [("radius", radius_text(radius)), ("format", fmt)]
    if epoch is not None:
        params.append(("epoch", str(epoch)))
    return Call("POST", "/v1/xmatch", params, content=targets_csv(targets),
                headers={"Content-Type": "text/csv; charset=utf-8"})


def names_list(names: str | Iterable[str]) -> list[str]:
    if isinstance(names, str):
        return [names]
    out = [str(n) for n in names]
    if not out:
        raise ValueError("give at least one name")
    return out


# ---------------------------------------------------------------------------------------
# Target lists -> CSV


def _cell(value: Any) -> str:
    if value is None:
        return ""
    mask = getattr(value, "mask", None)
    if mask is not None and getattr(mask, "shape", ()) == () and bool(mask):  # a masked astropy/numpy cell
        return ""
    to_value = getattr(value, "to_value", None)
    if to_value is not None and getattr(value, "unit", None) is not None:  # Quantity: degrees for angles
        try:
            return repr(float(to_value("deg")))
        except Exception:  # noqa: BLE001 - not an angle: its plain value
            return repr(float(value.value))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    item = getattr(value, "item", None)
    if item is not None:  # numpy scalar
        value = item()
    if isinstance(value, float):
        return "" if value != value else repr(value)
    return str(value)


def targets_csv(targets: Any) -> bytes:
    """CSV for ``POST /v1/xmatch`` from a list of dicts, an astropy Table, CSV text/bytes or a
    path to a CSV file.  Columns the service reads: ``name`` and/or ``ra``, ``dec``
    (degrees or sexagesimal), optional ``epoch``; other columns are echoed back."""
    if isinstance(targets, bytes):
        return targets
    if isinstance(targets, str):
        return targets.encode("utf-8")
    if isinstance(targets, os.PathLike):
        with open(targets, "rb") as fh:
            return fh.read()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    colnames = getattr(targets, "colnames", None)
    if colnames is not None:  # astropy Table (or anything shaped like one)
        writer.writerow(colnames)
        for row in targets:
            writer.writerow([_cell(row[c]) for c in colnames])
        return buf.getvalue().encode("utf-8")
    rows = list(targets)
    if not rows:
        raise ValueError("the target list is empty")
    columns: list[str] = []
    for row in rows:
        if not isinstance(row, Mapping):
            raise TypeError(f"each target must be a mapping (a dict), got {type(row).__name__}")
        columns += [str(k) for k in row if str(k) not in columns]
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue().encode("utf-8")


# ---------------------------------------------------------------------------------------
# Answers


def final_error(response: httpx.Response) -> GetStarError:
    """The exception for a non-2xx answer (problem JSON, VOTable error or plain text)."""
    return error_for(response.status_code, response.headers.get("content-type", ""), response.content)


def single_name_miss(names: Sequence[str], response: httpx.Response, parse: bool = True) -> Any:
    """For one name, 404/409 carry the per-name status: give it as a results entry
    (``parse=False``: only whether it is one)."""
    if len(names) != 1 or response.status_code not in (404, 409):
        return None
    if not parse:
        return True
    err = final_error(response)
    if response.status_code == 404:
        miss: dict[str, Any] = {"query": names[0], "status": "not_found", "suggestions": list(err.suggestions)}
        if err.retry_after:  # not found for now: SIMBAD could not be asked, ask again later
            miss.update(message=err.detail, retry_after=err.retry_after)
        return miss
    return {"query": names[0], "status": "ambiguous", "candidates": list(err.candidates)}


def json_results(response: httpx.Response) -> list[dict[str, Any]]:
    return list(response.json().get("results", []))


_SEP = re.compile(r"\s*\|\s*")


def split_identifiers(text: str) -> list[str]:
    return [s for s in _SEP.split(text) if s] if text else []


def names_answer(chunk: Sequence[str], response: httpx.Response, table: bool) -> Any:
    """One chunk's answer: results dicts, or a Table; per-name misses are results, not errors."""
    miss = single_name_miss(chunk, response)
    if miss is not None:
        if table:
            from getstar_client.tables import empty_table

            return empty_table(chunk, miss)
        return [miss]
    return rows_answer(response, table)


def rows_answer(response: httpx.Response, table: bool) -> Any:
    """A 2xx answer as results dicts or a Table; an error answer raised."""
    if not response.is_success:
        raise final_error(response)
    if table:
        from getstar_client.tables import read_votable

        return read_votable(response.content)
    return json_results(response)


def join(parts: list[Any], table: bool) -> Any:
    if table:
        from getstar_client.tables import stack

        return stack(parts)
    return [r for part in parts for r in part]
