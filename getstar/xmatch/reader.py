"""Batch bodies (CSV, TSV, JSON, VOTable) into one plain table of raw cells.

Why one table shape for every input: the per-row reading of names, positions, epochs and
radii (``xmatch.targets``) and the echo of the input columns in the answer are then the same
whatever the client sent.  Only what makes the body as a whole unreadable is an error here
(400 naming the line, 413 over the row limit, 415 for a content type we do not read);
problems of single rows (a ragged CSV line, a JSON row that is not an object) are recorded
per row and reported in that row's ``status``.
"""

from __future__ import annotations

import codecs
import contextvars
import csv
import io
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import orjson

from getstar.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from getstar.xmatch.votable_guard import check_votable

__all__ = ["KINDS", "InputTable", "kind_of", "read_body"]

#: Content types we read -> body kind.
KINDS = {
    "text/csv": "csv",
    "application/csv": "csv",
    "text/comma-separated-values": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/x-votable+xml": "votable",
    "text/x-votable+xml": "votable",
    "application/xml": "votable",
    "text/xml": "votable",
}
#: More columns than this is not a target list (and would multiply memory by rows x columns).
MAX_COLUMNS = 500
_ACCEPTED = "text/csv, text/tab-separated-values, application/json or application/x-votable+xml"


class InputTable:
    """The body as read: column names as given, and the raw cells, one list per row (or,
    for a big plain CSV body, one list per column: ``rows`` then builds the rows when asked)."""

    def __init__(self, columns: list[str], rows: list[list[Any]] | None, errors: dict[int, str] | None = None,
                 ucds: list[str] | None = None, *, plain: bool = False,
                 by_column: list[list[Any]] | None = None) -> None:
        self.columns = columns
        self._rows = rows
        self._by_column = by_column
        #: Per-row problems found while reading (row index -> message).
        self.errors: dict[int, str] = errors or {}
        #: Per column, the VOTable UCD when the body said one (for finding RA/Dec).
        self.ucds: list[str] = ucds or []
        #: Every cell is text that JSON and CSV write as it is (no quote, backslash, comma nor
        #: control character): the answer can echo it without escaping (``output``).
        self.plain = plain

    @property
    def nrows(self) -> int:
        if self._rows is not None:
            return len(self._rows)
        return len(self._by_column[0]) if self._by_column else 0

    @property
    def rows(self) -> list[list[Any]]:
        if self._rows is None:
            self._rows = [list(r) for r in zip(*(self._by_column or []), strict=True)]
        return self._rows

    def column(self, k: int) -> list[Any]:
        """The cells of column ``k``, in row order."""
        if self._by_column is not None:
            return self._by_column[k]
        return [row[k] for row in self.rows]

    def view(self, lo: int, hi: int) -> InputTable:
        """Rows ``lo`` to ``hi`` as a table of their own (row numbers from 0 again)."""
        by_column = None if self._by_column is None else [c[lo:hi] for c in self._by_column]
        rows = None if self._rows is None else self._rows[lo:hi]
        errors = {k - lo: e for k, e in self.errors.items() if lo <= k < hi}
        return InputTable(self.columns, rows, errors, self.ucds, plain=self.plain, by_column=by_column)

    def row(self, k: int) -> Sequence[Any]:
        if self._rows is None and self._by_column is not None:
            return [c[k] for c in self._by_column]
        return self.rows[k]

    def row_slice(self, lo: int, hi: int) -> list[tuple[Any, ...]]:
        """Rows ``lo`` to ``hi`` as tuples (straight from the columns when the table is held by column)."""
        if self._rows is None and self._by_column is not None:
            return list(zip(*(c[lo:hi] for c in self._by_column), strict=True))
        return [tuple(r) for r in self.rows[lo:hi]]


