"""A local stack for the gates: moto (S3 + CloudWatch), the local edge, a resolver whose
rollout lives in a file store, synthetic access logs for the window, a gates file.

Region simulation: the local edge has one POP (LCL50-P1); the test gates file maps it to
EU (target p95 < 200 ms). A "slow region" is the edge's origin delay (`add_delay`) on the
sampled keys: tc netem is not available here, so latency is injected in user space.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import io
import ipaddress
import json
import socket
import ssl
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from image_ops.cli import main
from tests.conftest import ADMIN_TOKEN
from tests.support.edge import LOCAL_CDN, edge, edge_binaries, put_object
from wishlist_dev import synth_logs as synth
from wishlist_dev.edge.local_edge import LocalEdge
from wishlist_dev.embedded import EmbeddedResolver
from wishlist_dev.localaws import LocalAws
from wishlist_images_client import ImageResolverClient, Origin, ResolvedImage

__all__ = ["edge", "edge_binaries", "put_object"]

GATES_TOML = """
window = "1h"
[targets_p95_ms]
US = 100
EU = 200
Asia = 300
[pop_regions]
LCL = "EU"   # the local edge plays a European POP
[continent_regions]
"North America" = "US"
"Europe" = "EU"
"Asia" = "Asia"
[gates]
alarm_prefix = "{prefix}"
[auto]
steps = [10, 50, 100]
soak = "0.6s"
check_every = "0.2s"
"""


def run(*args: str) -> tuple[int, str, str]:
    """The CLI in-process, as an operator types it: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def alarm_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:8]}-cloudfront-"


@pytest.fixture
def alarms(local_aws: LocalAws, alarm_prefix: str) -> Callable[[str, str], None]:
    """deploy/'s four alarms under a fresh prefix, all OK; returns set_state(suffix, state)."""
    cw = local_aws.client("cloudwatch")
    for suffix, metric in (
        ("5xx", "5xxErrorRate"),
        ("4xx", "4xxErrorRate"),
        ("cache-hit-rate", "CacheHitRate"),
        ("origin-latency", "OriginLatency"),
    ):
        cw.put_metric_alarm(
            AlarmName=alarm_prefix + suffix,
            Namespace="AWS/CloudFront",
            MetricName=metric,
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
        )
        cw.set_alarm_state(AlarmName=alarm_prefix + suffix, StateValue="OK", StateReason="test")

    def set_state(suffix: str, state: str) -> None:
        cw.set_alarm_state(
            AlarmName=alarm_prefix + suffix, StateValue=state, StateReason="injected by test"
        )

    return set_state


@pytest.fixture
def gates_file(tmp_path: Path, alarm_prefix: str) -> Path:
    path = tmp_path / "gates.toml"
    path.write_text(GATES_TOML.replace("{prefix}", alarm_prefix))
    return path


def write_logs(
    path: Path,
    *,
    ttl: dt.timedelta = dt.timedelta(hours=24),
    slow_edge: str = "",
    status_5xx_every: int = 0,
    n: int = 3000,
) -> Path:
    """CloudFront logs for the last 50 minutes (inside a 1 h window): synth's traffic with
    its time-taken scaled to a healthy CDN (x0.2); `slow_edge` adds 500 ms at one edge,
    `status_5xx_every` turns every n-th request into a 503, `ttl` 0 makes every request
    a miss."""
    start = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=50)
    records = []
    generated = synth.generate(
        n, seed=11, start=start, duration=dt.timedelta(minutes=45), keys=40, ttl=ttl
    )
    for i, r in enumerate(generated):
        taken = round(
            r.time_taken * 0.2 + (0.5 if slow_edge and r.edge.startswith(slow_edge) else 0), 3
        )
        status, result, resp = r.status, r.result_type, r.response_result_type
        if status_5xx_every and i % status_5xx_every == 0:
            status, result, resp = 503, "Error", "Error"
        records.append(
            synth.Record(
                r.when,
                r.edge,
                r.sc_bytes,
                r.method,
                r.uri,
                status,
                result,
                resp,
                taken,
                round(taken * 0.8, 3),
                r.salt,
            )
        )
    synth.write_gzip(path, synth.render(records))
    return path


def start_probe_resolver(
    start_resolver: Callable[..., EmbeddedResolver],
    cdn_domain: str,
    tmp_path: Path,
    scheme: str = "http",
) -> EmbeddedResolver:
    """A resolver handing out SCHEME://CDN_DOMAIN/... CDN URLs and presigned S3 URLs (http
    only for a .localhost CDN: the resolver refuses it elsewhere)."""
    return start_resolver(
        cloudfront_distribution_domain=cdn_domain,
        cdn_url_scheme=scheme,
        s3_fallback_mode="presigned",
        rollout_store=f"file://{tmp_path}/rollout.json",
        admin_token=ADMIN_TOKEN,
    )


