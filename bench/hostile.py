"""Hostile traffic against `getstar serve` (one worker), and what it does to everyone else.

1. The probe classes of the hostile-input issue, each sent for real: stream references, a
   million-row BINARY body, a huge arraysize, odd charsets, deep JSON, abandoned uploads,
   expensive unknown names (alone, three in a request, ten at once), the legacy path's long
   names, 2,000-name answers with cache-busting parameters, header floods, slow clients.
   Printed per class: statuses seen and the slowest answer (target: no 5xx but documented
   503s, nothing over 10 s).
2. A bounded load test (20 s): wrk asks known names (real identifiers, cache warm after the
   first pass) over 16 connections, first alone, then while a second client keeps sending
   unknown and slow names, cache-busted big answers and xmatch uploads.  Printed: known-name
   requests/s, p50, p99 in both runs (target: p99 < 20 ms under the hostile mix).
3. The service's resident memory before, after, and its peak (target: < 250 MB per worker).

GETSTAR_BENCH_DSN reuses a loaded snapshot (else a throw-away cluster gets the default one).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._cluster import free_port, throwaway_cluster  # noqa: E402
from bench.resolve import sample_paths, wrk  # noqa: E402


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def serve(dsn: str, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, GETSTAR_DATABASE_URL=dsn, GETSTAR_SIMBAD_ENABLED="0", GETSTAR_ACCESS_LOG="off")
    env.pop("GETSTAR_REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "getstar.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "getstar serve died")
        time.sleep(0.2)
    raise RuntimeError("getstar serve did not become ready")


def votable(fields: str, data: str) -> bytes:
    return (f'<?xml version="1.0"?><VOTABLE version="1.4"><RESOURCE><TABLE>{fields}<DATA>{data}</DATA>'
            "</TABLE></RESOURCE></VOTABLE>").encode()


def raw(port: int, data: bytes, wait: float = 15.0) -> int:
    """Raw bytes in; the status line's code (0 when closed without a word; -1: we hung up at once)."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(wait)
        try:
            s.sendall(data)
            if wait <= 0:
                return -1
            head = s.recv(64)
        except OSError:
            return 0
    m = re.match(rb"HTTP/1.1 (\d{3})", head)
    return int(m.group(1)) if m else 0


async def probes(base: str, port: int) -> dict[str, list[tuple[int, float]]]:
    seen: dict[str, list[tuple[int, float]]] = defaultdict(list)
    vot = {"Content-Type": "application/x-votable+xml"}
    name_field = '<FIELD name="name" datatype="char" arraysize="64"/>'
    million = base64.b64encode(b"\x00\x00" * 1_000_000).decode()

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        async def one(label: str, method: str, path: str, **kw: object) -> None:
            started = time.monotonic()
            r = await client.request(method, path, **kw)  # type: ignore[arg-type]
            seen[label].append((r.status_code, time.monotonic() - started))

        for href in ("file:///etc/passwd", "file:///dev/zero", "http://127.0.0.1:1/"):
            await one("STREAM href", "POST", "/v1/xmatch", headers=vot,
                      content=votable(name_field, f'<BINARY><STREAM href="{href}"/></BINARY>'))
        await one("1M-row BINARY", "POST", "/v1/xmatch", headers=vot, content=votable(
            '<FIELD name="ra" datatype="short"/>', f'<BINARY><STREAM encoding="base64">{million}</STREAM></BINARY>'))
        await one("arraysize 1e8", "POST", "/v1/xmatch", headers=vot,
                  content=votable('<FIELD name="n" datatype="char" arraysize="100000000"/>', "<TABLEDATA/>"))
        for charset in ("rot13", "uu_codec", "zlib_codec", "hex", "base64", "bz2", "punycode"):
            await one("charset", "POST", "/v1/xmatch", headers={"Content-Type": f"text/csv; charset={charset}"},
                      content=b"name\nSirius\n")
        await one("JSON 300 deep", "POST", "/v1/xmatch", headers={"Content-Type": "application/json"},
                  content=b'[{"name": "Vega", "x": ' + b"[" * 300 + b"]" * 300 + b"}]")
        await one("Content-Encoding gzip", "POST", "/v1/xmatch",
                  headers={"Content-Type": "text/csv", "Content-Encoding": "gzip"}, content=b"name\nVega\n")
        await one("Gaia DR3 55", "GET", "/v1/stars", params={"name": "Gaia DR3 55"})
        await one("3 slow names", "GET", "/v1/stars", params={"names": "Gaia DR3 551|Gaia DR3 552|Gaia DR3 553"})
        await one("Gaia DR3 x15", "GET", "/v1/stars", params={"name": "Gaia DR3 " * 15})
        await asyncio.gather(*(one("10 slow names at once", "GET", "/v1/stars", params={"name": f"Gaia DR3 5{i}7"})
                               for i in range(10)),
                             one("known name meanwhile", "GET", "/v1/stars", params={"name": "alpha Lyrae"}),
                             one("readiness meanwhile", "GET", "/health/ready"))
        for n in (1000, 3000):
            await one("legacy HD x N", "GET", "/sclwsGetStarProxy.php", params={"star": "HD" * n})
        names = "|".join(f"HIP {n}" for n in range(1, 2001))
        for i in range(10):
            await one("2,000 names, busted", "GET", "/v1/stars", params={"names": names, "x": str(i)})
        await one("If-None-Match *", "GET", "/v1/stars", params={"name": "Zork 1"}, headers={"If-None-Match": "*"})

    loop = asyncio.get_running_loop()

    def timed_raw(label: str, data: bytes, wait: float = 15.0) -> None:
        started = time.monotonic()
        seen[label].append((raw(port, data, wait), time.monotonic() - started))

    head = b"GET /health HTTP/1.1\r\nHost: x\r\n"
    await asyncio.gather(
        loop.run_in_executor(None, timed_raw, "100,000 headers",
                             head + b"".join(b"X-%d: y\r\n" % i for i in range(100_000)) + b"\r\n"),
        loop.run_in_executor(None, timed_raw, "16 MiB header", head + b"X-Big: " + b"a" * (16 << 20) + b"\r\n\r\n"),
        loop.run_in_executor(None, timed_raw, "silent connection", b""),
        *(loop.run_in_executor(None, timed_raw, "abandoned upload x40",
                               b"POST /v1/xmatch HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
                               b"Content-Length: 100000\r\n\r\nname\n", 0) for _ in range(40)),
    )
    return seen


