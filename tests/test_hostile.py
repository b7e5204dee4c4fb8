"""Hostile input is normal input: every class of the probe set against the real service.

Each request gets a 2xx or a clear 4xx (or the documented 503 with Retry-After), within a
bound; nothing in a request opens a file or a URL; nothing is logged with a traceback; the
service is healthy afterwards.  Timeouts are shortened here (header 2 s, body 2 s) so the
slow-client cases take seconds; the bounds asserted are hang guards, not performance targets
(those are in ``bench/hostile.py``).
"""

from __future__ import annotations

import base64
import codecs
import http.server
import json
import logging
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from getstar.config import Settings
from tests.conftest import LiveServer

#: No request of the probe set may take longer (the SPEC's hostile-input bound).
BOUND = 10.0
OK_STATUSES = {200, 400, 404, 409, 413, 414, 415, 431}


class Captured(logging.Handler):
    """Every log record of the service's loggers while this module runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._seen: set[int] = set()

    def emit(self, record: logging.LogRecord) -> None:
        if id(record) not in self._seen:  # a record reaches several of the loggers watched
            self._seen.add(id(record))
            self.records.append(record)

    def tracebacks(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}" for r in self.records
                if r.exc_info or "Traceback" in r.getMessage() or r.levelno >= logging.ERROR]


@pytest.fixture(scope="module")
def logs() -> Iterator[Captured]:
    handler = Captured()
    loggers = [logging.getLogger(n) for n in ("", "uvicorn", "uvicorn.error", "getstar", "getstar.access")]
    for lg in loggers:
        lg.addHandler(handler)
    access = logging.getLogger("getstar.access")
    level = access.level
    access.setLevel(logging.INFO)  # one line per request, as `getstar serve` writes them
    yield handler
    access.setLevel(level)
    for lg in loggers:
        lg.removeHandler(handler)


@pytest.fixture(scope="module")
def server(snapshot_dsn: str, settings: Settings, logs: Captured) -> Iterator[LiveServer]:
    cfg = replace(settings, http_header_timeout=2.0, http_body_timeout=2.0, http_body_grace=3.0, http_write_timeout=5.0,
                  xmatch_max_rows=50_000, pool_max=10)
    live = LiveServer(snapshot_dsn, cfg)
    live.start()
    yield live
    live.stop()


def get(server: LiveServer, path: str, **kwargs: Any) -> httpx.Response:
    started = time.monotonic()
    r = httpx.get(server.url + path, timeout=BOUND + 5, **kwargs)
    assert time.monotonic() - started < BOUND, f"{path} took {time.monotonic() - started:.1f} s"
    return r


def post(server: LiveServer, body: bytes, content_type: str, path: str = "/v1/xmatch",
         headers: dict[str, str] | None = None, **params: Any) -> httpx.Response:
    started = time.monotonic()
    r = httpx.post(server.url + path, content=body, headers={"Content-Type": content_type, **(headers or {})},
                   params=params, timeout=BOUND + 5)
    assert time.monotonic() - started < BOUND, f"POST took {time.monotonic() - started:.1f} s"
    return r


def clear(r: httpx.Response, *statuses: int) -> str:
    """The problem document's text of a 4xx: says what is wrong, in our words."""
    assert r.status_code in statuses, (r.status_code, r.text[:300])
    text = r.text
    for leak in ("Traceback", "Errno", "urlopen", "/etc/", "/var/", "/root", "/tmp/"):
        assert leak not in text, (leak, text[:300])
    return text


# ---------------------------------------------------------------------------------------
# Uploads: no file read, no URL fetched, sizes checked while parsing

class Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"AAAAAAAA")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def bait() -> Iterator[str]:
    """A real HTTP server on loopback that records whether anything fetched from it."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def votable(fields: str, data: str) -> bytes:
    return (f'<?xml version="1.0"?><VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
            f'<RESOURCE><TABLE>{fields}<DATA>{data}</DATA></TABLE></RESOURCE></VOTABLE>').encode()


NAME = '<FIELD name="name" datatype="char" arraysize="64"/>'


@pytest.mark.parametrize("where", ["file:///etc/passwd", "file:///dev/zero", "BAIT/secret", "ftp://127.0.0.1/x"])
@pytest.mark.parametrize("element", ["BINARY", "BINARY2", "FITS"])
def test_stream_references_are_never_followed(server: LiveServer, bait: str, where: str, element: str) -> None:
    Recorder.hits.clear()
    href = where.replace("BAIT", bait)
    r = post(server, votable(NAME, f'<{element}><STREAM href="{href}"/></{element}>'), "application/x-votable+xml")
    text = clear(r, 400)
    assert element in text or "STREAM" in text
    assert "root:" not in text and not Recorder.hits  # nothing read, nothing fetched


def test_inline_binary_and_binary2_are_read(server: LiveServer) -> None:
    names = [b"Sirius", b"Vega"]
    fields = '<FIELD name="name" datatype="char" arraysize="*"/>'
    plain = b"".join(len(n).to_bytes(4, "big") + n for n in names)
    masked = b"".join(b"\x00" + len(n).to_bytes(4, "big") + n for n in names)
    for element, raw in (("BINARY", plain), ("BINARY2", masked)):
        stream = f'<{element}><STREAM encoding="base64">{base64.b64encode(raw).decode()}</STREAM></{element}>'
        r = post(server, votable(fields, stream), "application/x-votable+xml", format="json")
        assert r.status_code == 200, r.text[:300]
        assert [row["main_id"] for row in r.json()["results"]] == ["* alf CMa", "* alf Lyr"]


@pytest.mark.parametrize("doc, status, says", [
    (votable('<FIELD name="name" datatype="char" arraysize="100000000"/>', "<TABLEDATA/>"), 413, "arraysize"),
    (votable('<FIELD name="m" datatype="double" arraysize="3000x3000"/>', "<TABLEDATA/>"), 413, "arraysize"),
    # nested lists when read: bit[1x4096] x 5,000 rows (3.3 MiB) took a worker to 1.8 GB
    (votable(NAME + '<FIELD name="m" datatype="bit" arraysize="1x4096"/>', "<TABLEDATA/>"), 400, "one dimension"),
    (votable(NAME + '<FIELD name="m" datatype="short" arraysize="2x*"/>', "<TABLEDATA/>"), 400, "one dimension"),
    # astropy moves to the next cell at any end tag in a row: '<X/>' made a TD of commas another column's
    (votable('<FIELD name="n" datatype="char" arraysize="*"/><FIELD name="d" datatype="double" arraysize="*"/>',
             "<TABLEDATA><TR><X/><TD>,,,</TD></TR></TABLEDATA>"), 400, "inside a TR"),
    # a base64 TD is decoded by astropy, a value a byte (a 31 MiB one took 1.1 GB)
    (votable(NAME + '<FIELD name="m" datatype="unsignedByte" arraysize="*"/>',
             '<TABLEDATA><TR><TD>Sirius</TD><TD encoding="base64">AAAAAwcHBw==</TD></TR></TABLEDATA>'),
     400, "encoding"),
    (votable('<FIELD name="n" datatype="nonsense"/>', "<TABLEDATA/>"), 400, "datatype"),
    (b'<?xml version="1.0"?><!DOCTYPE v [<!ENTITY x SYSTEM "file:///etc/passwd">]><VOTABLE>&x;</VOTABLE>',
     400, "DOCTYPE"),
    (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
     b"<VOTABLE>&b;</VOTABLE>", 400, "DOCTYPE"),
    (votable(NAME, '<BINARY><STREAM encoding="base64"><TR/>AAAA</STREAM></BINARY>'), 400, "STREAM"),
    (votable(NAME, '<BINARY><STREAM encoding="gzip">AAAA</STREAM></BINARY>'), 400, "base64"),
    (b'<?xml version="1.0" encoding="EBCDIC-US"?><VOTABLE/>', 415, "encoding"),
    # sizes astropy would allocate from a few bytes: a PARAM's arraysize, TABLE nrows, a row's values
    (votable('<PARAM name="p" datatype="double" arraysize="3000000" value="1"/>' + NAME,
             "<TABLEDATA><TR><TD>Sirius</TD></TR></TABLEDATA>"), 413, "PARAM"),
    (votable(NAME, "<TABLEDATA><TR><TD>Sirius</TD></TR></TABLEDATA>").replace(b"<TABLE>", b'<TABLE nrows="20000000">'),
     413, "rows"),
    (votable(NAME + "".join(f'<FIELD name="c{i}" datatype="double" arraysize="4096"/>' for i in range(10)),
             "<TABLEDATA>" + ("<TR><TD>Sirius</TD>" + "<TD/>" * 10 + "</TR>") * 150 + "</TABLEDATA>"), 413, "values"),
    # an element name astropy and the guard would read differently (the row count would be skipped)
    (votable('<FIELD name="n" datatype="unsignedByte"/><a:b:TABLE/>',
             f'<BINARY><STREAM encoding="base64">{base64.b64encode(bytes(1000)).decode()}</STREAM></BINARY>'),
     400, "namespace"),
    (votable(NAME + '<INFO name="i" value="v"/>' * 10_001, "<TABLEDATA/>"), 413, "elements"),
    (votable(NAME, "<TABLEDATA><TR>" + "<TD/>" * 500_001 + "</TR></TABLEDATA>"), 413, "cells"),
    ("<VOTABLE/>".encode("utf-16"), 415, "UTF-8"),
    # where the FIELDs are decides what astropy reads: a FIELD it skips (in a GROUP) made the
    # guard count 1 row where astropy read 8,001; a nested TABLE or RESOURCE reset its FIELDs
    (votable('<FIELD name="n" datatype="unsignedByte"/><GROUP><FIELD name="d" datatype="double" arraysize="1000"/>'
             "</GROUP>", f'<BINARY><STREAM encoding="base64">{base64.b64encode(bytes(8001)).decode()}</STREAM>'
             "</BINARY>"), 400, "inside <GROUP>"),
    (votable(NAME + '<X><FIELD name="d" datatype="double"/></X>', "<TABLEDATA/>"), 400, "inside <X>"),
    (votable('<FIELD name="d" datatype="double" arraysize="4000"/><RESOURCE><TABLE><FIELD name="n" datatype="char"/>'
             "</TABLE></RESOURCE>", "<TABLEDATA/>"), 400, "inside <TABLE>"),
    (votable(NAME + "<TABLE></TABLE>", "<TABLEDATA/>"), 400, "inside <TABLE>"),
    (votable(NAME, '<PARQUET type="VOTable-remote-file"/>'), 400, "PARQUET"),
    # attributes: each one is an object to expat and to astropy (a million on one TD cost 450 MB)
    (votable(NAME, "<TABLEDATA><TR><TD " + " ".join(f'a{i}=""' for i in range(101)) + ">x</TD></TR></TABLEDATA>"),
     413, "attributes"),
    (votable(NAME, "<TABLEDATA>" + '<TR><TD a="" b="" c="" d="">x</TD></TR>' * 25_001 + "</TABLEDATA>"), 413,
     "attributes"),
    (votable(NAME, "<TABLEDATA><TR><TD " + " ".join(f'a{i}=""' for i in range(40_000)) + ">x</TD></TR></TABLEDATA>"),
     413, "KiB"),
    (votable(NAME + f'<INFO name="i" value="{"v" * 400_000}"/>', "<TABLEDATA/>"), 413, "KiB"),
])
def test_votable_bodies_that_are_refused(server: LiveServer, doc: bytes, status: int, says: str) -> None:
    assert says in clear(post(server, doc, "application/x-votable+xml"), status)


ZERO_SIZED = ['datatype="char" arraysize="0"', 'datatype="unicodeChar" arraysize="0"', 'datatype="bit" arraysize="0"',
              'datatype="double" arraysize="1x0"', 'datatype="int" arraysize="0x*"', 'datatype="char" arraysize="00"']


@pytest.mark.parametrize("field", ZERO_SIZED)
@pytest.mark.parametrize("element", ["BINARY", "BINARY2"])
def test_binary_rows_of_no_bytes_are_refused(server: LiveServer, field: str, element: str) -> None:
    """astropy reads BINARY rows until a read comes short: a row of no bytes never does, and its
    thread looped for good holding the worker's batch slot (every later upload: 503).  Refused at
    once; uploads are matched afterwards."""
    doc = votable(f'<FIELD name="name" {field}/>', f'<{element}><STREAM encoding="base64">AAAA</STREAM></{element}>')
    assert "holds no value" in clear(post(server, doc, "application/x-votable+xml"), 400)
    r = post(server, b"name\nSirius\n", "text/csv", format="json")
    assert r.status_code == 200 and r.json()["results"][0]["main_id"] == "* alf CMa"


def test_astropy_stops_at_the_row_limit_whatever_the_guard_missed() -> None:
    """The second bound: astropy itself builds no more rows than the limit, so a row that takes
    no input (had the guard let one through) ends in a 413, not a loop.  In a child process: a
    loop there is killed by the timeout."""
    import subprocess
    import sys

    doc = votable('<FIELD name="name" datatype="char" arraysize="0"/>',
                  '<BINARY><STREAM encoding="base64">AAAA</STREAM></BINARY>')
    code = ("import sys\nfrom getstar.errors import PayloadTooLarge\nfrom getstar.xmatch.reader import _first_table\n"
            "try:\n    _first_table(sys.stdin.buffer.read(), 1000)\nexcept PayloadTooLarge as exc:\n"
            "    print(exc.message)\n")
    out = subprocess.run([sys.executable, "-c", code], input=doc, capture_output=True, timeout=60, check=True)
    assert "more than 1000 rows" in out.stdout.decode(), out.stderr.decode()[-500:]


@pytest.mark.parametrize("doc, says", [
    (votable('<FIELD name="name" datatype="char" arraysize="²"/>', "<TABLEDATA/>"), "arraysize"),
    (votable('<FIELD name="name" datatype="char" arraysize="²*"/>', "<TABLEDATA/>"), "arraysize"),
    (votable('<FIELD name="m" datatype="double" arraysize="٣"/>', "<TABLEDATA/>"), "arraysize"),
    (votable('<FIELD name="name" datatype="char" arraysize="*"/>', "<TABLEDATA/>")
     .replace(b"<TABLE>", '<TABLE nrows="²">'.encode()), "nrows"),
    (b'<VOTABLE version="1.4"><RESOURCE><TABLE/></RESOURCE></VOTABLE>', "no FIELD"),
    (votable("", "<TABLEDATA/>"), "no FIELD"),
])
def test_declarations_that_were_server_errors(server: LiveServer, doc: bytes, says: str) -> None:
    """Digits that are not ASCII ("²".isdigit() is true, int("²") fails) and a first table without
    columns were 500s."""
    assert says in clear(post(server, doc, "application/x-votable+xml"), 400)


@pytest.mark.parametrize("body, content_type, column", [
    (b'[{"ra": 0, "dec": 0, "epoch": [2000]}, {"ra": 1, "dec": 1}]', "application/json", "epoch"),
    (b'[{"ra": 0, "dec": 0, "radius": {"a": 1}}, {"ra": 1, "dec": 1}]', "application/json", "radius"),
    (votable('<FIELD name="ra" datatype="double"/><FIELD name="dec" datatype="double"/>'
             '<FIELD name="epoch" datatype="double" arraysize="2"/>',
             "<TABLEDATA><TR><TD>0</TD><TD>0</TD><TD>2000 2001</TD></TR></TABLEDATA>"), "application/x-votable+xml",
     "epoch"),
])
def test_a_list_where_a_value_goes_is_its_rows_problem(server: LiveServer, body: bytes, content_type: str,
                                                       column: str) -> None:
    """An epoch or radius cell holding a list or an object (JSON, a VOTable array FIELD) was a 500
    (a list is not hashable); now that row says what is wrong, as for a name or a position, and
    the batch goes on."""
    r = post(server, body, content_type, format="json")
    assert r.status_code == 200, r.text[:300]
    first, *others = r.json()["results"]
    assert f"{column}: expected a number or text" in first["status"] and first["match"] == "none"
    assert [row["status"] for row in others] == ["ok"] * len(others)


def test_reading_a_big_csv_costs_its_cells_not_copies_of_the_body() -> None:
    """The body is checked and split a block at a time: what reading allocates beyond the cells it
    keeps is a fraction of the body (it was four copies of it: +214 MB for a 32 MiB upload), with
    quotes too (the csv module read a StringIO, four bytes a character)."""
    import tracemalloc

    from getstar.xmatch.reader import read_csv

    rows = 40_000
    plain = "name,ra,dec,note\n" + "".join(f"HD {i},{i % 360}.5,{i % 90}.25,{'x' * 150}\n" for i in range(rows))
    quoted = "name,ra,dec,note\n" + "".join(f'"HD {i}",{i % 360}.5,{i % 90}.25,"{"x" * 150}"\n' for i in range(rows))
    for text, delimiter in ((plain, ","), (plain.replace(",", "\t"), "\t"), (quoted, ","),
                            (plain.replace("\n", "\r\n"), ",")):
        tracemalloc.start()
        try:
            table = read_csv(text, delimiter, None)
            held, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert table.nrows == rows and table.column(3)[-1] == "x" * 150
        assert peak - held < len(text) / 2, (delimiter, peak - held, len(text))


def test_rows_are_counted_while_parsing(server: LiveServer) -> None:
    """A million rows in 2.7 MB of BINARY, or in variable-length cells, are refused before astropy reads them."""
    shorts = base64.b64encode(np.zeros(1_000_000, ">i2").tobytes()).decode()
    doc = votable('<FIELD name="ra" datatype="short"/>',
                  f'<BINARY><STREAM encoding="base64">{shorts}</STREAM></BINARY>')
    assert "50000 rows" in clear(post(server, doc, "application/x-votable+xml"), 413)
    empty_cells = base64.b64encode(b"\x00" * 4 * 60_000).decode()  # 60,000 empty '*' cells
    doc = votable('<FIELD name="name" datatype="char" arraysize="*"/>',
                  f'<BINARY><STREAM encoding="base64">{empty_cells}</STREAM></BINARY>')
    assert "50000 rows" in clear(post(server, doc, "application/x-votable+xml"), 413)
    rows = "".join("<TR><TD>Vega</TD></TR>" for _ in range(50_001))
    assert "50000 rows" in clear(post(server, votable(NAME, f"<TABLEDATA>{rows}</TABLEDATA>"),
                                      "application/x-votable+xml"), 413)


def test_cells_are_counted_before_they_are_built(server: LiveServer) -> None:
    """rows x columns over GETSTAR_XMATCH_MAX_CELLS (500,000): 413 for CSV, and for JSON on the bytes
    already (a body of tiny values costs far more memory parsed than sent)."""
    header = ",".join(["name", "ra", "dec", *(f"c{k}" for k in range(8))])
    wide = header + "\n" + "\n".join(f"HD {i},1,2,a,b,c,d,e,f,g,h" for i in range(46_000))
    assert "cells" in clear(post(server, wide.encode(), "text/csv"), 413)
    tiny = b"[" + b",".join([b"{}"] * 300_000) + b"]"
    assert "values" in clear(post(server, tiny, "application/json"), 413)


def test_batches_take_turns(server: LiveServer) -> None:
    """One batch at a time per worker: two at once both succeed, the second after the first."""
    import asyncio

    rows = ("name\n" + "\n".join(f"HIP {n}" for n in range(1, 20_001))).encode()

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=BOUND + 5) as client:
            return list(await asyncio.gather(*(
                client.post(server.url + "/v1/xmatch", content=rows, headers={"Content-Type": "text/csv"},
                            params={"format": "csv"}) for _ in range(2))))

    first, second = asyncio.run(run())
    assert first.status_code == second.status_code == 200 and first.content == second.content


def test_a_dripping_upload_does_not_hold_the_batch_slot(server: LiveServer) -> None:
    """A body sent a byte at a time is read before the batch slot is taken: others run meanwhile."""
    with socket.create_connection(("127.0.0.1", server.port)) as drip:
        drip.sendall(b"POST /v1/xmatch HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
                     b"Content-Length: 1000\r\n\r\nname\n")
        time.sleep(0.5)  # the drip's request is in the endpoint, waiting for its body
        drip.sendall(b"S")
        r = post(server, b"name\nSirius\n", "text/csv", format="json")
        assert r.status_code == 200 and r.json()["results"][0]["main_id"] == "* alf CMa"


def test_upload_budget_and_deadline() -> None:
    """Bodies held before their turn are bounded in all (503 beyond); a body has a deadline (408)."""
    import asyncio

    from getstar.errors import RequestTimeout, ServiceUnavailable
    from getstar.xmatch.uploads import UploadBudget, read_limited

    budget = UploadBudget(10)
    budget.take(6)
    with pytest.raises(ServiceUnavailable):
        budget.take(5)
    budget.give(6)
    budget.take(10)
    assert budget.held == 10

    async def slow_body() -> None:
        async def receive() -> dict[str, Any]:
            await asyncio.sleep(0.2)
            return {"type": "http.request", "body": b"x", "more_body": True}

        from starlette.requests import Request

        request = Request({"type": "http", "method": "POST", "headers": [], "path": "/v1/xmatch"}, receive)
        fresh = UploadBudget(100)
        with pytest.raises(RequestTimeout):
            await read_limited(request, 100, fresh, deadline=0.5)
        assert fresh.held == 0  # given back

    asyncio.run(slow_body())


def test_one_client_holds_at_most_its_share_of_the_upload_budget() -> None:
    """Bodies being received are counted by client too: one address past its share (a quarter of
    the budget, or the largest body) gets 503 at once, another is still received; given back,
    the share is free again."""
    from getstar import offload
    from getstar.errors import ServiceUnavailable
    from getstar.xmatch.uploads import UploadBudget

    budget = UploadBudget(100, per_client=30)

    def as_client(client: str, act: Any) -> None:
        token = offload.serving(client)
        try:
            act()
        finally:
            offload.served(token)

    as_client("10.0.0.1", lambda: budget.take(30))
    with pytest.raises(ServiceUnavailable, match="one after another"):
        as_client("10.0.0.1", lambda: budget.take(1))
    as_client("10.0.0.2", lambda: budget.take(30))  # another client: received
    assert budget.held == 60 and budget.by_client == {"10.0.0.1": 30, "10.0.0.2": 30}
    as_client("10.0.0.1", lambda: budget.give(30))
    as_client("10.0.0.1", lambda: budget.take(25))
    assert budget.held == 55 and budget.by_client == {"10.0.0.1": 25, "10.0.0.2": 30}


def test_a_batch_waiting_too_long_for_its_turn_is_503() -> None:
    import asyncio

    from getstar.errors import ServiceUnavailable
    from getstar.xmatch.endpoint import take_turn

    async def run() -> None:
        slot = asyncio.Semaphore(1)
        await take_turn(slot, 0.05)  # free: taken at once
        with pytest.raises(ServiceUnavailable) as busy:
            await take_turn(slot, 0.05)  # held by the first
        assert busy.value.retry_after and busy.value.retry_after >= 1 and "busy" in busy.value.message

    asyncio.run(run())


# ---------------------------------------------------------------------------------------
# Charsets, nesting, encodings

@pytest.mark.parametrize("charset", ["rot13", "uu_codec", "zlib_codec", "hex", "base64", "bz2", "punycode", "idna",
                                     "utf-7", "no-such-charset"])
@pytest.mark.parametrize("kind", ["text/csv", "application/json"])
def test_charsets_that_are_not_text_are_415(server: LiveServer, charset: str, kind: str) -> None:
    body = b"name\nSirius\n" if kind == "text/csv" else b'[{"name": "Sirius"}]'
    assert "charset" in clear(post(server, body, f"{kind}; charset={charset}"), 415)


@pytest.mark.parametrize("charset, body", [
    ("latin-1", "name\nAlpha Cen\nBoötis 51\n".encode("latin-1")),
    ("utf-16", "name\nSirius\n".encode("utf-16")),
    ("windows-1252", "name\nSirius\n".encode("cp1252")),
    ("us-ascii", b"name\nSirius\n"),
])
def test_charsets_a_user_can_mean_are_read(server: LiveServer, charset: str, body: bytes) -> None:
    r = post(server, body, f"text/csv; charset={charset}", format="json")
    assert r.status_code == 200 and r.json()["results"], r.text[:300]


def test_deep_json_cells_are_refused_before_streaming(server: LiveServer) -> None:
    deep = b'[{"name": "Sirius", "x": ' + b"[" * 300 + b"]" * 300 + b"}]"
    assert "nested" in clear(post(server, deep, "application/json"), 400)
    ok = b'[{"name": "Sirius", "x": ' + b"[" * 8 + b"]" * 8 + b"}]"
    r = post(server, ok, "application/json", format="json")
    assert r.status_code == 200 and r.json()["results"][0]["input"]["x"] == [[[[[[[[]]]]]]]]


def test_compressed_uploads_are_415(server: LiveServer) -> None:
    assert "Content-Encoding" in clear(post(server, b"name\nSirius\n", "text/csv",
                                            headers={"Content-Encoding": "gzip"}), 415)


def _requests_total(server: LiveServer, route: str, status: str) -> float:
    text = httpx.get(server.url + "/metrics", timeout=10).text
    m = re.search(rf'getstar_requests_total{{route="{re.escape(route)}",status="{status}"}} ([0-9.e+]+)', text)
    return float(m.group(1)) if m else 0.0


def test_an_abandoned_upload_is_not_a_server_error(server: LiveServer, logs: Captured) -> None:
    before_499 = _requests_total(server, "/v1/xmatch", "499")
    before_500 = _requests_total(server, "/v1/xmatch", "500")
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(b"POST /v1/xmatch HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\n"
                  b"name\nSirius\n")
        time.sleep(0.3)
    deadline = time.monotonic() + 5
    while _requests_total(server, "/v1/xmatch", "499") == before_499 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _requests_total(server, "/v1/xmatch", "499") == before_499 + 1
    assert _requests_total(server, "/v1/xmatch", "500") == before_500
    assert not [t for t in logs.tracebacks() if "Disconnect" in t]


# ---------------------------------------------------------------------------------------
# Slow names: one cheap request buys a bounded amount of database work

def test_suggestions_have_a_budget(server: LiveServer) -> None:
    for name in ("Gaia DR3 55", "Gaia DR3 ", "Gaia DR3 " * 15, "HD" * 100):
        r = get(server, "/v1/stars", params={"name": name})
        clear(r, 400, 404)
    three = get(server, "/v1/stars", params={"names": "Gaia DR3 551|Gaia DR3 552|Gaia DR3 553"})
    assert three.status_code == 200 and [a["status"] for a in three.json()["results"]] == ["not_found"] * 3


def test_slow_names_do_not_hold_known_names_or_readiness(server: LiveServer) -> None:
    """Ten expensive unknown names at once (all pool connections busy): a known name that is not
    cached and readiness still answer, within the bound."""
    import asyncio

    async def run() -> tuple[list[httpx.Response], httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=BOUND + 5) as client:
            slow = [asyncio.create_task(client.get("/v1/stars", params={"name": f"Gaia DR3 5{i}{i}"}))
                    for i in range(10)]
            await asyncio.sleep(0.05)
            vega = await client.get("/v1/stars", params={"name": "alpha Lyrae", "format": "csv"})
            ready = await client.get("/health/ready")
            return list(await asyncio.gather(*slow)), vega, ready

    started = time.monotonic()
    slow, vega, ready = asyncio.run(run())
    assert time.monotonic() - started < BOUND
    assert vega.status_code == 200 and "alf Lyr" in vega.text
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert all(r.status_code == 404 for r in slow)


def test_legacy_path_has_the_same_caps_and_a_cache(server: LiveServer) -> None:
    long = get(server, "/sclwsGetStarProxy.php", params={"star": "HD" * 1000})
    assert long.status_code == 400 and "longer than" in long.text
    many = get(server, "/sclwsGetStarProxy.php", params={"star": ",".join(["HD 1"] * 3000)})
    assert many.status_code == 400 and "At most" in many.text

    def queries() -> float:
        text = httpx.get(server.url + "/metrics", timeout=10).text
        return sum(float(v) for v in re.findall(r'getstar_database_queries_total{kind="names"} ([0-9.e+]+)', text))

    first = get(server, "/sclwsGetStarProxy.php", params={"star": "Sirius,Vega"})
    assert first.status_code == 200
    before = queries()
    again = get(server, "/sclwsGetStarProxy.php", params={"star": "Sirius,Vega", "junk": "1"})
    assert again.status_code == 200 and again.content == first.content
    assert queries() == before  # answered from the cache


# ---------------------------------------------------------------------------------------
# Memory: the cache is bounded by bytes and keyed by what changes the answer

def test_extra_parameters_do_not_make_new_cache_entries(server: LiveServer) -> None:
    def entries() -> int:
        return int(httpx.get(server.url + "/health", timeout=10).json()["cache"]["memory_entries"])

    get(server, "/v1/stars", params={"name": "Altair"})
    before = entries()
    for i in range(50):
        assert get(server, "/v1/stars", params={"name": "Altair", "x": str(i)}).status_code == 200
    assert entries() == before


def test_huge_answers_are_served_but_not_kept(server: LiveServer, snapshot_dsn: str) -> None:
    health = httpx.get(server.url + "/health", timeout=10).json()["cache"]
    names = "|".join(f"HIP {n}" for n in range(1, 2001))
    r = get(server, "/v1/stars", params={"names": names})
    assert r.status_code == 200 and len(r.content) > health["memory_max_bytes"] // 32
    after = httpx.get(server.url + "/health", timeout=10).json()["cache"]
    assert after["memory_bytes"] <= after["memory_max_bytes"]
    assert after["memory_bytes"] - health["memory_bytes"] < len(r.content)  # not kept


def test_big_answers_render_off_the_event_loop(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from getstar import answers

    threads: list[str] = []
    real = answers.render

    def spy(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(answers, "render", spy)
    names = "|".join(f"HIP {n}" for n in range(3000, 3050))
    assert get(server, "/v1/stars", params={"names": names}).status_code == 200
    assert get(server, "/v1/stars", params={"name": "HIP 3001"}).status_code == 200
    loop_thread = server.thread.name
    assert threads[0] != loop_thread and threads[1] == loop_thread  # 50 names in a worker thread, 1 inline


# ---------------------------------------------------------------------------------------
# HTTP hygiene

def raw(server: LiveServer, data: bytes, wait: float = BOUND) -> tuple[bytes, float]:
    """Send raw bytes; what comes back first (b'' when closed without a word) and after how long."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.settimeout(wait)
        try:
            s.sendall(data)
            got = s.recv(200)
        except (BrokenPipeError, ConnectionResetError):
            got = b""
    return got, time.monotonic() - started


