"""A local stack for the gates: moto (S3 + CloudWatch), the local edge, a resolver whose
rollout lives in a file store, synthetic access logs for the window, a gates file.

Region simulation: the local edge has one POP (LCL50-P1); the test gates file maps it to
EU (target p95 < 200 ms). A "slow region" is the edge's origin delay (`add_delay`) on the
sampled keys: tc netem is not available here, so latency is injected in user space.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import uuid
from collections.abc import Callable, Iterator
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
from wishlist_images_client import ImageResolverClient

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
    server = start_resolver(
        cloudfront_distribution_domain=f"{LOCAL_CDN}:{edge.http_port}",
        cdn_url_scheme="http",
        s3_fallback_mode="presigned",
        rollout_store=f"file://{tmp_path}/rollout.json",
        admin_token=ADMIN_TOKEN,
    )
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        set_flag(client, 10)
        yield {"server": server, "client": client, "target": server.target}
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
    target: str, keys: list[str], gates: Path, out: Path | str, *extra: str
) -> list[str]:
    args = [
        "probe",
        "--target",
        target,
        "--config",
        str(gates),
        "--json-out",
        str(out),
        "--resolve",
        f"{LOCAL_CDN}=127.0.0.1",
        *extra,
    ]
    for key in keys:
        args += ["--key", key]
    return args


@pytest.fixture
def admin_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_TOKEN", ADMIN_TOKEN)


@pytest.fixture
def sample(put_object) -> list[str]:
    return [put_object(body=b"\x89PNG\r\n\x1a\n" + bytes(3000 + i)) for i in range(5)]


def probe(stack, sample, gates_file: Path, out: Path) -> dict[str, Any]:
    """Warm the edge (production's cache is warm), then the probe whose results count."""
    args = probe_args(stack["target"], sample, gates_file, out, "--users", "40")
    run(*args)
    run(*args)
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
