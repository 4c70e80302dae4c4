"""One timed GET: DNS, connect, TLS, time to first byte, total, on a socket we own.

Timings come from `time.perf_counter` around each step (getaddrinfo, connect, TLS
handshake, request until the status line and headers are read, body drained), the same
phases a browser's Resource Timing reports. Where the address comes from is recorded per
sample (`resolved_by`): a pinned address (`--resolve HOST=ADDR`, like curl's) and the
loopback of a `localhost` name (`is_localhost_name`) skip DNS and record it as 0; anything
else is getaddrinfo's first answer.

A failed load names its `cause` (`CAUSES`): the step that failed, or `status` for an HTTP
4xx/5xx answer, so a report can say why loads failed, not only that they did.
"""

from __future__ import annotations

import http.client
import ipaddress
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
# Why a load failed, in the order a load meets them. "http": connected, but no valid HTTP
# answer (closed, reset, malformed); "status": an HTTP 4xx/5xx answer; "refused-url": the
# URL was not loaded at all (urls.UrlPolicy). A load cut by the run's deadline is "deadline";
# sampling drops those, so a report never counts them.
CAUSES = ("dns", "connect", "tls", "timeout", "http", "status", "refused-url")
DEADLINE_CAUSE = "deadline"
# Where the address came from (Sample.resolved_by); only "dns" takes time.
RESOLVED_BY = ("dns", "pinned", "localhost")
# A localhost name's addresses, in order. IPv4 first: local servers (the demo's edge among
# them) listen on 127.0.0.1, and /etc/hosts often maps only that; ::1 is tried when
# connecting to 127.0.0.1 fails other than by a timeout (a server on IPv6 only), so the
# connect time then includes the refused attempt. Browsers race both; one probe need not.
LOOPBACK = ("127.0.0.1", "::1")


def is_localhost_name(host: str) -> bool:
    """True for `localhost` and any `*.localhost` name (any case, one trailing dot allowed).

    RFC 6761 section 6.3 reserves these names for loopback and lets applications resolve
    them to it without asking DNS, as browsers do: the local demo's CDN is `cdn.localhost`,
    which a browser loads from 127.0.0.1 but getaddrinfo often cannot resolve. Only the
    last label counts, so `localhost.example.com` and `evil-localhost` are ordinary names.
    """
    name = host.lower().removesuffix(".")
    labels = name.split(".")
    return labels[-1] == "localhost" and all(labels)


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
    cause: str = ""  # "" when it succeeded, else one of CAUSES (or DEADLINE_CAUSE)
    resolved_by: str = ""  # one of RESOLVED_BY; "" when no address was sought (refused)
    address: str = ""  # the address connected to; when none answered, those tried


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


def refused(url: str, *, origin: str, user: str, why: str) -> Sample:
    """A sample for a URL that was not loaded at all (status 0, nothing timed)."""
    return Sample(
        url, origin, user, 0, None, None, None, None, 0.0, 0, "", "", why, cause="refused-url"
    )


def _without_dns(host: str, pinned: Mapping[str, str] | None) -> tuple[str, tuple[str, ...]]:
    """(resolved_by, addresses) when `host` needs no DNS, else ("dns", ()). An explicit pin
    wins over the localhost rule (`--resolve cdn.localhost=10.0.0.5` is obeyed)."""
    if pinned and host in pinned:
        return "pinned", (pinned[host],)
    if is_localhost_name(host):
        return "localhost", LOOPBACK
    return "dns", ()


def _classify(exc: BaseException, step: str) -> tuple[str, str]:
    """(cause, error text) for an exception raised during `step` (a cause name)."""
    if isinstance(exc, TimeoutError):  # socket.timeout too: an alias since 3.10
        cause = "timeout"
    elif isinstance(exc, ssl.SSLError):
        cause = "tls"
    else:
        cause = step
    return cause, f"{type(exc).__name__}: {exc}"[:200]


def _open(address: str, port: int, timeout: float) -> socket.socket:
    """A connected socket; an IP address is connected to directly (no getaddrinfo, which
    `socket.create_connection` calls even for a literal), a pinned name as before."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    except ValueError:
        return socket.create_connection((address, port), timeout=timeout)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _connect(addresses: tuple[str, ...], port: int, timeout: float) -> tuple[socket.socket, str]:
    """The first of `addresses` that accepts, and which it was. A timeout is not retried
    on the next address (something is there but stuck); when none accepts, the first
    address's error is raised (for loopback, IPv4's is the meaningful one)."""
    first: OSError | None = None
    for address in addresses:
        try:
            return _open(address, port, timeout), address
        except TimeoutError:
            raise
        except OSError as exc:
            first = first or exc
    raise first or OSError("no address to connect to")


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
    resolved_by, addresses = _without_dns(host, pinned)
    tried = ""
    start = time.perf_counter()

    def failed(cause: str, error: str) -> Sample:
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
            cause=cause,
            resolved_by=resolved_by,
            address=tried,
        )

    step_name = "dns"
    try:
        step = time.perf_counter()
        if resolved_by == "dns":
            info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            addresses = (str(info[0][4][0]),)
            t["dns"] = _ms(step)
        else:
            t["dns"] = 0.0
        step_name, tried = "connect", ", ".join(addresses)
        step = time.perf_counter()
        sock, tried = _connect(addresses, port, timeout)
        t["connect"] = _ms(step)
        if https:
            step_name = "tls"
            step = time.perf_counter()
            sock = (tls or ssl.create_default_context()).wrap_socket(sock, server_hostname=host)
            t["tls"] = _ms(step)
    except OSError as exc:  # ssl.SSLError and socket.gaierror are OSErrors
        return failed(*_classify(exc, step_name))
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    conn.sock = sock  # already connected (and TLS-wrapped): http.client skips connect()
    step_name = "http"
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
                return failed(DEADLINE_CAUSE, f"{DEADLINE_REACHED} after {size} bytes")
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
            cause="status" if resp.status >= 400 else "",
            resolved_by=resolved_by,
            address=tried,
        )
    except (OSError, http.client.HTTPException) as exc:
        return failed(*_classify(exc, step_name))
    finally:
        conn.close()