def test_oversized_request_heads(server: LiveServer) -> None:
    many = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(100_000)) + b"\r\n"
    assert raw(server, many)[0].startswith(b"HTTP/1.1 431")
    big = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (16 << 20) + b"\r\n\r\n"
    assert raw(server, big)[0].startswith(b"HTTP/1.1 431")
    url = b"GET /v1/stars?name=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert raw(server, url)[0].startswith(b"HTTP/1.1 414")


def test_slow_clients_are_cut_off(server: LiveServer) -> None:
    got, took = raw(server, b"")  # connects, says nothing
    assert got.startswith(b"HTTP/1.1 408") and took < BOUND
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port)) as s:  # headers dripped a line at a time
        s.settimeout(BOUND)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        with pytest.raises((BrokenPipeError, ConnectionResetError)):  # noqa: PT012 - the drip itself is the act
            for i in range(100):
                s.sendall(b"X-%d: y\r\n" % i)
                time.sleep(0.2)
    assert time.monotonic() - started < BOUND
    body = b"POST /v1/xmatch HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 1000\r\n\r\nname\n"
    got, took = raw(server, body)  # the body stalls
    assert took < BOUND and not got.startswith(b"HTTP/1.1 5")


def test_an_answer_sent_before_its_request_body_ended_closes_the_connection(server: LiveServer) -> None:
    """A GET route never reads a body: one dripped a byte at a time (each within the body
    timeout) must not hold the connection once answered (a thousand such held everyone out)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.settimeout(1.0)
        s.sendall(b"GET /health/ready HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\na")
        got = b""
        closed = False
        while not closed and time.monotonic() - started < BOUND:
            try:
                s.sendall(b"a")  # the drip, faster than the body timeout
                chunk = s.recv(65536)
            except (BrokenPipeError, ConnectionResetError):
                chunk = b""
            except TimeoutError:  # still open, nothing more said
                break
            closed = chunk == b""
            got += chunk
            time.sleep(0.5)
    assert got.startswith(b"HTTP/1.1 200") and closed
    assert time.monotonic() - started < BOUND


def _drip(server: LiveServer, head: bytes, piece: bytes, every: float) -> tuple[bytes, float]:
    """``head``, then ``piece`` every ``every`` seconds until the server answers or closes."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.settimeout(every)
        s.sendall(head)
        while time.monotonic() - started < 3 * BOUND:
            try:
                s.sendall(piece)
                return s.recv(200), time.monotonic() - started
            except (BrokenPipeError, ConnectionResetError):
                return b"", time.monotonic() - started
            except TimeoutError:
                continue
    raise AssertionError("the dripped body held its connection")