@pytest.fixture
def stack(
    local_aws: LocalAws,
    edge: LocalEdge,
    start_resolver: Callable[..., EmbeddedResolver],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, Any]]:
    """A resolver handing out the local edge's URLs (http://cdn.localhost:PORT) to users in
    the rollout and presigned moto S3 URLs to the rest; the flag starts at 10%. The probe
    may load exactly those two hosts (PROBE_CDN_HOSTS, PROBE_S3_HOSTS)."""
    monkeypatch.setenv("PROBE_CDN_HOSTS", f"{LOCAL_CDN}:{edge.http_port}")
    monkeypatch.setenv("PROBE_S3_HOSTS", local_aws.endpoint.removeprefix("http://"))
    server = start_probe_resolver(start_resolver, f"{LOCAL_CDN}:{edge.http_port}", tmp_path)
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        set_flag(client, 10)
        yield {"server": server, "client": client, "target": server.target, "edge": edge}
    edge.origin.faults.clear()


def set_flag(client: ImageResolverClient, percent: int, enabled: bool = True) -> None:
    """What an operator's `rollout set` does (compare-and-set on the current revision)."""
    client.set_rollout(
        percent=percent,
        cdn_enabled=enabled,
        expected_revision=client.get_rollout().revision,
        updated_by="test",
    )


def probe_args(
    target: str, keys: list[str], gates: Path, out: Path | str, *extra: str, pin: bool = True
) -> list[str]:
    """`probe` against `target`; `pin`: with `--resolve cdn.localhost=127.0.0.1`."""
    args = ["probe", "--target", target, "--config", str(gates), "--json-out", str(out)]
    if pin:
        args += ["--resolve", f"{LOCAL_CDN}=127.0.0.1"]
    args += extra
    for key in keys:
        args += ["--key", key]
    return args


@pytest.fixture
def admin_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_TOKEN", ADMIN_TOKEN)


@pytest.fixture
def sample(put_object) -> list[str]:
    return [put_object(body=b"\x89PNG\r\n\x1a\n" + bytes(3000 + i)) for i in range(5)]


def warm(edge: LocalEdge, keys: list[str]) -> None:
    """Each key once through the edge, as CDN URLs name it (production's cache is warm):
    what a first probe run did for the edge, without its S3 half. Whatever the edge
    answers (a test may have made the origin fail): the probe after it judges."""
    for key in keys:
        conn = http.client.HTTPConnection("127.0.0.1", edge.http_port, timeout=10)
        try:
            conn.request("GET", f"/{key}", headers={"Host": f"{LOCAL_CDN}:{edge.http_port}"})
            conn.getresponse().read()
        finally:
            conn.close()


def probe(stack, sample, gates_file: Path, out: Path) -> dict[str, Any]:
    """Warm the edge, then the probe whose results count."""
    warm(stack["edge"], sample)
    run(*probe_args(stack["target"], sample, gates_file, out, "--users", "40"))
    data: dict[str, Any] = json.loads(out.read_text())
    return data


@pytest.fixture
def evidence(stack, sample, gates_file, alarms, tmp_path, local_aws) -> dict[str, Any]:
    """Healthy evidence on every source; tests spoil one of them."""
    logs = write_logs(tmp_path / "E2EXAMPLE.2026-11-25-00.a.gz")
    probe_json = tmp_path / "probe.json"
    probe(stack, sample, gates_file, probe_json)
    return {
        "logs": logs,
        "probe": probe_json,
        "set_alarm": alarms,
        "audit": tmp_path / "audit.jsonl",
        "args": [
            "--target",
            stack["target"],
            "--config",
            str(gates_file),
            "--logs",
            str(logs),
            "--probe-results",
            str(probe_json),
            "--cloudwatch-endpoint-url",
            local_aws.endpoint,
            "--audit-log",
            str(tmp_path / "audit.jsonl"),
            "--by",
            "alice",
        ],
    }


PNG = b"\x89PNG\r\n\x1a\n" + bytes(500)


class _ImageHandler(BaseHTTPRequestHandler):
    server: ImageServer

    def do_GET(self) -> None:
        self.server.requests += 1
        self.send_response(self.server.status)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ImageServer(ThreadingHTTPServer):
    """A real HTTP(S) server on a loopback address answering every GET with `status` and a
    small PNG; `requests` counts the GETs it was asked."""

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), _ImageHandler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.status = 200
        self.requests = 0
        self.port = int(self.server_address[1])
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture
def image_server() -> Iterator[ImageServer]:
    server = ImageServer()
    yield server
    server.close()


class Listener:
    """A loopback TCP listener that counts the connections it is offered; it sends `reply`
    (after reading the request) or nothing, then closes."""

    def __init__(self, reply: bytes = b"") -> None:
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            with conn:
                if self.reply:
                    conn.settimeout(2)
                    conn.recv(65536)
                    conn.sendall(self.reply)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


class HandsOut:
    """A resolver stand-in that hands out the given URLs as CDN URLs."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls

    def batch_resolve(self, keys: list[str], user_id: str = "") -> list[ResolvedImage]:
        return [ResolvedImage(u, Origin.CDN) for u in self.urls]


def _is_ip(host: object) -> bool:
    try:
        ipaddress.ip_address(str(host))
    except ValueError:
        return False
    return True


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """In this process getaddrinfo knows no name (IP literals still pass, as they need no
    DNS): every name asked is recorded (the returned list) and fails as an unknown name."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if _is_ip(host):
            return real(host, *args, **kwargs)
        asked.append(str(host))
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked
