"""One timed GET: DNS, connect, TLS, time to first byte, total, on a socket we own.

Timings come from `time.perf_counter` around each step (getaddrinfo, connect, TLS
handshake, request until the status line and headers are read, body drained), the same
phases a browser's Resource Timing reports. A pinned address (`--resolve HOST=ADDR`, like
curl's) skips DNS and records it as 0.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from image_ops.probe.urls import refuse_url

DEADLINE_REACHED = "probe deadline reached"
MAX_BODY = 32 * 1024 * 1024  # images are capped at 10 MB upstream; stop reading beyond this
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Sample:
    """One request as measured; times in milliseconds, None when the step did not happen."""

    url: str
    origin: str  # "cdn" or "s3": which URL the resolver handed out
    user: str
    status: int  # 0: no HTTP answer (error says why)
    dns_ms: float | None
    connect_ms: float | None
    tls_ms: float | None
    ttfb_ms: float | None
    total_ms: float
    bytes: int
    x_cache: str
    pop: str
    error: str = ""


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


def refused(url: str, *, origin: str, user: str, why: str) -> Sample:
    """A sample for a URL that was not loaded at all (status 0, nothing timed)."""
    return Sample(url, origin, user, 0, None, None, None, None, 0.0, 0, "", "", why)


def _host_header(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


def fetch(
    url: str,
    *,
    origin: str,
    user: str,
    pinned: Mapping[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
    timeout: float = 10.0,
    deadline: float | None = None,
) -> Sample:
    """GET `url` once on a fresh connection (what a first visit costs); never raises for
    network trouble: the sample carries the error instead. `timeout` bounds each socket
    step; `deadline` (time.monotonic()) bounds the whole body read too (a slow drip). Only
    http(s) URLs without credentials are loaded (anything else is a refused sample);
    which hosts, is the caller's UrlPolicy."""
    why = refuse_url(url, None, origin)
    if why is not None:
        return refused(url, origin=origin, user=user, why=why)
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme.lower() == "https"
    port = parts.port or (443 if https else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    t: dict[str, float | None] = {"dns": None, "connect": None, "tls": None, "ttfb": None}
    start = time.perf_counter()

    def failed(error: str) -> Sample:
        return Sample(
            url,
            origin,
            user,
            0,
            t["dns"],
            t["connect"],
            t["tls"],
            None,
            _ms(start),
            0,
            "",
            "",
            error,
        )

    try:
        step = time.perf_counter()
        if pinned and host in pinned:
            address: tuple[str, int] = (pinned[host], port)
            t["dns"] = 0.0
        else:
            info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            address = (str(info[0][4][0]), int(info[0][4][1]))
            t["dns"] = _ms(step)
        step = time.perf_counter()
        sock = socket.create_connection(address, timeout=timeout)
        t["connect"] = _ms(step)
        if https:
            step = time.perf_counter()
            sock = (tls or ssl.create_default_context()).wrap_socket(sock, server_hostname=host)
            t["tls"] = _ms(step)
    except (OSError, ssl.SSLError) as exc:
        return failed(f"{type(exc).__name__}: {exc}"[:200])
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    conn.sock = sock  # already connected (and TLS-wrapped): http.client skips connect()
    try:
        step = time.perf_counter()
        headers = {"Host": _host_header(host, parts.port), "Accept": "image/*"}
        conn.request("GET", target, headers=headers)
        resp = conn.getresponse()
        t["ttfb"] = _ms(step)
        size = 0
        while size <= MAX_BODY and (chunk := resp.read(CHUNK)):
            size += len(chunk)
            if deadline is not None and time.monotonic() >= deadline:
                return failed(f"{DEADLINE_REACHED} after {size} bytes")
        return Sample(
            url,
            origin,
            user,
            resp.status,
            t["dns"],
            t["connect"],
            t["tls"],
            t["ttfb"],
            _ms(start),
            size,
            resp.getheader("X-Cache", ""),
            resp.getheader("X-Amz-Cf-Pop", ""),
        )
    except (OSError, http.client.HTTPException) as exc:
        return failed(f"{type(exc).__name__}: {exc}"[:200])
    finally:
        conn.close()