def kind_of(content_type: str | None) -> tuple[str, str]:
    """(body kind, charset) from a Content-Type header; 415 for what we do not read."""
    if not content_type or not content_type.strip():
        raise UnsupportedMediaType(f"the request has no Content-Type: send {_ACCEPTED}")
    media, *params = (p.strip() for p in content_type.split(";"))
    kind = KINDS.get(media.lower())
    if kind is None:
        raise UnsupportedMediaType(f"cannot read a {media[:60]!r} body: send {_ACCEPTED}")
    charset = "utf-8"
    for p in params:
        k, _, v = p.partition("=")
        if k.strip().lower() == "charset" and v.strip():
            charset = v.strip().strip('"').lower()
    return kind, text_charset(charset)


#: Character sets a client can mean for a text body (codec names as ``codecs.lookup`` gives
#: them).  Python also has codecs that are not character sets (rot13, zlib, base64, hex,
#: punycode, idna...): a "charset" naming one of those is refused, never run on the body.
CHARSETS = frozenset({
    "utf-8", "utf-8-sig", "ascii", "cp1252", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le",
    "utf-32-be", *(f"iso8859-{n}" for n in (1, 2, 3, 4, 5, 7, 9, 13, 14, 15, 16)),
})


def text_charset(charset: str) -> str:
    """The codec name of a charset a text body may be in; 415 for anything else."""
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        name = ""
    if name not in CHARSETS:
        raise UnsupportedMediaType(f"cannot read a body in charset {charset[:40]!r}: send UTF-8 (or ASCII, "
                                   "ISO-8859-*, windows-1252, UTF-16/32 with a byte order mark)")
    return name


def too_many_cells(max_cells: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"more than {max_cells} cells (rows x columns): the limit is {max_cells} per request "
                           "(send fewer columns, or split the list into several requests)")


def _too_many(max_rows: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"more than {max_rows} rows: the limit is {max_rows} rows per request "
                           "(split the list into several requests)")


def _decode(body: bytes, charset: str) -> str:
    try:
        text = body.decode("utf-8-sig" if charset in ("utf-8", "utf8") else charset)
    except UnicodeError as exc:
        start = getattr(exc, "start", 0)
        line = body.count(b"\n", 0, start) + 1
        raise BadRequest(f"line {line}: the body is not valid {charset.upper()} text (byte {start})") from None
    if not text.strip():
        raise BadRequest("the body is empty: send a header line and one row per target")
    return text


def _unique(names: Sequence[str]) -> list[str]:
    """Header names, blanks named colN; a repeated name is an error (which one would we read?)."""
    if len(names) > MAX_COLUMNS:
        raise BadRequest(f"{len(names)} columns: at most {MAX_COLUMNS} are read")
    out = [n.strip() or f"col{i + 1}" for i, n in enumerate(names)]
    seen: set[str] = set()
    for n in out:
        if n.lower() in seen:
            raise BadRequest(f"the column {n[:40]!r} appears twice in the header")
        seen.add(n.lower())
    return out


def read_csv(text: str, delimiter: str, max_rows: int | None, max_cells: int | None = None) -> InputTable:
    """CSV with a header line; '#' comment lines before the header and blank lines are skipped."""
    table = _read_unquoted(text, delimiter, max_rows, max_cells)
    return table if table is not None else _read_with_csv(text, delimiter, max_rows, max_cells)


