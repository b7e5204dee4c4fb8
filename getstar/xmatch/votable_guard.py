"""An uploaded VOTable is inspected before astropy reads it: inline data only, sizes bounded.

Why: astropy follows ``<STREAM href="...">`` (a local file, any URL) inside ``BINARY``,
``BINARY2`` and ``FITS``, and allocates a fixed-size array cell as declared
(``arraysize="100000000"``) before reading a row, so an upload could read the server's files,
make it fetch URLs, or cost gigabytes.  This pass walks the document with expat (no DTD, no
entities), refuses any stream reference, ``FITS`` data, an encoding other than the ones a
VOTable is written in, and oversized cells, and counts the rows of ``TABLEDATA`` and of inline
``BINARY``/``BINARY2`` streams as it goes, so a body over the row limit is refused (413) at
the first row too many, before astropy builds anything.  DaCHS refuses the same references.

The row counts are astropy's own only if this pass reads the document as astropy does: the
FIELDs a table's rows are made of, and the bytes each takes in a BINARY row.  So the places
that decide it are checked (a FIELD directly in its TABLE, the TABLE in a RESOURCE, the DATA
in its TABLE...: astropy reads a FIELD wrapped in an unknown element as the table's), and no
FIELD may take 0 bytes a row: astropy's BINARY reader stops at the first short read, and a
row of 0 bytes never reads short (``arraysize="0"`` made it loop for good).  Attributes are
counted too (each is a Python object to expat and to astropy), and no single tag, comment or
processing instruction may exceed ``MAX_TAG_BYTES``: expat builds all of a tag's attributes
before this pass sees the first.
"""

from __future__ import annotations

import binascii
import math
import re
import struct
import xml.parsers.expat
from typing import Any

from getstar.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from getstar.wholenumbers import whole_number

__all__ = ["MAX_ATTRIBUTES", "MAX_CELL_VALUES", "MAX_ELEMENT_ATTRIBUTES", "MAX_TABLE_MEMORY", "MAX_TAG_BYTES",
           "check_votable"]

#: Values in one cell of a fixed-size array FIELD at most (a target list needs a few: a
#: name, a coordinate pair); ``*`` (variable) cells are bounded by the body size.
MAX_CELL_VALUES = 4096
#: FIELDs per table at most (as ``reader.MAX_COLUMNS``).
MAX_FIELDS = 500
#: Values in one row at most (all FIELDs' fixed arrays together): astropy allocates every row
#: at its declared size, so ten ``double[4096]`` FIELDs make 320 kB a row, empty cells or not.
MAX_ROW_VALUES = 4096
#: Elements other than TR and TD (INFO, PARAM, GROUP, FIELD, DESCRIPTION...) at most: each
#: costs astropy a Python object, and a target list needs a few dozen.
MAX_OTHER_ELEMENTS = 10_000
#: Memory reading a table may take at most, as ``_MEMORY`` and ``ROW_MEMORY`` reckon it (the
#: document's size, rows or TABLE nrows times a row's fixed cells, the variable cells' values as
#: sent: ``bench/upload_memory.py`` prints the reckoning beside the peak memory of reading).  The
#: largest target lists read in ~160 MB (100,000 rows of a ``char[64]`` name and five doubles,
#: as BINARY); bounded by declared bytes (16 MiB) instead, 32,000 rows of ``bit[4088]`` took
#: 1.3 GB and 100,000 ``double[*]`` cells of 30 values 450 MB.
MAX_TABLE_MEMORY = 224 * 1024 * 1024
#: Attributes of one element at most (a FIELD has a dozen at most), and of the whole document
#: (a TD has none; a million on one TD cost astropy 450 MB).
MAX_ELEMENT_ATTRIBUTES = 100
MAX_ATTRIBUTES = 100_000
#: Bytes of one tag (or comment, processing instruction) at most: expat holds it whole, and
#: builds every attribute of a start tag before the handler below may count them.  Checked
#: each time ``_FEED_BYTES`` more are given to expat: a tag still open this many bytes after
#: its start is refused (one that ends within the next piece passes).
MAX_TAG_BYTES = 256 * 1024
_FEED_BYTES = 64 * 1024
#: Where the elements that decide what astropy reads may be (their parent; None: the root).
#: TR and TD are not tracked: astropy reads either outside its TABLEDATA as an unknown
#: element, whose children it reads as its parent's, and so does this pass.
_PARENTS: dict[str, frozenset[str | None]] = {
    "VOTABLE": frozenset({None}),
    "RESOURCE": frozenset({"VOTABLE", "RESOURCE"}),
    "TABLE": frozenset({"RESOURCE"}),
    "FIELD": frozenset({"TABLE"}),
    "DATA": frozenset({"TABLE"}),
    "TABLEDATA": frozenset({"DATA"}),
    "BINARY": frozenset({"DATA"}),
    "BINARY2": frozenset({"DATA"}),
    "STREAM": frozenset({"BINARY", "BINARY2"}),
}
_ROW_ELEMENTS = frozenset({"TR", "TD"})
#: Encodings a VOTable document may declare (ASCII-compatible, read by expat itself).
ENCODINGS = frozenset({"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"})
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")