def test_a_body_dripped_within_the_body_timeout_is_cut_by_its_rate(server: LiveServer) -> None:
    """A byte every half second never trips the body timeout (2 s here), but a body must arrive
    at 500 bytes/s after its grace (3 s here): cut soon after, not at the upload deadline (120 s),
    as a thousand such connections held every other client out.  A slow but real upload (2 kB/s)
    is read and answered."""
    head = b"POST /v1/xmatch HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 1000\r\n\r\nname\n"
    got, took = _drip(server, head, b"S", 0.5)
    assert got == b"" and 3.0 <= took < 6.0, (got, took)
    rows = b"name\n" + b"".join(b"HIP %d\n" % (1000 + k) for k in range(1200))
    head = (b"POST /v1/xmatch?format=csv HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(rows))
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(head)
        for k in range(0, len(rows), 1000):  # 2,000 bytes a second, for ~5 s
            s.sendall(rows[k:k + 1000])
            time.sleep(0.5)
        s.settimeout(BOUND)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert time.monotonic() - started > 4.0 and answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert answer.count(b"HIP 1") >= 1000


def test_a_pipelined_request_whose_body_is_still_coming_is_not_cut(server: LiveServer) -> None:
    """The closing above is for the answered request's own body: a POST pipelined behind a GET,
    its body still arriving when the GET is answered, is read and answered too."""
    body = b"ra,dec\n101.2871553,-16.7161159\n"
    head = (b"GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /v1/xmatch?format=csv HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.settimeout(BOUND)
        s.sendall(head + body[:5])
        time.sleep(0.5)  # the GET is answered meanwhile
        s.sendall(body[5:])
        got = b""
        while chunk := s.recv(65536):
            got += chunk
    assert got.count(b"HTTP/1.1 200") == 2 and b"* alf CMa" in got


def test_html_security_headers(server: LiveServer) -> None:
    r = get(server, "/")
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "script-src 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
    assert get(server, "/static/app.js").headers["x-content-type-options"] == "nosniff"


def test_host_header_is_not_echoed(server: LiveServer) -> None:
    r = httpx.get(server.url + "/static", headers={"Host": "evil.example"}, timeout=10)
    assert r.status_code in (404, 200) and "evil.example" not in r.headers.get("location", "")


def test_content_negotiation_corner_cases(server: LiveServer) -> None:
    names = {"names": "Sirius|Vega|Altair"}
    r = get(server, "/v1/stars", params=names, headers={"Accept-Encoding": "br;q=0, gzip"})
    assert r.headers.get("content-encoding") == "gzip"
    r = get(server, "/v1/stars", params=names, headers={"Accept-Encoding": "*;q=0"})
    assert "content-encoding" not in r.headers
    assert get(server, "/v1/stars", params={"name": "Zork 999"}, headers={"If-None-Match": "*"}).status_code == 404


def test_health_shows_no_server_paths(server: LiveServer) -> None:
    text = get(server, "/health").text
    assert "/work" not in text and "/usr/" not in text and "/tmp" not in text
    sources = orjson.loads(text)["snapshot"]["sources"]
    assert all("sha256" in s and "path" not in s for s in sources.values())


def test_forwarded_for_is_not_trusted_by_default(server: LiveServer, logs: Captured) -> None:
    get(server, "/health", headers={"X-Forwarded-For": "6.6.6.6", "X-Request-ID": "xff-probe"})
    mine = [r for r in logs.records if getattr(r, "request_id", None) == "xff-probe"]
    assert mine and all(getattr(r, "client", None) == "127.0.0.1" for r in mine)


def test_log_lines_are_bounded(server: LiveServer, logs: Captured) -> None:
    from getstar.logs import JSONFormatter

    get(server, "/" + "p" * 60_000, headers={"X-Request-ID": "long-path"})
    [record] = [r for r in logs.records if getattr(r, "request_id", None) == "long-path"]
    assert len(JSONFormatter().format(record)) < 3_000


# ---------------------------------------------------------------------------------------
# Anything at all: hypothesis

HSET = hsettings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def acceptable(r: httpx.Response) -> bool:
    if r.status_code == 503:
        return "retry-after" in r.headers
    return r.status_code in OK_STATUSES


@HSET
@given(st.text(max_size=300))
def test_any_name(server: LiveServer, name: str) -> None:
    r = get(server, "/v1/stars", params={"name": name})
    assert acceptable(r), (r.status_code, r.text[:300])


@HSET
@given(st.lists(st.text(max_size=40), min_size=1, max_size=8))
def test_any_legacy_star_list(server: LiveServer, names: list[str]) -> None:
    r = get(server, "/sclwsGetStarProxy.php", params={"star": ",".join(names)})
    assert r.status_code in (200, 400, 500, 503), r.status_code  # 500 is GetStar's "has not been found"
    if r.status_code == 500:
        assert "has not been found" in r.text or "missing or invalid" in r.text


@HSET
@given(st.dictionaries(st.sampled_from(["ra", "dec", "radius", "epoch", "limit", "format"]),
                       st.one_of(st.text(max_size=30), st.floats().map(repr), st.integers().map(str))))
def test_any_cone(server: LiveServer, params: dict[str, str]) -> None:
    params.setdefault("ra", "10")
    params.setdefault("dec", "10")
    r = get(server, "/v1/stars", params=params)
    assert r.status_code in (200, 400, 404, 406), (r.status_code, params, r.text[:300])


JSON = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=30)


@HSET
@given(JSON)
def test_any_json_body(server: LiveServer, doc: Any) -> None:
    r = post(server, json.dumps(doc).encode(), "application/json")  # the standard library writes big integers too
    assert r.status_code in (200, 400, 413), (r.status_code, r.text[:300])


@HSET
@given(st.binary(max_size=2000), st.sampled_from(["text/csv", "text/tab-separated-values", "application/json",
                                                   "application/x-votable+xml", "text/xml", "image/png"]))
def test_any_bytes_body(server: LiveServer, body: bytes, kind: str) -> None:
    r = post(server, body, kind)
    assert r.status_code in (200, 400, 413, 415), (r.status_code, r.text[:300])


HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200).map(str.strip)


