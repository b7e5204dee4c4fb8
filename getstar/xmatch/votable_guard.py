"""An uploaded VOTable is inspected before astropy reads it: inline data only, sizes bounded.

Why: astropy follows ``<STREAM href="...">`` (a local file, any URL) inside ``BINARY``,
``BINARY2`` and ``FITS``, and allocates a fixed-size array cell as declared
(``arraysize="100000000"``) before reading a row, so an upload could read the server's files,
make it fetch URLs, or cost gigabytes.  This pass walks the document with expat (no DTD, no
entities), refuses any stream reference, ``FITS`` data, an encoding other than the ones a
VOTable is written in, and oversized cells, and counts the rows of ``TABLEDATA`` and of inline
``BINARY``/``BINARY2`` streams as it goes, so a body over the row limit is refused (413) at
the first row too many, before astropy builds anything.  DaCHS refuses the same references.
"""

from __future__ import annotations

import binascii
import re
import struct
import xml.parsers.expat
from typing import Any

from getstar.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

__all__ = ["MAX_CELL_VALUES", "check_votable"]

#: Values in one cell of a fixed-size array FIELD at most (a target list needs a few: a
#: name, a coordinate pair); ``*`` (variable) cells are bounded by the body size.
MAX_CELL_VALUES = 4096
#: FIELDs per table at most (as ``reader.MAX_COLUMNS``).
MAX_FIELDS = 500
#: Encodings a VOTable document may declare (ASCII-compatible, read by expat itself).
ENCODINGS = frozenset({"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"})
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")

#: Bytes per value of each VOTable datatype in BINARY serialization ('bit' is counted apart).
_SIZES = {"boolean": 1, "unsignedByte": 1, "short": 2, "int": 4, "long": 8, "char": 1, "unicodeChar": 2,
          "float": 4, "double": 8, "floatComplex": 8, "doubleComplex": 16, "bit": 0}


class _Field:
    """How many bytes one FIELD takes in a BINARY row: fixed, or a count prefix then values."""

    def __init__(self, name: str, datatype: str, arraysize: str | None) -> None:
        if datatype not in _SIZES:
            raise BadRequest(f"FIELD {name[:40]!r} has an unknown datatype {datatype[:40]!r}")
        self.bit = datatype == "bit"
        self.size = _SIZES[datatype]
        self.variable = False
        self.values = 1  # per count unit when variable, in all when fixed
        if arraysize:
            dims = arraysize.strip().split("x")
            for k, dim in enumerate(dims):
                dim = dim.strip()
                if dim.endswith("*"):
                    if k != len(dims) - 1:
                        raise BadRequest(f"FIELD {name[:40]!r}: only the last dimension of arraysize may be '*'")
                    self.variable = True
                    continue
                if not dim.isdigit():
                    raise BadRequest(f"FIELD {name[:40]!r} has an unreadable arraysize {arraysize[:40]!r}")
                self.values *= int(dim)
                if self.values > MAX_CELL_VALUES:
                    raise PayloadTooLarge(f"FIELD {name[:40]!r} declares arraysize={arraysize[:40]!r}: at most "
                                          f"{MAX_CELL_VALUES} values per cell are read")

    def nbytes(self, count: int) -> int:
        n = self.values * count
        return (n + 7) // 8 if self.bit else n * self.size

    @property
    def fixed_bytes(self) -> int:
        return self.nbytes(1)