def _read_with_csv(text: str, delimiter: str, max_rows: int | None, max_cells: int | None = None) -> InputTable:
    reader = csv.reader(_lines(text), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    rows: list[list[Any]] = []
    errors: dict[int, str] = {}
    try:
        for cells in reader:
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            if header is None:
                if cells[0].lstrip().startswith("#"):
                    continue
                header = _unique(cells)
                continue
            if max_rows is not None and len(rows) >= max_rows:
                raise _too_many(max_rows)
            if max_cells is not None and (len(rows) + 1) * len(header) > max_cells:
                raise too_many_cells(max_cells)
            if len(cells) != len(header):
                errors[len(rows)] = (f"line {reader.line_num}: {len(cells)} fields where the header has "
                                     f"{len(header)}")
                rows.append((cells + [None] * len(header))[: len(header)])
                continue
            rows.append(cells)
    except csv.Error as exc:
        raise BadRequest(f"line {reader.line_num}: cannot read the CSV body: {exc}") from None
    if header is None:
        raise BadRequest("the body has no header line: the first line must name the columns (name and/or ra,dec)")
    return InputTable(header, rows, errors, plain=not errors and _plain(text, delimiter))


#: Lines with their line breaks, as ``io.StringIO(text, newline="")`` reads them.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` one at a time, line breaks kept, as a ``StringIO`` gives them to the
    csv module: a StringIO holds four bytes a character (128 MB for a 32 MB body)."""
    for m in _LINE.finditer(text):
        yield m.group()


#: Characters of a big body read at a time (``_read_unquoted``): the copies made to check and
#: split it are this small, whatever the body's size (they were four of the whole body).
_BLOCK_CHARS = 1 << 20


def _read_unquoted(text: str, delimiter: str, max_rows: int | None,
                   max_cells: int | None = None) -> InputTable | None:
    """The usual big body (no quotes, two columns or more, every line a row with all its
    cells) split by ``str.split`` and held by column, in a fifth of the csv module's time;
    None for anything else, which ``read_csv`` reads with the csv module."""
    if '"' in text or "\x00" in text or text.count("\r") != text.count("\r\n"):
        return None
    found = _header_line(text, delimiter)
    if found is None:
        return None
    line, first = found
    header = _unique(line.split(delimiter))
    width = len(header)
    last = len(text)
    while last > first and text[last - 1] in "\r\n":
        last -= 1
    if width < 2 or last <= first:
        return None
    columns: list[list[str]] = [[] for _ in range(width)]
    nrows = 0
    for block in _blocks(text, first, last):
        if "\r" in block:  # every CR is a CRLF's (checked above); a block ends before an LF
            block = block.replace("\r\n", "\n").removesuffix("\r")
        n = _whole_lines(block, delimiter, width)
        if n is None:
            return None
        nrows += n
        if max_rows is not None and nrows > max_rows:
            raise _too_many(max_rows)
        if max_cells is not None and nrows * width > max_cells:
            raise too_many_cells(max_cells)
        cells = block.replace("\n", delimiter).split(delimiter)
        for k, column in enumerate(columns):
            column += cells[k::width]
    return InputTable(header, None, {}, plain=_plain(text, delimiter), by_column=columns)


def _header_line(text: str, delimiter: str) -> tuple[str, int] | None:
    """The header line (without its line break) and where the line after it starts; blank and
    comment lines before it are skipped, as ``read_csv`` skips them."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end].removesuffix("\r")
        if line and (delimiter in line or line.strip()) and not line.lstrip().startswith("#"):
            return line, end + 1
        start = end + 1
    return None


def _blocks(text: str, first: int, last: int) -> Iterator[str]:
    """``text[first:last]`` in pieces of whole lines, about ``_BLOCK_CHARS`` each (without the
    line break between two pieces)."""
    pos = first
    while pos < last:
        stop = text.find("\n", min(pos + _BLOCK_CHARS, last), last)
        stop = last if stop < 0 else stop
        yield text[pos:stop]
        pos = stop + 1


def _whole_lines(block: str, delimiter: str, width: int) -> int | None:
    """The lines of ``block`` when each holds exactly ``width - 1`` delimiters, else None: its
    separators, in order, must be width - 1 delimiters then a line break, again and again
    (UTF-8 never hides these bytes)."""
    raw = np.frombuffer(block.encode("utf-8"), np.uint8)
    kinds = np.append(raw[np.flatnonzero((raw == 10) | (raw == ord(delimiter)))] == 10, True)
    if len(kinds) % width:
        return None
    grid = kinds.reshape(-1, width)
    if not grid[:, -1].all() or grid[:, :-1].any():
        return None
    return len(grid)


def _plain(text: str, delimiter: str) -> bool:
    """Whether cells read from ``text`` need no escaping (see ``InputTable.plain``): without
    quotes a cell holds no delimiter nor line break; the rest is checked on the text."""
    escaped = _ESCAPED if delimiter == "," else _ESCAPED_BUT_TAB
    return '"' not in text and escaped.search(text) is None and (delimiter == "," or "," not in text)


#: Characters JSON or CSV would escape or quote in a cell (line breaks end CSV lines).
_ESCAPED = re.compile(r'["\\\x00-\x09\x0b\x0c\x0e-\x1f\x7f]')
#: The same, a tab left out (a TSV body's delimiter: not in any cell read from it).
_ESCAPED_BUT_TAB = re.compile(r'["\\\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')


#: Lists and objects in a JSON cell are echoed back: nested this deep at most.
MAX_CELL_DEPTH = 8


def _shallow(value: Any) -> bool:
    """Whether a JSON cell nests lists/objects at most ``MAX_CELL_DEPTH`` deep (no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_CELL_DEPTH:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, (dict, list)))
    return True


def read_json(body: bytes, max_rows: int | None, max_cells: int | None = None) -> InputTable:
    """A list of objects, or ``{"rows": [...]}`` / ``{"targets": [...]}``.

    Parsed JSON costs up to ~60 bytes of memory per value (``[{},{},...]``), so the values are
    counted on the bytes first: at most one per comma, brace or bracket (an upper bound)."""
    if max_cells is not None:
        values = body.count(b",") + body.count(b"{") + body.count(b"[")
        if values > max_cells + (max_rows or 0) + 1:
            raise PayloadTooLarge(f"the JSON body holds more than {max_cells + (max_rows or 0)} values: the limit is "
                                  f"{max_cells} cells (rows x columns) per request")
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"line {exc.lineno}, column {exc.colno}: cannot read the JSON body: {exc.msg}") from None
    if isinstance(doc, dict):
        key = next((k for k in ("rows", "targets") if isinstance(doc.get(k), list)), None)
        if key is None:
            raise BadRequest('the JSON body must be a list of objects, or {"rows": [...]}')
        doc = doc[key]
    if not isinstance(doc, list):
        raise BadRequest('the JSON body must be a list of objects, or {"rows": [...]}')
    if max_rows is not None and len(doc) > max_rows:
        raise _too_many(max_rows)
    index: dict[str, int] = {}
    for item in doc:
        if isinstance(item, dict):
            for k in item:
                if k not in index:
                    index[k] = len(index)
                    if len(index) > MAX_COLUMNS:
                        raise BadRequest(f"more than {MAX_COLUMNS} different keys: at most {MAX_COLUMNS} are read")
    columns = list(index)
    _unique(columns)
    if max_cells is not None and len(doc) * len(columns) > max_cells:
        raise too_many_cells(max_cells)
    rows: list[list[Any]] = []
    errors: dict[int, str] = {}
    for n, item in enumerate(doc):
        cells: list[Any] = [None] * len(columns)
        if isinstance(item, dict):
            for k, v in item.items():
                if isinstance(v, (dict, list)) and not _shallow(v):
                    raise BadRequest(f"row {n + 1}, column {k[:40]!r}: a value nested more than {MAX_CELL_DEPTH} "
                                     "levels deep")
                cells[index[k]] = v
        else:
            errors[n] = f"row {n + 1} is not a JSON object"
        rows.append(cells)
    return InputTable(columns, rows, errors)


def _python(v: Any) -> Any:
    """A VOTable cell as a plain Python value (numpy scalars, bytes, arrays)."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    item = getattr(v, "item", None)
    if item is not None and getattr(v, "ndim", 0) == 0:
        return item()
    if hasattr(v, "tolist"):
        return v.tolist()
    return v


def read_votable(body: bytes, max_rows: int | None, max_cells: int | None = None) -> InputTable:
    """The first table of a VOTable document (any version; TABLEDATA, or BINARY/BINARY2 inline), via
    astropy, after ``check_votable`` has refused stream references and oversized tables."""
    check_votable(body, max_rows, max_cells)  # nothing referenced is opened, nothing oversized is built
    table = _first_table(body, len(body) if max_rows is None else max_rows)
    array = table.array
    if not table.fields or not array.dtype.names:
        raise BadRequest("the first TABLE of the VOTable body has no FIELD: declare its columns (name and/or "
                         "ra, dec)")
    columns = _unique([f.name or f.ID or "" for f in table.fields])
    ucds = [f.ucd or "" for f in table.fields]
    if max_rows is not None and len(array) > max_rows:
        raise _too_many(max_rows)
    cols: list[list[Any]] = []
    for name in array.dtype.names:
        col = array[name]
        values = [_python(v) for v in col.data.tolist()] if col.dtype.kind in "SOV" or col.ndim > 1 \
            else col.data.tolist()
        mask = getattr(col, "mask", None)
        if mask is not None and mask.ndim == 1 and mask.any():
            values = [None if m else v for v, m in zip(values, mask.tolist(), strict=True)]
        if col.dtype.kind == "f" and col.ndim == 1:
            values = [None if v is not None and v != v else v for v in values]  # NaN is VOTable's float null
        cols.append(values)
    rows = [list(cells) for cells in zip(*cols, strict=True)] if cols else [[] for _ in range(len(array))]
    return InputTable(columns, rows, {}, ucds)


#: Rows astropy may build for the document this thread parses (``_first_table``); None: no bound.
_MOST_ROWS: contextvars.ContextVar[int | None] = contextvars.ContextVar("getstar_votable_rows", default=None)


def _first_table(body: bytes, most_rows: int) -> Any:
    """astropy's first table of ``body``, never of more than ``most_rows`` rows (413 beyond).

    Why a bound of astropy's own, when ``check_votable`` counts the rows first: astropy's readers
    loop until the data runs out, so a row read that takes no input would loop for good while
    holding the worker's batch slot and CPU lane (a thread cannot be stopped from outside).  The
    guard makes every row take bytes; this stops any such loop at ``most_rows`` rows (the row
    limit, or the body's size in bytes: a row takes one byte at least), whatever it missed."""
    from astropy.io.votable import parse

    _bound_astropy_rows()
    token = _MOST_ROWS.set(most_rows)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return parse(io.BytesIO(body), verify="ignore", table_number=0).get_first_table()
    except PayloadTooLarge:
        raise
    except Exception as exc:  # noqa: BLE001 - astropy raises many kinds on a bad document
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise BadRequest(f"cannot read the VOTable body: {message[:300]}") from None
    finally:
        _MOST_ROWS.reset(token)


def _bound_astropy_rows() -> None:
    """Make astropy's table growth (``_resize_strategy``, which its TABLEDATA and BINARY readers
    call as rows arrive, and which it keeps apart so it may be replaced) stop at ``_MOST_ROWS``."""
    from astropy.io.votable import tree

    cls = tree.TableElement
    if not getattr(cls._resize_strategy, "getstar_bounded", False):
        cls._resize_strategy = _bounded_resize(cls._resize_strategy)


def _bounded_resize(grow: Callable[[Any, int], int]) -> Callable[[Any, int], int]:
    def resize(table: Any, size: int) -> int:
        most = _MOST_ROWS.get()
        if most is None:
            return grow(table, size)
        if size > most:  # asked to grow past ``most`` rows: it holds more than that already
            raise PayloadTooLarge(f"more than {most} rows: the limit is {most} rows per request "
                                  "(split the list into several requests)")
        return min(grow(table, size), most + 1)

    resize.getstar_bounded = True  # type: ignore[attr-defined]
    return resize


def read_body(body: bytes, kind: str, charset: str = "utf-8", *, max_rows: int | None = None,
              max_cells: int | None = None) -> InputTable:
    """The body's table; raises BadRequest (empty, unreadable, no rows) or PayloadTooLarge."""
    if not body.strip():
        raise BadRequest("the body is empty: send a header line and one row per target")
    if kind in ("csv", "tsv"):
        table = read_csv(_decode(body, charset), "\t" if kind == "tsv" else ",", max_rows, max_cells)
    elif kind == "json":
        table = read_json(body if charset in ("utf-8", "utf8") else _decode(body, charset).encode(), max_rows,
                          max_cells)
    elif kind == "votable":
        table = read_votable(body, max_rows, max_cells)
    else:
        raise ValueError(f"unknown body kind {kind!r}")
    if not table.nrows:
        raise BadRequest("the body has no rows: give one row per target after the header")
    return table