#: Bytes per value of each VOTable datatype in BINARY serialization ('bit' is counted apart).
_SIZES = {"boolean": 1, "unsignedByte": 1, "short": 2, "int": 4, "long": 8, "char": 1, "unicodeChar": 2,
          "float": 4, "double": 8, "floatComplex": 8, "doubleComplex": 16, "bit": 0}
#: Bytes of memory reading one value of each datatype takes (astropy's array and mask, its copies
#: as the array grows, the Python value and its list slot in ``reader.read_votable``): the peak
#: over what was there before, measured on 1,500,000-value tables, BINARY or TABLEDATA whichever
#: took more (``bench/upload_memory.py``).
_MEMORY = {"bit": 11, "boolean": 14, "unsignedByte": 14, "char": 19, "unicodeChar": 38, "short": 24, "int": 49,
           "long": 91, "float": 75, "double": 117, "floatComplex": 150, "doubleComplex": 234}
#: Bytes of memory a row takes besides its values (the row's list), and a variable cell besides
#: its values (astropy's array and mask objects for the cell, the Python list).
ROW_MEMORY = 128
_VARIABLE_CELL_MEMORY = {"char": 64, "unicodeChar": 64}
_VARIABLE_CELL_DEFAULT = 500
#: Bytes of memory a PARAM takes besides its value (astropy's Param object, its attributes).
_PARAM_MEMORY = 2048
#: Bytes of memory a character of an array cell's TABLEDATA text takes at least (a bit[*] cell of
#: commas: 34 a comma).
_TEXT_MEMORY = 36


