"""The answer's head goes out with its body, in one write (``getstar.server.HeadHoldingTransport``):
the wrapper on its own, then HTTP framing through the real server (HEAD, 304, 100-continue,
pipelining, streamed answers, keep-alive)."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from getstar.config import Settings
from getstar.server import HeadHoldingTransport
from tests.conftest import LiveServer


class Recorder:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        self.writes.append(b"".join(chunks))

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n"


def test_a_head_goes_out_with_its_body() -> None:
    rec = Recorder()
    t = HeadHoldingTransport(rec)  # type: ignore[arg-type]
    t.write(HEAD)
    assert rec.writes == []
    t.write(b"{}")
    assert rec.writes == [HEAD + b"{}"]
    big = b"x" * (HeadHoldingTransport.JOIN_MAX + 1)
    t.write(HEAD)
    t.write(big)
    assert rec.writes[-1] == HEAD + big and len(rec.writes) == 2
    assert t.get_extra_info("peername") == "info:peername"  # the rest is the transport's


@pytest.mark.parametrize("head", [
    b"HTTP/1.1 100 Continue\r\n\r\n",  # interim: the client waits for it before sending the body
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",  # streamed: the head goes at once
    b"1a\r\n" + b"x" * 26 + b"\r\n",  # a chunk is no head
])
def test_what_is_not_held(head: bytes) -> None:
    rec = Recorder()
    HeadHoldingTransport(rec).write(head)  # type: ignore[arg-type]
    assert rec.writes == [head]


def test_a_held_head_is_flushed_and_close_flushes_first() -> None:
    rec = Recorder()
    t = HeadHoldingTransport(rec)  # type: ignore[arg-type]
    t.write(HEAD)
    t.flush()
    t.flush()
    assert rec.writes == [HEAD]
    t.write(HEAD)
    t.close()
    assert rec.writes == [HEAD, HEAD] and rec.closed


@pytest.fixture(scope="module")
def server(snapshot_dsn: str, settings: Settings) -> Iterator[LiveServer]:
    live = LiveServer(snapshot_dsn, settings)
    live.start()
    yield live
    live.stop()


def _conn(server: LiveServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)


def test_keep_alive_framing_get_head_304_and_get_again(server: LiveServer) -> None:
    c = _conn(server)
    c.request("GET", "/v1/stars?name=Sirius")
    first = c.getresponse()
    body = first.read()
    assert first.status == 200 and body.startswith(b"{") and len(body) == int(first.headers["content-length"])
    c.request("HEAD", "/v1/stars?name=Sirius")
    head = c.getresponse()
    assert head.status == 200 and head.read() == b"" and head.headers["content-length"] == str(len(body))
    c.request("GET", "/v1/stars?name=Sirius", headers={"If-None-Match": first.headers["etag"]})
    same = c.getresponse()
    assert same.status == 304 and same.read() == b""
    c.request("GET", "/v1/stars?name=Vega")
    vega = c.getresponse()
    assert vega.status == 200 and b"Vega" in vega.read()
    c.close()


def test_pipelined_requests_are_answered_in_order(server: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /v1/stars?name=Sirius HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"HEAD /v1/stars?name=Vega HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        got = b""
        while chunk := s.recv(1 << 16):
            got += chunk
    assert got.count(b"HTTP/1.1 200") == 3
    assert got.index(b"Sirius") < got.rindex(b"HTTP/1.1 200")  # the last answer comes last


def test_expect_100_continue_and_a_streamed_answer(server: LiveServer) -> None:
    body = b"ra,dec\n101.2875,-16.7161\n279.2347,38.7837\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"POST /v1/xmatch HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nExpect: 100-continue\r\n"
                  b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body))
        assert s.recv(1 << 16).startswith(b"HTTP/1.1 100 Continue")  # not held back: the client waits for it
        s.sendall(body)
        got = b""
        while chunk := s.recv(1 << 16):
            got += chunk
    assert got.startswith(b"HTTP/1.1 200") and b"alf CMa" in got


def test_a_client_that_stops_reading_is_cut_off(snapshot_dsn: str, settings: Settings) -> None:
    """Past the write timeout the connection is aborted: closing it would wait for a write
    buffer the client never drains (the connection, its buffer and a worker's fd kept for good;
    the client could even read the whole answer later)."""
    import time
    from dataclasses import replace

    live = LiveServer(snapshot_dsn, replace(settings, http_write_timeout=1.0))
    live.start()
    try:
        names = "|".join(f"HD%20{i}" for i in range(1, 2001))  # megabytes: more than the socket buffers hold
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", live.port))
        s.sendall(f"GET /v1/stars?names={names} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(4)  # the answer is written, the client reads nothing: the write timeout passes
        s.settimeout(5)
        got = b""
        try:
            while chunk := s.recv(1 << 16):
                got += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        s.close()
        head, _, body = got.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        assert 0 < len(body) < length  # cut off, not delivered whole once the client came back
    finally:
        live.stop()
