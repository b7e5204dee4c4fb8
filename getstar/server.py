"""How getstar serves HTTP: uvicorn, with every wait timed and every buffer bounded, never as root.

uvicorn's httptools protocol accepts any number and size of request headers and has no
timeout for reading them, the body, or for a client that stops reading the answer: a
slow-drip client holds its connection (and, mid-answer, a database connection) forever.
``GuardedHttpTools`` is uvicorn's own protocol with those bounds added (a subclass, so the
fast C parser stays): a request line and headers over ``max_url_bytes`` / ``max_header_bytes``
/ ``max_headers`` get 414/431 and the connection closed; headers not complete within
``header_timeout`` get 408; a body that stalls for ``body_timeout`` or arrives slower than
``body_min_rate`` bytes a second (after ``body_grace``), or an answer the client
stops reading for ``write_timeout`` closes the connection, and so does an answer sent before
its request's body ended (a GET route never reads one: a client dripping one byte of it now
and then, each within ``body_timeout``, would otherwise hold the connection as long as it
likes, and a thousand such held every other client out).  Idle keep-alive connections and
the number of concurrent connections are uvicorn's own settings (``uvicorn_options``).

``drop_privileges``: started by root (``deploy/dev.sh run`` as root), ``getstar serve``
prepares the embedded database as root (it runs PostgreSQL as ``postgres``), then serves as
``GETSTAR_RUN_AS`` (``nobody``).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import os
import pwd
import stat
import sys
import weakref
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from getstar.config import Settings
from getstar.errors import GetStarError
from getstar.metrics import observe_request
from getstar.offload import client_share

log = logging.getLogger("getstar.server")


@dataclass(frozen=True)
class HttpLimits:
    max_url_bytes: int = 64 * 1024
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
    header_timeout: float = 5.0
    body_timeout: float = 30.0
    #: a body arrives at this average rate (bytes/s) or faster, after ``body_grace`` seconds
    body_min_rate: float = 500.0
    body_grace: float = 10.0
    write_timeout: float = 60.0
    #: connections one client address (an IPv6 one: its /64) may have open to a worker that has
    #: over half its ``limit_concurrency`` open (0: any)
    max_connections_per_client: int = 64
    #: addresses never counted (``GETSTAR_TRUSTED_PROXIES``: every client comes through them)
    uncounted: tuple[str, ...] = ()

    @classmethod
    def of(cls, settings: Settings) -> HttpLimits:
        return cls(max_url_bytes=settings.http_max_url_bytes, max_header_bytes=settings.http_max_header_bytes,
                   max_headers=settings.http_max_headers, header_timeout=settings.http_header_timeout,
                   body_timeout=settings.http_body_timeout, body_min_rate=settings.http_body_min_rate,
                   body_grace=settings.http_body_grace, write_timeout=settings.http_write_timeout,
                   max_connections_per_client=settings.http_max_connections_per_client,
                   uncounted=tuple(p.strip() for p in settings.trusted_proxies.split(",") if p.strip()))

    def counts(self, address: str) -> bool:
        """Whether ``address``'s connections are counted against ``max_connections_per_client``."""
        return self.max_connections_per_client > 0 and not _among(address, self.uncounted)


@functools.lru_cache(maxsize=1024)
def _among(address: str, networks: tuple[str, ...]) -> bool:
    """``address`` is one of ``networks`` (addresses or CIDR networks; ``*``: every address)."""
    if "*" in networks:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address in networks
    for net in networks:
        try:
            if ip in ipaddress.ip_network(net, strict=False):
                return True
        except ValueError:
            continue
    return False


# Connections open to this worker by client (``client_share``), one count per event loop (tests
# run several servers in one process, each on its own loop).
_open_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, int]] = weakref.WeakKeyDictionary()


def _open_connections(loop: asyncio.AbstractEventLoop) -> dict[str, int]:
    counts = _open_by_loop.get(loop)
    if counts is None:
        counts = _open_by_loop[loop] = {}
    return counts


@functools.cache
def _limits_from_env() -> HttpLimits:
    return HttpLimits.of(Settings.from_env())  # each worker process reads the same environment