class _Field:
    """How many bytes one FIELD takes in a BINARY row: fixed, or a count prefix then values."""

    def __init__(self, name: str, datatype: str, arraysize: str | None, kind: str = "FIELD") -> None:
        if datatype not in _SIZES:
            raise BadRequest(f"{kind} {name[:40]!r} has an unknown datatype {datatype[:40]!r}")
        self.bit = datatype == "bit"
        self.size = _SIZES[datatype]
        self.value_memory = _MEMORY[datatype]
        self.cell_memory = _VARIABLE_CELL_MEMORY.get(datatype, _VARIABLE_CELL_DEFAULT)
        self.variable = False
        self.values = 1  # per count unit when variable, in all when fixed
        if arraysize:
            dims = arraysize.strip().split("x")
            for k, dim in enumerate(dims):
                dim = dim.strip()
                if dim.endswith("*"):
                    if k != len(dims) - 1:
                        raise BadRequest(f"{kind} {name[:40]!r}: only the last dimension of arraysize may be '*'")
                    if dim[:-1].strip() and whole_number(dim[:-1]) is None:  # "10*": at most 10
                        raise BadRequest(f"{kind} {name[:40]!r} has an unreadable arraysize {arraysize[:40]!r}")
                    self.variable = True
                    continue
                n = whole_number(dim)
                if n is None:
                    raise BadRequest(f"{kind} {name[:40]!r} has an unreadable arraysize {arraysize[:40]!r}")
                if n == 0:  # a cell of no value: astropy reads 0 bytes a row, and its BINARY reader never ends
                    raise BadRequest(f"{kind} {name[:40]!r} declares arraysize={arraysize[:40]!r}: a dimension "
                                     "of 0 holds no value (a cell holds at least one)")
                self.values *= n
                if self.values > MAX_CELL_VALUES:
                    raise PayloadTooLarge(f"{kind} {name[:40]!r} declares arraysize={arraysize[:40]!r}: at most "
                                          f"{MAX_CELL_VALUES} values per cell are read")
            if len(dims) > 1:
                # read as nested lists: '1x4096' is 4,096 lists of one value, ~70 bytes each (a
                # 3.3 MiB upload of bit[1x4096] took a worker to 1.8 GB); a target list needs none
                raise BadRequest(f"{kind} {name[:40]!r} declares arraysize={arraysize[:40]!r}: arrays of more than "
                                 "one dimension are not read (send each value as a column)")
        #: an array of numbers (or bits) in TABLEDATA: its cells' text is counted (``_Walk.cell_text``)
        self.counted_in_text = (self.variable or self.values > 1) and datatype not in _VARIABLE_CELL_MEMORY

    @property
    def unit_bytes(self) -> int:
        """Bytes of one value (fixed), or of one counted unit (variable), as astropy reads them: bits
        are packed within a unit, never across units (a 'bit *' cell takes a byte per bit)."""
        return math.ceil(self.values / 8) if self.bit else self.values * self.size

    def nbytes(self, count: int) -> int:
        return count * self.unit_bytes

    @property
    def fixed_bytes(self) -> int:
        return self.unit_bytes

    @property
    def row_memory(self) -> int:
        """Memory this FIELD takes in every row read: its fixed values, or a variable cell's own
        cost (its values are counted as they come)."""
        return self.cell_memory if self.variable else self.values * self.value_memory

    def values_memory(self, count: int) -> int:
        """Memory of ``count`` units of a variable cell (a unit of ``values`` values)."""
        return count * self.values * self.value_memory

    @property
    def least_bytes(self) -> int:
        """Bytes this FIELD takes in every BINARY row at least (a variable cell: its count)."""
        return 4 if self.variable else self.fixed_bytes


