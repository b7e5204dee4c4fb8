"""Memory reading an uploaded VOTable takes, against what the upload guard reckons before it.

``votable_guard`` refuses (413) a table whose reading it reckons over ``MAX_TABLE_MEMORY``, from
per-value weights measured here (``_MEMORY``).  Each shape below is generated, then read by
``reader.read_body`` (the guard, astropy, the Python rows) in a child process of its own; printed:
the body's size, the guard's reckoning, the child's peak resident memory over what it held
before reading, and the outcome.  The reckoning should be at or above the peak for every shape
read, and every shape refused should be one whose reading would have cost more than the limit.

    .venv/bin/python bench/upload_memory.py [--shape "bin 100000 char:64 double:1"]...

A shape is ``bin|td ROWS datatype:arraysize ...``; the arraysize ``*N`` is a variable cell of N
values.
"""

from __future__ import annotations

import argparse
import base64
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SHAPES = [
    # target lists: names and coordinates, the largest a request may hold (100,000 rows)
    "bin 100000 char:64 double:1 double:1 double:1 double:1 double:1",
    "td 100000 char:64 double:1 double:1 double:1 double:1 double:1",
    "bin 100000 char:* double:1 double:1",
    "td 100000 char:*300",
    # one datatype at a time, 1,536,000 values (the weights' calibration)
    *(f"{fmt} 6000 {dt}:256" for dt in ("bit", "char", "unsignedByte", "short", "int", "long", "float", "double")
      for fmt in ("bin", "td")),
    # what was read before the weights (16 MiB of declared BINARY bytes): 1.3 GB and 450 MB
    "bin 32000 bit:4088",
    "bin 4000 char:4096",
    "bin 100000 double:*30",
    "td 100000 double:*30",
    "bin 20000 double:100",
]

_PACK = {"double": ">d", "float": ">f", "int": ">i", "short": ">h", "long": ">q", "unsignedByte": ">B"}


def _count(size: str) -> int:
    return int(size[1:] or 8) if size.startswith("*") else int(size)


def _field(i: int, datatype: str, size: str) -> str:
    arraysize = "" if size == "1" else ' arraysize="*"' if size.startswith("*") else f' arraysize="{size}"'
    return f'<FIELD name="c{i}" datatype="{datatype}"{arraysize}/>'


def _td(datatype: str, size: str) -> str:
    n = _count(size)
    if datatype == "bit":
        return "1" * n
    if datatype == "char":
        return "a" * n
    return " ".join(["1.5" if datatype in ("double", "float") else "7"] * n)


def _binary(datatype: str, size: str) -> bytes:
    n = _count(size)
    if datatype == "bit":
        cell = b"\xff" * ((n + 7) // 8)
    elif datatype == "char":
        cell = b"a" * n
    else:
        cell = struct.pack(_PACK[datatype], 1.5 if datatype in ("double", "float") else 7) * n
    return struct.pack(">i", n) + cell if size.startswith("*") else cell


def document(shape: str) -> bytes:
    """The VOTable of ``shape`` (every row alike)."""
    fmt, rows_text, *specs = shape.split()
    rows = int(rows_text)
    cells = [(s.split(":")[0], s.split(":")[1]) for s in specs]
    head = ('<?xml version="1.0"?><VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE>'
            "<TABLE>" + "".join(_field(i, d, a) for i, (d, a) in enumerate(cells)) + "<DATA>")
    tail = "</DATA></TABLE></RESOURCE></VOTABLE>"
    if fmt == "td":
        row = "<TR>" + "".join(f"<TD>{_td(d, a)}</TD>" for d, a in cells) + "</TR>"
        return (head + "<TABLEDATA>" + row * rows + "</TABLEDATA>" + tail).encode()
    raw = b"".join(_binary(d, a) for d, a in cells) * rows
    return ((head + '<BINARY><STREAM encoding="base64">').encode() + base64.b64encode(raw)
            + ("</STREAM></BINARY>" + tail).encode())


_CHILD = """
import gc, resource, sys
sys.path.insert(0, sys.argv[1])
from bench.upload_memory import document
from getstar.xmatch import reader, votable_guard
import astropy.io.votable  # imported before measuring: its import is not the upload's
body = document(sys.argv[2])
reckoned = []
def keep(walk_check, walk):
    def check():
        reckoned[:] = [walk.memory()]
        walk_check()
    return check
original = votable_guard._Walk.__init__
def init(self, *args, **kwargs):
    original(self, *args, **kwargs)
    self._check = keep(self._check, self)
votable_guard._Walk.__init__ = init
gc.collect()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    table = reader.read_body(body, "votable", max_rows=200_000, max_cells=10_000_000)
    outcome = f"read, {len(table.rows)} rows"
except Exception as exc:
    outcome = f"{type(exc).__name__}"
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(len(body), reckoned[0] if reckoned else 0, peak * 1024, outcome)
"""


def measure(shape: str) -> tuple[int, int, int, str]:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT), shape], capture_output=True, text=True,
                         check=True, timeout=600).stdout.split(maxsplit=3)
    return int(out[0]), int(out[1]), int(out[2]), out[3].strip()


def main() -> None:
    from getstar.xmatch.votable_guard import MAX_TABLE_MEMORY

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", action="append", help="a shape to measure (default: the list above)")
    args = parser.parse_args()
    print(f"limit: {MAX_TABLE_MEMORY / 1e6:.0f} MB reckoned")
    print(f"{'shape':<66} {'body MB':>8} {'reckoned':>9} {'peak MB':>8}  outcome")
    for shape in args.shape or SHAPES:
        size, reckoned, peak, outcome = measure(shape)
        print(f"{shape:<66} {size / 1e6:8.1f} {reckoned / 1e6:9.0f} {peak / 1e6:8.0f}  {outcome}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
