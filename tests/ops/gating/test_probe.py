"""`image-ops probe` against the local edge + moto: what it measures, and when it fails."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from tests.ops.gating.conftest import probe_args, run, set_flag

USERS = ("--users", "30")


def keys(put_object, n: int = 10) -> list[str]:
    return [put_object(body=b"\x89PNG\r\n\x1a\n" + bytes(2000 + i)) for i in range(n)]


def test_healthy_probe_covers_both_origins_and_passes(
    stack, put_object, gates_file, tmp_path
) -> None:
    set_flag(stack["client"], 50)
    prom = tmp_path / "probe.prom"
    out = tmp_path / "probe.json"
    code, text, err = run(
        *probe_args(
            stack["target"], keys(put_object), gates_file, out, *USERS, "--prom-out", str(prom)
        )
    )
    print(text)
    assert code == 0, text + err
    report = json.loads(out.read_text())
    assert set(report["by_origin"]) == {"cdn", "s3"}
    assert report["by_pop"]["LCL50-P1"]["region"] == "EU"
    assert report["samples"] == 300
    assert report["error_rates"] == {"4xx": 0.0, "5xx": 0.0}
    cdn = [r for r in report["requests"] if r["origin"] == "cdn"]
    assert {r["x_cache"] for r in cdn} == {"Miss from cloudfront", "Hit from cloudfront"}
    assert all(
        r["status"] == 200 and r["bytes"] > 2000 and r["ttfb_ms"] > 0 for r in report["requests"]
    )
    assert "image_probe_hit_ratio " in prom.read_text()
    assert 'image_probe_latency_ms{region="EU",quantile="p95"}' in prom.read_text()
    assert "probe: PASSED" in text


def all_cdn(stack) -> None:
    set_flag(stack["client"], 100)


def test_5xx_burst_fails_the_5xx_check(stack, edge, put_object, gates_file, tmp_path) -> None:
    all_cdn(stack)
    sample = keys(put_object)
    for key in sample[:2]:
        edge.origin.faults.force_status(503, key)
    out = tmp_path / "probe.json"
    code, text, _ = run(*probe_args(stack["target"], sample, gates_file, out, "--users", "5"))
    assert code == 1, text
    report = json.loads(out.read_text())
    assert report["overall"]["status_5xx"] > 0
    failed = [c["name"] for c in report["checks"] if not c["passed"]]
    assert "probe.5xx_rate" in failed
    assert "FAIL probe.5xx_rate = " in text and "needs <= 0.01" in text
    assert "probe: FAILED" in text


def test_slow_region_fails_only_its_latency_target(
    stack, edge, put_object, gates_file, tmp_path
) -> None:
    """Simulated slow region: 400 ms at the origin on every sampled key; each key's first
    load (a miss, 10 of 100 loads) is slow, hits stay fast, so only p95 misses its target."""
    all_cdn(stack)
    sample = keys(put_object)
    for key in sample:
        edge.origin.faults.add_delay(400, key)
    out = tmp_path / "probe.json"
    code, text, _ = run(*probe_args(stack["target"], sample, gates_file, out, "--users", "10"))
    assert code == 1, text
    report = json.loads(out.read_text())
    assert report["by_region"]["EU"]["p95_ms"] > 400
    failed = [c["name"] for c in report["checks"] if not c["passed"]]
    assert failed == ["probe.p95_ms[EU]"]
    assert "FAIL probe.p95_ms[EU] = " in text and "needs < 200" in text


def test_probe_writes_prometheus_metrics_per_check(stack, put_object, gates_file, tmp_path) -> None:
    all_cdn(stack)
    prom = tmp_path / "textfile" / "probe.prom"
    code, _, _ = run(
        *probe_args(
            stack["target"],
            keys(put_object, 2),
            gates_file,
            tmp_path / "p.json",
            "--users",
            "10",
            "--prom-out",
            str(prom),
        )
    )
    text = prom.read_text()
    assert code == 0
    assert 'image_probe_check_passed{check="probe.p95_ms[EU]"} 1' in text
    assert "image_probe_passed 1.0" in text
    assert 'image_probe_latency_ms{pop="LCL50-P1",quantile="p50"}' in text


def test_usage_mistakes_exit_2_with_one_line(gates_file, tmp_path) -> None:
    code, _, err = run("probe", "--target", "127.0.0.1:1", "--config", str(gates_file))
    assert (code, err.strip()) == (
        2,
        "image-ops probe: name image keys with --key or --keys-file",
    )
    bad = tmp_path / "bad.toml"
    bad.write_text("[gates]\nmin_hit_ratio = 1.5\n[targets_p95_ms]\nUS = 100\n")
    code, _, err = run("probe", "--key", "k", "--config", str(bad))
    assert code == 2 and "gates.min_hit_ratio" in err
    code, _, err = run("probe", "--key", "k", "--resolve", "nohost")
    assert code == 2 and "HOST=ADDRESS" in err
    code, _, err = run("probe", "--key", "k", "--users", "0")
    assert code == 2 and "between 1 and 1000" in err


def test_unreachable_resolver_is_no_evidence_exit_3(gates_file) -> None:
    code, out, err = run(
        "probe",
        "--key",
        "uploads/wishlist/u/a.png",
        "--target",
        "127.0.0.1:9",
        "--timeout",
        "0.5",
        "--config",
        str(gates_file),
        "--cdn-host",
        "cdn.localhost",
    )
    assert code == 3 and out == ""
    assert err.startswith("image-ops probe: resolver: UNAVAILABLE")


class _Gateway(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_results_to_s3_and_a_pushgateway(stack, put_object, gates_file, local_aws) -> None:
    all_cdn(stack)
    local_aws.client("s3").create_bucket(Bucket="probe-results")
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    try:
        code, _, err = run(
            *probe_args(
                stack["target"],
                keys(put_object, 2),
                gates_file,
                "s3://probe-results/probe/eu/latest.json",
                "--users",
                "10",
                "--s3-endpoint-url",
                local_aws.endpoint,
                "--instance",
                "eu-1",
                "--push-gateway",
                f"http://127.0.0.1:{gateway.server_port}",
            )
        )
    finally:
        gateway.shutdown()
    assert code == 0, err
    stored = local_aws.client("s3").get_object(Bucket="probe-results", Key="probe/eu/latest.json")
    assert json.loads(stored["Body"].read())["samples"] == 20
    [(path, body)] = _Gateway.received
    assert path == "/metrics/job/image_probe/instance/eu-1"
    assert b"image_probe_hit_ratio " in body


def test_results_that_cannot_be_written_exit_3(stack, put_object, gates_file, tmp_path) -> None:
    all_cdn(stack)
    code, _, err = run(
        *probe_args(
            stack["target"],
            keys(put_object, 1),
            gates_file,
            tmp_path / "probe.json",
            "--users",
            "2",
            "--push-gateway",
            "ftp://127.0.0.1/",
        )
    )
    assert code == 3 and "--push-gateway must be an http(s):// URL" in err


def test_tls_phase_is_timed_and_an_untrusted_certificate_is_a_failed_sample(
    edge, put_object
) -> None:
    from image_ops.probe.timing import fetch
    from tests.support.edge import LOCAL_CDN

    key = put_object()
    url = edge.https_url(host=LOCAL_CDN, path=f"/{key}")
    pinned = {LOCAL_CDN: "127.0.0.1"}
    ok = fetch(url, origin="cdn", user="u", pinned=pinned, tls=edge.ssl_context())
    assert (ok.status, ok.pop, ok.dns_ms) == (200, "LCL50-P1", 0.0)
    assert ok.tls_ms is not None and ok.tls_ms > 0 and ok.connect_ms is not None
    assert ok.total_ms >= ok.tls_ms + (ok.ttfb_ms or 0)
    bad = fetch(url, origin="cdn", user="u", pinned=pinned)  # system roots: edge CA unknown
    assert bad.status == 0 and bad.tls_ms is None and "CERTIFICATE_VERIFY_FAILED" in bad.error


def test_connection_refused_counts_as_5xx(gates_file) -> None:
    from image_ops.gates.config import load
    from image_ops.probe.summary import summarise
    from image_ops.probe.timing import fetch

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sample = fetch(f"http://127.0.0.1:{port}/x.png", origin="s3", user="u", timeout=2)
    assert sample.status == 0 and sample.error.startswith("ConnectionRefusedError")
    report = summarise([sample], load(gates_file))
    assert report["error_rates"]["5xx"] == 1.0 and not report["passed"]