def hostile_mix(base: str, stop: threading.Event) -> None:
    """Unknown and slow names, big busted answers and uploads, until ``stop``.  Answers are read
    as sent and dropped (not decompressed: that would be the client's CPU, taken from the same
    two cores as the service's)."""
    async def run() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            async def send(method: str, url: str, **kwargs: object) -> None:
                async with client.stream(method, url, **kwargs) as response:  # type: ignore[arg-type]
                    async for _ in response.aiter_raw():
                        pass

            i = 0
            while not stop.is_set():
                i += 1
                await asyncio.gather(
                    send("GET", "/v1/stars", params={"name": f"Gaia DR3 5{i}"}),
                    send("GET", "/v1/stars", params={"name": f"Zork {i}"}),
                    send("GET", "/v1/stars", params={"names": "|".join(f"HIP {n}" for n in range(1, 300)),
                                                     "x": str(i)}),
                    send("POST", "/v1/xmatch", headers={"Content-Type": "text/csv"},
                         content=("name\n" + "\n".join(f"HD {n}" for n in range(1, 2000))).encode()),
                    return_exceptions=True)

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    opts = parser.parse_args()
    with ExitStack() as stack:
        dsn = os.environ.get("GETSTAR_BENCH_DSN")
        if not dsn:
            cluster = stack.enter_context(throwaway_cluster())
            dsn = cluster.dsn
            env = dict(os.environ, GETSTAR_HOME=str(cluster.home), GETSTAR_EMBEDDED_PORT=str(cluster.port))
            env.pop("GETSTAR_DATABASE_URL", None)
            print("loading the default snapshot ...", flush=True)
            subprocess.run([sys.executable, "-m", "getstar.cli", "ingest", "build"], env=env, check=True,
                           stdout=subprocess.DEVNULL)
        port = free_port()
        proc = serve(dsn, port)
        stack.callback(proc.wait, 10)
        stack.callback(proc.terminate)
        base = f"http://127.0.0.1:{port}"
        start_rss = rss_mb(proc.pid)[0]

        seen = asyncio.run(probes(base, port))
        print(f"{'probe class':26s} {'statuses':28s} slowest")
        for label, results in seen.items():
            statuses = ", ".join(f"{s}x{n}" for s, n in sorted(
                {s: sum(1 for x, _ in results if x == s) for s, _ in results}.items()))
            print(f"{label:26s} {statuses:28s} {max(t for _, t in results):6.2f} s")
        after_probes = rss_mb(proc.pid)[0]

        paths = [p for p in asyncio.run(sample_paths(dsn, 2000)) if "name=" in p]
        paths_file = stack.enter_context(tempfile.NamedTemporaryFile("w", suffix=".txt"))
        paths_file.write("\n".join(paths) + "\n")
        paths_file.flush()
        wrk(port, paths_file.name, 3, opts.connections)  # one pass: the known names are cached
        alone = wrk(port, paths_file.name, opts.seconds, opts.connections)
        stop = threading.Event()
        mixer = threading.Thread(target=hostile_mix, args=(base, stop))
        mixer.start()
        try:
            mixed = wrk(port, paths_file.name, opts.seconds, opts.connections)
        finally:
            stop.set()
            mixer.join()
        now, peak = rss_mb(proc.pid)
    print(f"\nknown names ({len(paths)} identifiers, cache warm), {opts.connections} connections, {opts.seconds} s, "
          "1 worker:")
    for label, r in (("alone", alone), ("with the hostile mix", mixed)):
        print(f"  {label:22s} {r['rps']:8.0f} req/s   p50 {r['p50']:6.2f} ms   p99 {r['p99']:6.2f} ms   "
              f"non-2xx {r['non2xx']:.0f}")
    print(f"service RSS: {start_rss:.0f} MB at start, {after_probes:.0f} MB after the probes, {now:.0f} MB after "
          f"the load, peak {peak:.0f} MB")
    print("targets: no 5xx but documented 503s, nothing over 10 s; known-name p99 < 20 ms under the mix; "
          "RSS < 250 MB per worker")


if __name__ == "__main__":
    main()