def _count_binary_rows(data: bytes, fields: list[_Field], null_mask: bool, limit: int | None) -> tuple[int, int]:
    """Rows in a decoded BINARY (or BINARY2, with its per-row null mask) stream, and the memory of
    their variable cells' values (``_Field.values_memory``); stops past ``limit`` rows.

    astropy reads rows until one read comes short: a row must take bytes, or it reads forever."""
    mask = (len(fields) + 7) // 8 if null_mask else 0
    if not fields:
        if data:
            raise BadRequest("a BINARY stream in a TABLE without FIELDs: its rows would be of no bytes")
        return 0, 0
    if mask + sum(f.least_bytes for f in fields) <= 0:
        raise BadRequest("a BINARY row of this table would take no bytes: every FIELD must hold a value")
    if not any(f.variable for f in fields):
        row = mask + sum(f.fixed_bytes for f in fields)
        return (-(-len(data) // row) if row else 0), 0
    rows = pos = memory = 0
    end = len(data)
    unpack = struct.Struct(">I").unpack_from
    while pos < end:
        pos += mask
        for f in fields:
            if f.variable:
                if pos + 4 > end:
                    return rows + 1, memory
                (count,) = unpack(data, pos)
                # what a short last cell holds is what is left of the stream
                memory += f.values_memory(min(count, (end - pos) // max(1, f.unit_bytes)))
                pos += 4 + f.nbytes(count)
            else:
                pos += f.fixed_bytes
        rows += 1
        if limit is not None and rows > limit:
            break
    return rows, memory


class _Walk:
    """expat handlers: the current table's FIELDs, rows counted so far, the inline stream being read,
    the elements open.

    Most elements of a big upload are TD and TR: the start handler returns for a TD at once,
    the end handler for a TR or TD, and the text handler is set only while a STREAM is open (a
    Python call per element is the whole cost of this pass).
    """

    def __init__(self, parser: Any, max_rows: int | None, max_cells: int | None = None, body_bytes: int = 0) -> None:
        self.parser = parser
        #: the document's size, counted in what reading it takes: TABLEDATA text (a ``char *``
        #: cell's, whose values are not counted) is held as Python strings of about that size
        self.body_bytes = body_bytes
        #: memory the document's PARAMs take to read (every table's)
        self.param_memory = 0
        self.max_rows = max_rows
        self.max_cells = max_cells
        self.fields: list[_Field] = []
        self.row_values = 1  # values per row of the current table (at least one per row)
        self.row_memory = ROW_MEMORY  # memory a row of the current table takes to read (its fixed cells)
        self.variable_memory = 0  # memory the current table's variable cells' values take to read
        self.column = 0  # the TD being read in its TR (counting the values of array cells' text)
        self.in_row = self.in_cell = False  # inside a TR, inside a TD
        self.rows = 0
        self.tds = 0
        self.others = 0
        self.declared_rows = 0  # the current TABLE's nrows (astropy allocates that many at once)
        self.attributes = 0
        self.open: list[str] = []  # the elements open, TR and TD left out
        self.stream: list[bytes] = []
        self.streaming = False
        self.container = ""  # BINARY or BINARY2: where a STREAM is

    def _too_many(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"more than {self.max_rows} rows: the limit is {self.max_rows} rows per request "
                               "(split the list into several requests)")

    def _check(self) -> None:
        if self.max_rows is not None and self.rows > self.max_rows:
            raise self._too_many()
        rows = max(self.rows, self.declared_rows)
        if self.max_cells is not None and rows * max(1, len(self.fields)) > self.max_cells:
            raise self._too_many_cells()
        memory = self.memory()
        if memory > MAX_TABLE_MEMORY:
            raise PayloadTooLarge(f"the table's declared size ({rows} rows, {len(self.fields)} FIELDs, arrays "
                                  f"included) would take about {memory // 10**6} MB to read, over the limit of "
                                  f"{MAX_TABLE_MEMORY // 10**6} MB: send fewer or narrower columns (declare text "
                                  "columns arraysize=\"*\"), or fewer rows")

    def memory(self) -> int:
        """What reading the current table would take, as reckoned so far (``MAX_TABLE_MEMORY``)."""
        rows = max(self.rows, self.declared_rows)
        return self.body_bytes + self.param_memory + rows * self.row_memory + self.variable_memory

    def _too_many_cells(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"more than {self.max_cells} cells (rows x columns): the limit is "
                               f"{self.max_cells} per request (send fewer columns, or split the list)")

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if self.streaming:
            raise BadRequest("a STREAM holds base64 text only, not elements")
        if tag == "TD":
            self._td(attrs)
            return
        if tag.count(":") > 1:  # astropy and this pass would disagree on what the element is
            raise BadRequest(f"element <{tag[:40]}> has more than one namespace prefix")
        name = tag.rpartition(":")[2]
        if name == "TD":
            self._td(attrs)
            return
        if self.in_row:  # astropy moves to the next cell at any end tag in a row, so '<X/>' shifted them
            raise BadRequest(f"<{name[:40]}> inside a TR: a row holds TD elements only, a TD text only")
        if attrs:
            self._count_attributes(name, attrs)
        if name == "TR":
            self.rows += 1
            self.column = 0
            self.in_row = True
            self._check()
            return
        self.others += 1
        if self.others > MAX_OTHER_ELEMENTS:
            raise PayloadTooLarge(f"more than {MAX_OTHER_ELEMENTS} elements besides TR and TD: a target list "
                                  "needs a few")
        parent = self._enter(name)
        if name == "TABLE":
            self.fields, self.row_values, self.row_memory, self.variable_memory = [], 1, ROW_MEMORY, 0
            self.declared_rows = self._nrows(attrs.get("nrows"))
            if self.max_rows is not None and self.declared_rows > self.max_rows:
                raise self._too_many()
        elif name == "FIELD":
            if len(self.fields) >= MAX_FIELDS:
                raise BadRequest(f"more than {MAX_FIELDS} FIELDs: at most {MAX_FIELDS} columns are read")
            label = attrs.get("name") or attrs.get("ID") or ""
            field = _Field(label, attrs.get("datatype", ""), attrs.get("arraysize"))
            self.fields.append(field)
            self.row_values = sum(f.values for f in self.fields)
            self.row_memory = ROW_MEMORY + sum(f.row_memory for f in self.fields)
            if self.row_values > MAX_ROW_VALUES:
                raise PayloadTooLarge(f"a row of more than {MAX_ROW_VALUES} values (all FIELDs' arraysizes "
                                      "together) is not read")
            self._check()
        elif name == "PARAM":  # a PARAM's value is allocated at its declared arraysize too
            param = _Field(attrs.get("name") or attrs.get("ID") or "", attrs.get("datatype", "char"),
                           attrs.get("arraysize"), kind="PARAM")
            # its value, read whatever table it is in (3,800 PARAMs of double[4096]: 249 MB); a
            # variable one holds what its value attribute holds (a value a character at most)
            values = param.values * (len(attrs.get("value", "")) + 1 if param.variable else 1)
            self.param_memory += _PARAM_MEMORY + values * param.value_memory
            self._check()
        elif name == "TABLEDATA" and any(f.counted_in_text for f in self.fields):
            self.parser.CharacterDataHandler = self.cell_text  # only then: a call per TD costs
        elif name in ("FITS", "PARQUET"):
            raise BadRequest(f"{name} data inside a VOTable is not read: send TABLEDATA, or BINARY/BINARY2 "
                             "with the data inline (base64)")
        elif name == "STREAM":
            if "href" in attrs:
                raise BadRequest("a STREAM with href (a file or URL reference) is never followed: put the data "
                                 "inline, as TABLEDATA or base64 BINARY/BINARY2")
            if attrs.get("encoding", "").strip().lower() != "base64":
                raise BadRequest("an inline STREAM must have encoding=\"base64\"")
            self.container = parent or ""
            self.stream, self.streaming = [], True
            self.parser.CharacterDataHandler = self.text

    def _td(self, attrs: dict[str, str]) -> None:
        if self.in_cell:
            raise BadRequest("a TD inside a TD: a row holds TD elements only, a TD text only")
        self.in_cell = True
        self.tds += 1
        self.column += 1
        if self.max_cells is not None and self.tds > self.max_cells:
            raise self._too_many_cells()
        if attrs:
            if "encoding" in attrs:  # astropy decodes it and reads a value a byte: uncounted here
                raise BadRequest("a TD with an encoding (base64 cell data) is not read: write the values as text, "
                                 "or send the table as BINARY")
            self._count_attributes("TD", attrs)

    def _count_attributes(self, name: str, attrs: dict[str, str]) -> None:
        if len(attrs) > MAX_ELEMENT_ATTRIBUTES:
            raise PayloadTooLarge(f"<{name[:40]}> has {len(attrs)} attributes: at most {MAX_ELEMENT_ATTRIBUTES} "
                                  "per element are read")
        self.attributes += len(attrs)
        if self.attributes > MAX_ATTRIBUTES:
            raise PayloadTooLarge(f"more than {MAX_ATTRIBUTES} attributes in the document: a target list "
                                  "needs a few")

    def _enter(self, name: str) -> str | None:
        """Open ``name`` (its parent must be one ``_PARENTS`` allows); returns its parent."""
        parent = self.open[-1] if self.open else None
        allowed = _PARENTS.get(name)
        if allowed is not None and parent not in allowed:
            where = "at the top of the document" if parent is None else f"inside <{parent[:40]}>"
            places = " or ".join(f"<{p}>" if p else "the document's root" for p in sorted(allowed, key=str))
            raise BadRequest(f"<{name}> {where} is not read: it must be directly inside {places}")
        self.open.append(name)
        return parent

    @staticmethod
    def _nrows(text: str | None) -> int:
        if text is None or not text.strip():
            return 0
        n = whole_number(text)
        if n is None:
            raise BadRequest(f"TABLE nrows={text[:40]!r} is not a whole number")
        return n

    def end(self, tag: str) -> None:
        """Close the innermost element open (TR and TD are not tracked); a STREAM holds text only,
        so while one is open the next end tag is its own."""
        if self.streaming:
            self._end_stream()
        if tag == "TD" or tag == "TR" or tag.rpartition(":")[2] in _ROW_ELEMENTS:
            if tag.rpartition(":")[2] == "TD":
                self.in_cell = False
            else:
                self.in_row = self.in_cell = False
            return
        if self.open.pop() == "TABLEDATA":
            self.parser.CharacterDataHandler = None

    def _end_stream(self) -> None:
        self.parser.CharacterDataHandler = None
        self.streaming = False
        try:
            data = binascii.a2b_base64(b"".join(self.stream))
        except binascii.Error:
            raise BadRequest(f"the {self.container} STREAM is not valid base64") from None
        self.stream = []
        left = None if self.max_rows is None else self.max_rows - self.rows
        rows, memory = _count_binary_rows(data, self.fields, self.container == "BINARY2", left)
        self.rows += rows
        self.variable_memory += memory
        self.container = ""
        self._check()

    def text(self, data: str) -> None:
        self.stream.append(data.encode("ascii", "replace"))

    def cell_text(self, data: str) -> None:
        """Text in a TABLEDATA whose table has arrays of numbers (or bits), fixed or variable: their
        values counted (astropy reads each as an array of its own, tens of bytes a value)."""
        if 0 < self.column <= len(self.fields):
            f = self.fields[self.column - 1]
            if f.counted_in_text:
                # astropy separates values by blanks or commas ('1,2,3' is three, ',,,,' five empty
                # ones): at most the blank-separated tokens and the commas between them; and it
                # splits the whole text before it reads (a cell of 31 MiB of ';' took 505 MB, of
                # ',' in a double[2] 759 MB): at least _TEXT_MEMORY a character
                values = data.count("0") + data.count("1") if f.bit else len(data.split())
                values += data.count(",")
                memory = max(values * f.value_memory, len(data) * _TEXT_MEMORY)
                if not f.variable:  # its declared values are counted with the row
                    memory = max(0, memory - f.values * f.value_memory)
                self.variable_memory += memory
                self._check()  # now: a table of one row has no next TR to check it


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
    walk = _Walk(parser, max_rows, max_cells, len(body))
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse("a DOCTYPE declaration")
    parser.EntityDeclHandler = _refuse("an ENTITY declaration")
    parser.ExternalEntityRefHandler = _refuse("an external entity")
    parser.StartElementHandler = walk.start
    parser.EndElementHandler = walk.end
    parser.buffer_text = True
    try:
        _feed(parser, body)
    except xml.parsers.expat.ExpatError as exc:
        raise BadRequest(f"line {exc.lineno}: cannot read the VOTable body: "
                         f"{xml.parsers.expat.errors.messages[exc.code]}") from None


def _feed(parser: Any, body: bytes) -> None:
    """``body`` to expat a piece at a time; 413 as soon as one tag (or comment) is over ``MAX_TAG_BYTES``.

    expat reports where its last event began: more than that many bytes given since, and the
    token it is in (text never counts: it is reported as it comes) is too big."""
    view = memoryview(body)
    for start in range(0, len(body), _FEED_BYTES):
        end = min(start + _FEED_BYTES, len(body))
        parser.Parse(view[start:end], False)
        if end - max(parser.CurrentByteIndex, 0) > MAX_TAG_BYTES:
            raise PayloadTooLarge(f"a tag (or comment) of more than {MAX_TAG_BYTES // 1024} KiB at line "
                                  f"{parser.CurrentLineNumber}: a target list needs none")
    parser.Parse(b"", True)