class HeadHoldingTransport:
    """The connection's transport, holding a response's status line and headers until its body.

    Why: uvicorn writes the head and the body of every answer separately, two ``send`` calls;
    on loopback and behind a local proxy each one delivers a segment and wakes the reader,
    and profiling the cold path put ~28 % of the worker's time in those two writes (the head's
    the larger part).  Held here, a head goes out with the body's first bytes in one write.
    Only heads with a ``content-length`` are held (a streamed answer's head goes at once, as
    does an interim ``1xx``); the protocol flushes a head whose body never comes (``HEAD``
    requests) when the response completes, and ``close`` flushes first.
    """

    __slots__ = ("_transport", "_head")

    #: Bodies up to this size are joined to the head (one copy); larger ones go by writelines.
    JOIN_MAX = 64 * 1024

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._head: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        head = self._head
        if head is not None:
            self._head = None
            if len(data) <= self.JOIN_MAX:
                self._transport.write(head + bytes(data))
            else:
                self._transport.writelines((head, data))
            return
        if data[:9] == b"HTTP/1.1 " and data[9:10] != b"1" and b"\r\ncontent-length: " in data \
                and data[-4:] == b"\r\n\r\n":
            self._head = bytes(data)
            return
        self._transport.write(data)

    def writelines(self, list_of_data: Any) -> None:
        self.write(b"".join(list_of_data))

    def flush(self) -> None:
        head, self._head = self._head, None
        if head is not None:
            self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # everything else is the transport's own
        return getattr(self._transport, name)


class GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with size limits on the request head and three timeouts."""

    #: None: the environment's (``GETSTAR_HTTP_*``), read in each worker process; a subclass made
    #: by ``uvicorn_options`` for other limits (a test server) carries its own.
    limits: ClassVar[HttpLimits | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = type(self).limits or _limits_from_env()
        self._timer: asyncio.TimerHandle | None = None
        self._write_timer: asyncio.TimerHandle | None = None
        self._refused = False
        #: between the request's headers and the end of its body
        self._in_body = False
        #: when the body's rate is counted from, and its bytes since (``_arm_body``)
        self._body_start = 0.0
        self._body_bytes = 0
        #: the client this connection is counted against (``max_connections_per_client``)
        self._counted: str | None = None
        self._url_bytes = self._header_bytes = self._header_count = 0

    # -- timers -----------------------------------------------------------------------------
    def _arm(self, seconds: float, status: int | None, reason: str) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._expire, status, reason)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self, status: int | None, reason: str) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if status is None and self.flow is not None and self.flow.read_paused:
            # we stopped reading (the application has not asked for more of the body yet, e.g. a
            # batch waiting for its turn): that is not the client stalling, nor slow (its rate
            # is counted again from now)
            self._start_body()
            return
        log.info("closing a connection: %s", reason, extra={"client": (self.client or ("", 0))[0]})
        if status is not None:
            self._refuse(status, reason)
        else:
            self.transport.close()  # the application sees the client gone (http.disconnect)

    def _start_body(self) -> None:
        self._body_start = self.loop.time()
        self._body_bytes = 0
        self._arm_body()

    def _arm_body(self) -> None:
        """The body's timer: it stalls (nothing for ``body_timeout``) or arrives too slowly.

        Why a rate: a client dripping a byte now and then, each within ``body_timeout``, held its
        connection up to the upload deadline (120 s), and a thousand such connections were every
        connection the worker takes (``limit_concurrency``): everyone else got 503.  As Apache's
        mod_reqtimeout (``body=…,MinRate=500``), the body may take ``body_grace`` seconds plus a
        second for each ``body_min_rate`` bytes received: a 1,000-byte body, 12 s.
        """
        limits = self._limits
        wait = limits.body_timeout
        if limits.body_min_rate > 0:
            due = self._body_start + limits.body_grace + self._body_bytes / limits.body_min_rate
            wait = min(wait, max(0.0, due - self.loop.time()))
        self._arm(wait, None, "the request body stalled or arrived too slowly")

    def _refuse(self, status: int, reason: str) -> None:
        """Answer before the application sees anything, and close."""
        self._refused = True
        self._disarm()
        observe_request("", status, 0.0)
        body = (reason + "\n").encode()
        retry = "retry-after: 5\r\n" if status == 503 else ""
        head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n"
                f"content-length: {len(body)}\r\n{retry}connection: close\r\n\r\n").encode()
        if not self.transport.is_closing():
            self.transport.write(head + body)
            self.transport.close()

    # -- protocol ---------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(HeadHoldingTransport(transport))  # type: ignore[arg-type]
        self._arm(self._limits.header_timeout, 408, "the request headers did not arrive in time")
        self._count_connection()

    def _count_connection(self) -> None:
        """Count the connection against its client's share; past the share while the worker is
        busy (over half its ``limit_concurrency`` open), refuse it (503).

        Why: a worker serves ``limit_concurrency`` connections; a few addresses holding them all
        (idle connections reopened as each times out, or bodies sent just fast enough) left
        every other client a 503.  Below half, one client may open as many as it likes (a load
        test, a portal's pool).  Behind a proxy every client has the proxy's address: those
        (``GETSTAR_TRUSTED_PROXIES``) are not counted.
        """
        limits = self._limits
        address = (self.client or ("", 0))[0]
        if not address or not limits.counts(address):
            return
        client = client_share(address)
        counts = _open_connections(self.loop)
        busy = self.limit_concurrency is None or len(self.connections) > self.limit_concurrency // 2
        if busy and counts.get(client, 0) >= limits.max_connections_per_client:
            self._refuse(503, f"the server is busy and your address has {counts[client]} connections open to it "
                              "already: use fewer, or keep-alive")
            return
        counts[client] = counts.get(client, 0) + 1
        self._counted = client

    def connection_lost(self, exc: Exception | None) -> None:
        if self._counted is not None:
            counts = _open_connections(self.loop)
            left = counts.pop(self._counted, 1) - 1
            if left > 0:
                counts[self._counted] = left
            self._counted = None
        self._disarm()
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._timer is None and not self._in_body and (self.cycle is None or self.cycle.response_complete):
            # bytes between requests on a kept-alive connection: uvicorn stops its keep-alive
            # timer at the first byte, and blank lines ('\r\n') never begin a request, so one
            # every few seconds, or once, held the connection for good: they must make a
            # request's headers in time like any
            self._arm(self._limits.header_timeout, 408, "the request headers did not arrive in time")
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._url_bytes = self._header_bytes = self._header_count = 0
        self._arm(self._limits.header_timeout, 408, "the request headers did not arrive in time")

    def on_url(self, url: bytes) -> None:
        if self._refused:
            return
        self._url_bytes += len(url)
        if self._url_bytes > self._limits.max_url_bytes:
            self._refuse(414, f"the request URL is longer than {self._limits.max_url_bytes} bytes")
            return
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._refused:
            return
        self._header_count += 1
        self._header_bytes += len(name) + len(value) + 4
        if self._header_count > self._limits.max_headers:
            self._refuse(431, f"more than {self._limits.max_headers} request headers")
            return
        if self._header_bytes > self._limits.max_header_bytes:
            self._refuse(431, f"the request headers are larger than {self._limits.max_header_bytes} bytes")
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        limit = self.limit_concurrency
        if limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit):
            # uvicorn's own answer here (its limit_concurrency) is a 503 without Retry-After
            self._refuse(503, f"the server has its {limit} connections open: try again shortly")
            return
        self._in_body = True
        self._start_body()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self._refused:
            return
        self._body_bytes += len(body)
        self._arm_body()
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        self._in_body = False
        self._disarm()
        super().on_message_complete()

    def _unsupported_upgrade_warning(self) -> None:
        """An ``Upgrade`` request (the service speaks no WebSocket): answered as plain HTTP, then
        the connection is closed (``on_response_complete``: the parser reads nothing after it).
        uvicorn logged two warnings a request, one telling to install a WebSocket library."""
        log.debug("an upgrade request, answered as HTTP", extra={"client": (self.client or ("", 0))[0]})

    def on_response_complete(self) -> None:
        if isinstance(self.transport, HeadHoldingTransport):
            self.transport.flush()  # a head whose body never came (HEAD): it goes now
        if self.parser.should_upgrade() and not self.transport.is_closing():
            super().on_response_complete()
            self._disarm()
            self.transport.close()  # after what is written: the answer goes out whole
            return
        # the body still coming is the answered request's own, not a pipelined next one's
        unread = self._in_body and not self.pipeline
        super().on_response_complete()
        if unread and not self.transport.is_closing():
            # answered, the request's body still coming: nothing will read it (the module's docstring)
            log.info("closing a connection: answered before its request body ended",
                     extra={"client": (self.client or ("", 0))[0]})
            self._disarm()
            self.transport.close()  # after what is written: the answer goes out whole

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_timer is None:
            self._write_timer = self.loop.call_later(self._limits.write_timeout, self._expire_write)

    def resume_writing(self) -> None:
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None
        super().resume_writing()

    def _expire_write(self) -> None:
        self._write_timer = None
        if not self.transport.is_closing():
            log.info("closing a connection: the client stopped reading the answer")
            # abort, not close: close waits for the write buffer to drain, which a client that
            # stopped reading never lets happen (the connection and its buffer would stay)
            self.transport.abort()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn settings from getstar's: the guarded protocol, keep-alive, concurrency, proxies."""
    limits = HttpLimits.of(settings)
    protocol: type[GuardedHttpTools] = GuardedHttpTools  # importable: worker processes can unpickle it
    if limits != _limits_from_env():
        protocol = type("GuardedHttpTools", (GuardedHttpTools,), {"limits": limits})
    proxies = settings.trusted_proxies
    return {
        "http": protocol,
        # no WebSocket: an upgrade request is answered as plain HTTP (``GuardedHttpTools``); with
        # ``websockets`` installed, uvicorn handed the connection to a protocol of its own, with
        # none of these bounds, whose closing never gave the address's count back
        "ws": "none",
        "timeout_keep_alive": settings.http_keepalive_timeout,
        "limit_concurrency": settings.http_max_concurrency or None,
        # X-Forwarded-For / -Proto are believed only from the configured proxies (none by default:
        # the logged client address is then the peer's, which no header can change)
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
        "server_header": False,
    }


class PrivilegeError(GetStarError):
    """``getstar serve`` was started by root and cannot become an unprivileged user."""


def drop_privileges(user: str) -> None:
    """Started by root: become ``user`` for good (groups, gid, uid), or refuse to serve."""
    if os.geteuid() != 0:
        return
    if not user or user == "root":
        raise PrivilegeError("the service never runs as root: set GETSTAR_RUN_AS to an unprivileged user")
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise PrivilegeError(f"GETSTAR_RUN_AS={user!r}: no such user") from None
    if pw.pw_uid == 0:
        raise PrivilegeError(f"GETSTAR_RUN_AS={user!r} is root")
    unreadable = [p for p in _code_paths() if not _world_readable(p)]
    if unreadable:
        raise PrivilegeError(
            f"started by root, the service runs as {user!r}, who cannot read {unreadable[0]}: install getstar "
            "with a Python outside root's home (deploy/dev.sh uses /usr/bin/python3), or start it as a user")
    os.setgroups([])
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)
    if os.getuid() == 0 or os.geteuid() == 0:  # pragma: no cover - setuid cannot fail silently, but be sure
        raise PrivilegeError("could not drop root privileges")
    os.environ["HOME"] = pw.pw_dir
    os.environ["USER"] = os.environ["LOGNAME"] = user
    log.info("serving as %s (uid %d)", user, pw.pw_uid)


def _code_paths() -> list[Path]:
    """What the serving process reads after the drop: the interpreter, the standard library, getstar."""
    import getstar

    paths = {Path(os.path.realpath(sys.executable)), Path(os.path.realpath(os.__file__)),
             Path(os.path.realpath(getstar.__file__)), Path(os.path.realpath(asyncio.__file__))}
    return sorted(paths)


def _world_readable(path: Path) -> bool:
    """Whether anyone may read ``path``: every parent directory searchable by others."""
    try:
        if not path.stat().st_mode & stat.S_IROTH:
            return False
        return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)
    except OSError:
        return False
