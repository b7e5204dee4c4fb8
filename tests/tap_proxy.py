"""A proxy in front of a real TAP server (DaCHS) that sees every request and can spoil some.

``TapProxy(upstream)`` forwards everything under its URL to ``upstream`` (a TAP base URL,
``…/tap``) and records each request: arrival time, path, the ADQL ``QUERY`` and whether a
table was uploaded (``Seen``).  ``faults`` maps the number of a ``/sync`` POST (1-based) to
what goes wrong with it instead of the real answer:

- ``"503"``: HTTP 503 with ``Retry-After: 1`` (SIMBAD busy);
- ``"drop"``: the answer's first bytes, then the connection is cut (a batch failing mid-way);
- ``"truncate"``: a 200 answer cut in the middle of the VOTable;
- ``"hold"``: the real answer, held until ``release`` is set (to kill a client mid-batch).
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import free_port


@dataclass
class Seen:
    at: float
    method: str
    path: str
    query: str | None = None
    uploads: list[str] = field(default_factory=list)
    upload_bytes: int = 0
    fault: str | None = None


def _form(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """(fields, files) of a urlencoded or multipart POST body."""
    if content_type.startswith("multipart/"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        fields: dict[str, str] = {}
        files: dict[str, bytes] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                files[str(name)] = payload
            else:
                fields[str(name)] = payload.decode()
        return fields, files
    return {k: v[0] for k, v in parse_qs(body.decode()).items()}, {}


class _Dropped(Response):
    def __init__(self, head: bytes) -> None:
        super().__init__()
        self.head = head

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/x-votable+xml"), (b"content-length", b"100000")]})
        await send({"type": "http.response.body", "body": self.head, "more_body": True})
        raise ConnectionResetError("proxy drops the connection mid-answer")


class TapProxy:
    def __init__(self, upstream: str) -> None:
        import uvicorn

        self.upstream = upstream.rstrip("/")
        self.seen: list[Seen] = []
        self.uploads: list[bytes] = []  # the uploaded table of each /sync POST, in order
        self.faults: dict[int, str] = {}
        self.release = threading.Event()
        self.holding = threading.Event()
        self.syncs = 0
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/tap"
        self.sync_url = self.base + "/sync"
        app = Starlette(routes=[Route("/tap/{path:path}", self._forward, methods=["GET", "POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="critical",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def sync_requests(self) -> list[Seen]:
        return [s for s in self.seen if s.path == "sync" and s.method == "POST"]

    async def _forward(self, request: Request) -> Response:
        path = request.path_params["path"]
        body = await request.body()
        seen = Seen(time.monotonic(), request.method, path)
        self.seen.append(seen)
        fault = None
        if path == "sync" and request.method == "POST":
            fields, files = _form(request.headers.get("content-type", ""), body)
            seen.query, seen.uploads = fields.get("QUERY"), sorted(files)
            seen.upload_bytes = sum(len(v) for v in files.values())
            self.uploads.append(b"".join(files.values()))
            self.syncs += 1
            fault = seen.fault = self.faults.get(self.syncs)
        if fault == "503":
            return Response("busy", status_code=503, headers={"Retry-After": "1"})
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "accept")}
        async with httpx.AsyncClient(timeout=300) as client:
            upstream = await client.request(request.method, f"{self.upstream}/{path}", content=body,
                                            headers=headers, params=dict(request.query_params))
        if fault == "drop":
            return _Dropped(upstream.content[: len(upstream.content) // 3])
        content = upstream.content
        if fault == "truncate":
            content = content[: len(content) // 2]
        if fault == "hold":
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return Response(content, status_code=upstream.status_code,
                        media_type=upstream.headers.get("content-type", "application/octet-stream"))

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("TAP proxy did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.release.set()
        self.server.should_exit = True
        self.thread.join(timeout=10)
