"""Metrics over HTTP and the JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import socket
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from image_resolver import metrics
from tests.conftest import CALL_TIMEOUT
from tests.support.serve_process import serve_process
from wishlist_dev.localaws import LocalAws
from wishlist_images_client import ImageResolverClient
from wishlist_runtime.logsetup import JsonFormatter, request_id


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_count_resolutions_rpcs_and_invalid_refs(start_resolver) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    metrics.serve(port, host="127.0.0.1")
    server = start_resolver(cdn_rollout_percent=100)
    before = _scrape(port)
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        client.batch_resolve(
            [
                "uploads/wishlist/u/a.jpg",
                "uploads/wishlist/u/b.jpg",
                "../x",
                "a/../y",
                "",
                "media/x.jpg",
            ]
        )
    after = _scrape(port)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("image_resolver_resolutions_total", origin="cdn") == 2
    # counted once per reason and call, by the number of refs refused for it
    assert delta("image_resolver_invalid_refs_total", reason="dot_segment") == 2
    assert delta("image_resolver_invalid_refs_total", reason="empty") == 1
    assert delta("image_resolver_invalid_refs_total", reason="outside_prefix") == 1
    assert delta("image_resolver_rpcs_total", method="BatchResolveImageUrls", code="OK") == 1
    assert delta("image_resolver_rpc_seconds_count", method="BatchResolveImageUrls") == 1
    assert after[("image_resolver_rollout_percent", ())] == 100


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_rollout_store_health_says_what_0_and_1_mean_and_is_1_without_a_store(
    local_aws: LocalAws,
) -> None:
    """An operator reading the gauge (or its alert) must not guess: the HELP line names
    both values, and a replica with nothing to read (env only) is not reported failing."""
    port = _free_port()
    with serve_process(local_aws.endpoint, METRICS_PORT=str(port)):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    (family,) = [
        f
        for f in text_string_to_metric_families(text)
        if f.name == "image_resolver_rollout_store_healthy"
    ]
    assert family.documentation.startswith("1 = the last read of ROLLOUT_STORE succeeded")
    assert "0 = it failed" in family.documentation
    assert [s.value for s in family.samples] == [1.0]


def test_json_log_lines_carry_request_id_and_extras() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("test.json")
    log.addHandler(handler)
    log.propagate = False
    token = request_id.set("req-1")
    try:
        log.warning("request refused", extra={"method": "ResolveImageUrl", "status": 3})
    finally:
        request_id.reset(token)
        log.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["msg"] == "request refused"
    assert line["request_id"] == "req-1"
    assert (line["method"], line["status"], line["level"]) == ("ResolveImageUrl", 3, "WARNING")