@HSET
@given(st.dictionaries(st.sampled_from(["Accept", "Accept-Encoding", "If-None-Match", "X-Request-ID", "Range",
                                        "Content-Type", "Cookie", "X-Forwarded-For"]), HEADER_TEXT, max_size=5))
def test_any_headers(server: LiveServer, headers: dict[str, str]) -> None:
    for path in ("/v1/stars?name=Sirius", "/sclwsGetStarProxy.php?star=Vega", "/scs?RA=10&DEC=10&SR=0.1", "/"):
        r = get(server, path, headers=headers)
        assert r.status_code in (200, 304, 400, 406, 415), (path, headers, r.status_code, r.text[:200])


# ---------------------------------------------------------------------------------------
# Afterwards

def test_zz_the_service_is_healthy_and_logged_no_traceback(server: LiveServer, logs: Captured) -> None:
    assert get(server, "/health/ready").json()["ready"] is True
    assert get(server, "/v1/stars", params={"name": "Sirius"}).status_code == 200
    assert logs.tracebacks() == []


def test_charsets_accepted_are_text_encodings() -> None:
    from getstar.xmatch.reader import CHARSETS

    assert all(codecs.lookup(c)._is_text_encoding for c in CHARSETS)  # type: ignore[attr-defined]


def test_getstars_not_found_page_is_not_counted_as_a_server_error(server: LiveServer) -> None:
    """The legacy path keeps GetStar's HTTP 500 page for unknown names (its clients expect it);
    /metrics says it is a not-found (status label ``500-not-found``; ``500-simbad-unavailable`` when
    SIMBAD could not be asked), so 5xx alerts do not fire on typos."""
    route = "/sclwsGetStarProxy.php"
    before = _requests_total(server, route, "500"), _requests_total(server, route, "500-not-found")
    r = httpx.get(server.url + route, params={"star": "Zork 4242"}, timeout=10)
    assert r.status_code == 500 and "has not been found" in r.text
    assert _requests_total(server, route, "500") == before[0]
    assert _requests_total(server, route, "500-not-found") == before[1] + 1