def _count_binary_rows(data: bytes, fields: list[_Field], null_mask: bool, limit: int | None) -> int:
    """Rows in a decoded BINARY (or BINARY2, with its per-row null mask) stream; stops past ``limit``."""
    mask = (len(fields) + 7) // 8 if null_mask else 0
    if not fields:
        return 0
    if not any(f.variable for f in fields):
        row = mask + sum(f.fixed_bytes for f in fields)
        return -(-len(data) // row) if row else 0
    rows = pos = 0
    end = len(data)
    unpack = struct.Struct(">I").unpack_from
    while pos < end:
        pos += mask
        for f in fields:
            if f.variable:
                if pos + 4 > end:
                    return rows + 1
                (count,) = unpack(data, pos)
                pos += 4 + f.nbytes(count)
            else:
                pos += f.fixed_bytes
        rows += 1
        if limit is not None and rows > limit:
            return rows
    return rows


class _Walk:
    """expat handlers: the current table's FIELDs, rows counted so far, the inline stream being read.

    Most elements of a big upload are TD and TR: the start handler returns for a TD at once,
    and the end and text handlers are set only while a STREAM is open (a Python call per
    element is the whole cost of this pass).
    """

    def __init__(self, parser: Any, max_rows: int | None, max_cells: int | None = None) -> None:
        self.parser = parser
        self.max_rows = max_rows
        self.max_cells = max_cells
        self.fields: list[_Field] = []
        self.rows = 0
        self.stream: list[bytes] = []
        self.streaming = False
        self.container = ""  # BINARY or BINARY2: where a STREAM is

    def _too_many(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"more than {self.max_rows} rows: the limit is {self.max_rows} rows per request "
                               "(split the list into several requests)")

    def _check(self) -> None:
        if self.max_rows is not None and self.rows > self.max_rows:
            raise self._too_many()
        if self.max_cells is not None and self.rows * len(self.fields) > self.max_cells:
            raise PayloadTooLarge(f"more than {self.max_cells} cells (rows x columns): the limit is "
                                  f"{self.max_cells} per request (send fewer columns, or split the list)")

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if self.streaming:
            raise BadRequest("a STREAM holds base64 text only, not elements")
        if tag == "TD":
            return
        name = tag.rpartition(":")[2]
        if name == "TD":
            return
        if name == "TR":
            self.rows += 1
            self._check()
        elif name == "TABLE":
            self.fields = []
        elif name == "FIELD":
            if len(self.fields) >= MAX_FIELDS:
                raise BadRequest(f"more than {MAX_FIELDS} FIELDs: at most {MAX_FIELDS} columns are read")
            label = attrs.get("name") or attrs.get("ID") or ""
            self.fields.append(_Field(label, attrs.get("datatype", ""), attrs.get("arraysize")))
        elif name in ("BINARY", "BINARY2"):
            self.container = name
        elif name == "FITS":
            raise BadRequest("FITS data inside a VOTable is not read: send TABLEDATA, or BINARY/BINARY2 "
                             "with the data inline (base64)")
        elif name == "STREAM":
            if "href" in attrs:
                raise BadRequest("a STREAM with href (a file or URL reference) is never followed: put the data "
                                 "inline, as TABLEDATA or base64 BINARY/BINARY2")
            if attrs.get("encoding", "").strip().lower() != "base64":
                raise BadRequest("an inline STREAM must have encoding=\"base64\"")
            if not self.container:
                raise BadRequest("a STREAM outside BINARY/BINARY2 is not read")
            self.stream, self.streaming = [], True
            self.parser.CharacterDataHandler = self.text
            self.parser.EndElementHandler = self.end

    def end(self, tag: str) -> None:
        """Only set while a STREAM is open: its end is the next end tag (a STREAM holds text only)."""
        self.parser.CharacterDataHandler = None
        self.parser.EndElementHandler = None
        self.streaming = False
        try:
            data = binascii.a2b_base64(b"".join(self.stream))
        except binascii.Error:
            raise BadRequest(f"the {self.container} STREAM is not valid base64") from None
        self.stream = []
        left = None if self.max_rows is None else self.max_rows - self.rows
        self.rows += _count_binary_rows(data, self.fields, self.container == "BINARY2", left)
        self.container = ""
        self._check()

    def text(self, data: str) -> None:
        self.stream.append(data.encode("ascii", "replace"))


def _refuse(what: str) -> Any:
    def handler(*_args: Any) -> None:
        raise BadRequest(f"{what} is not accepted in a VOTable body")

    return handler


def check_votable(body: bytes, max_rows: int | None, max_cells: int | None = None) -> None:
    """Raise 400/413/415 unless ``body`` is a VOTable astropy may read without opening anything."""
    if body.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00", b"\x4c\x6f\xa7\x94")) or b"\x00" in body[:4096]:
        raise UnsupportedMediaType("the VOTable body must be UTF-8 (or ASCII / ISO-8859-1) encoded")
    declared = _XML_DECL.match(body[:512])
    if declared and declared.group(1).decode("ascii").lower() not in ENCODINGS:
        raise UnsupportedMediaType(f"the VOTable body declares encoding {declared.group(1)[:40].decode()!r}: "
                                   "send UTF-8")
    parser = xml.parsers.expat.ParserCreate()
    walk = _Walk(parser, max_rows, max_cells)
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse("a DOCTYPE declaration")
    parser.EntityDeclHandler = _refuse("an ENTITY declaration")
    parser.ExternalEntityRefHandler = _refuse("an external entity")
    parser.StartElementHandler = walk.start
    parser.buffer_text = True
    try:
        parser.Parse(body, True)
    except xml.parsers.expat.ExpatError as exc:
        raise BadRequest(f"line {exc.lineno}: cannot read the VOTable body: "
                         f"{xml.parsers.expat.errors.messages[exc.code]}") from None