def _open(server: LiveServer, source: str, n: int) -> list[socket.socket]:
    held = [socket.create_connection(("127.0.0.1", server.port), source_address=(source, 0)) for _ in range(n)]
    time.sleep(0.3)  # accepted
    return held


def _ask(server: LiveServer, source: str, request: bytes) -> bytes:
    """``request`` from ``source`` (a loopback address), what comes back to the close (a refused
    connection is answered at once, before its request: read first, so the request sent to a
    closed socket does not reset the answer away)."""
    with socket.create_connection(("127.0.0.1", server.port), source_address=(source, 0)) as s:
        s.settimeout(0.3)
        try:
            answer = s.recv(65536)
        except TimeoutError:
            answer = b""
        s.settimeout(BOUND)
        if answer:
            while chunk := s.recv(65536):
                answer += chunk
            return answer
        s.sendall(request)
        while chunk := s.recv(65536):
            answer += chunk
    return answer


def test_a_few_addresses_cannot_hold_every_connection(snapshot_dsn: str, settings: Settings) -> None:
    """A worker of 16 connections here (1,000 by default): one address may open any number while
    the worker has half of them or fewer open; past half, an address holding its share (4 here;
    64 by default) is answered 503 with Retry-After at once, and others are served.  A full
    worker's 503 has a Retry-After too (uvicorn's had none).  Idle connections reopened as each
    times out no longer leave other clients nothing; a trusted proxy's are not counted."""
    ready = b"GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    # idle connections held open by the test, not closed by the header timeout meanwhile
    quiet = replace(settings, http_header_timeout=60.0, http_max_concurrency=16, http_max_connections_per_client=4)
    live = LiveServer(snapshot_dsn, quiet)
    live.start()
    held: list[socket.socket] = []
    try:
        held += _open(live, "127.0.0.1", 8)  # half the worker, from one address: all accepted
        got = _ask(live, "127.0.0.1", ready)
        assert got.startswith(b"HTTP/1.1 503") and b"\r\nretry-after: 5\r\n" in got, got
        assert _ask(live, "127.0.0.2", ready).startswith(b"HTTP/1.1 200")  # another address is served
        held.pop().close()
        held.pop().close()
        time.sleep(0.3)  # their counts given back: half the worker or less again
        assert _ask(live, "127.0.0.1", ready).startswith(b"HTTP/1.1 200")
        # WebSocket upgrade requests are answered as HTTP and closed, their counts given back (with
        # the websockets package installed, uvicorn took such a connection over and never did)
        upgrade = (b"GET /health/ready HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        for _ in range(10):
            answer = _ask(live, "127.0.0.3", upgrade)
            assert answer.startswith(b"HTTP/1.1 200") and b"101" not in answer.split(b"\r\n")[0]
        time.sleep(0.3)
        held += _open(live, "127.0.0.3", 4)  # its full share, the worker now busy (10 open)
        assert _ask(live, "127.0.0.3", ready).startswith(b"HTTP/1.1 503")
        # the worker full (16 open, by addresses within their shares): 503 with Retry-After
        held += _open(live, "127.0.0.4", 3) + _open(live, "127.0.0.5", 3)
        got = _ask(live, "127.0.0.6", ready)
        assert got.startswith(b"HTTP/1.1 503") and b"\r\nretry-after: 5\r\n" in got, got
    finally:
        for s in held:
            s.close()
        live.stop()
    proxied = LiveServer(snapshot_dsn, replace(quiet, trusted_proxies="10.0.0.0/8, 127.0.0.1"))
    proxied.start()
    try:
        held = _open(proxied, "127.0.0.1", 10)
        assert _ask(proxied, "127.0.0.1", ready).startswith(b"HTTP/1.1 200")
    finally:
        for s in held:
            s.close()
        proxied.stop()


def _binary(fields: str, raw: bytes, rows: int) -> bytes:
    stream = f'<BINARY><STREAM encoding="base64">{base64.b64encode(raw * rows).decode()}</STREAM></BINARY>'
    return votable(fields, stream)


def _doubles(n: int) -> bytes:
    return struct.pack(">i", n) + struct.pack(">d", 1.5) * n


@pytest.mark.parametrize("doc", [
    # fixed cells, by TABLE nrows or by the rows sent: bit[4088] x 32,000 took 1.3 GB to read
    votable('<FIELD name="b" datatype="bit" arraysize="4088"/>', "<TABLEDATA/>").replace(
        b"<TABLE>", b'<TABLE nrows="32000">'),
    _binary('<FIELD name="c" datatype="char" arraysize="4096"/>', b"a" * 4096, 4000),
    # variable cells, by the values sent: 100,000 double[*] cells of 30 values took 450 MB
    _binary('<FIELD name="d" datatype="double" arraysize="*"/>', _doubles(30), 100_000),
    votable('<FIELD name="n" datatype="char" arraysize="*"/><FIELD name="d" datatype="double" arraysize="*"/>',
            "<TABLEDATA>" + ("<TR><TD>HIP 1</TD><TD>" + " 1.5" * 30 + "</TD></TR>") * 100_000 + "</TABLEDATA>"),
    # astropy reads values separated by commas too: 16,000 such rows of 1,000 values took 946 MB
    votable('<FIELD name="d" datatype="double" arraysize="*"/>',
            "<TABLEDATA>" + ("<TR><TD>" + ",".join(["0"] * 1000) + "</TD></TR>") * 3000 + "</TABLEDATA>"),
    # PARAMs are read too: 3,800 of double[4096] took 249 MB
    votable('<PARAM name="p" datatype="double" arraysize="4096" value="1"/>' * 600 + NAME, "<TABLEDATA/>"),
    # commas alone are empty values to astropy: one cell of 31 MiB of them took 1.3 GB
    votable('<FIELD name="d" datatype="double" arraysize="*"/>', "<TABLEDATA><TR><TD>" + "," * 3_000_000
            + "</TD></TR></TABLEDATA>"),
    # astropy splits an array cell's whole text first: 31 MiB of ';' in a double[*] took 505 MB,
    # of ',' in a double[2] 759 MB
    votable('<FIELD name="d" datatype="double" arraysize="*"/>', "<TABLEDATA><TR><TD>" + ";" * 8_000_000
            + "</TD></TR></TABLEDATA>"),
    votable('<FIELD name="d" datatype="double" arraysize="2"/>', "<TABLEDATA><TR><TD>" + "," * 8_000_000
            + "</TD></TR></TABLEDATA>"),
    # a variable PARAM holds what its value holds (31 MiB of them: 466 MB)
    votable(f'<PARAM name="p" datatype="double" arraysize="*" value="{"," * 200_000}"/>' * 12 + NAME,
            "<TABLEDATA/>"),
])
def test_tables_that_would_take_too_much_memory_to_read_are_refused(doc: bytes) -> None:
    """The guard reckons what reading a table takes (``bench/upload_memory.py``): 413 before astropy."""
    from getstar.errors import PayloadTooLarge
    from getstar.xmatch.votable_guard import check_votable

    with pytest.raises(PayloadTooLarge, match="MB to read"):
        check_votable(doc, max_rows=100_000, max_cells=500_000)


@pytest.mark.parametrize("element", ["BINARY", "TABLEDATA"])
def test_the_largest_target_lists_are_read(element: str) -> None:
    """100,000 targets with a char[64] name and five doubles (position, proper motion, epoch):
    under the reckoned limit, as BINARY or TABLEDATA."""
    from getstar.xmatch.votable_guard import check_votable

    fields = '<FIELD name="name" datatype="char" arraysize="64"/>' + "".join(
        f'<FIELD name="{c}" datatype="double"/>' for c in ("ra", "dec", "pmra", "pmdec", "epoch"))
    if element == "BINARY":
        doc = _binary(fields, b"HIP 1".ljust(64) + struct.pack(">d", 1.5) * 5, 100_000)
    else:
        doc = votable(fields, "<TABLEDATA>" + ("<TR><TD>HIP 1</TD>" + "<TD>1.5</TD>" * 5 + "</TR>") * 100_000
                      + "</TABLEDATA>")
    check_votable(doc, max_rows=100_000, max_cells=600_000)


def test_blank_lines_between_requests_do_not_hold_a_connection(server: LiveServer) -> None:
    """After an answer, a kept-alive connection that sends only blank lines ('\\r\\n', skipped
    before a request line) is closed after the header timeout (2 s here): uvicorn stops its
    keep-alive timer at the first byte, and the connection was held for good."""
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.settimeout(BOUND)
        s.sendall(b"GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        s.settimeout(0.5)
        closed = False
        while not closed and time.monotonic() - started < BOUND:
            try:
                s.sendall(b"\r\n")
                said = s.recv(65536)  # the 408, or nothing: the connection is being closed
                closed = said == b"" or said.startswith(b"HTTP/1.1 408")
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = True
        assert closed and time.monotonic() - started < 2.0 + 1.5
