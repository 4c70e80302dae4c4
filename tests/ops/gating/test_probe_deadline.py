"""Issue 25 item 9: the probe has a total time budget and the gate accepts only results as
old as the schedule allows. Real processes where it matters: the local edge (slow origin)
and moto behind the resolver, a dripping HTTP server for the body read."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from image_ops.gates.config import load
from image_ops.gating.probe_evidence import probe_gate_checks
from image_ops.probe.sampling import run as sample_run
from image_ops.probe.timing import DEADLINE_REACHED, fetch
from tests.ops.gating.conftest import probe_args, run, set_flag


def test_a_slow_cdn_ends_the_run_at_its_deadline_with_a_partial_result(
    stack, edge, put_object, gates_file, tmp_path
) -> None:
    set_flag(stack["client"], 100)
    keys = [put_object(body=b"\x89PNG\r\n\x1a\n" + bytes(1000 + i)) for i in range(10)]
    for key in keys:
        edge.origin.faults.add_delay(600, key)  # each first load (a miss) takes 0.6 s
    out = tmp_path / "probe.json"
    started = time.monotonic()
    code, text, err = run(*probe_args(stack["target"], keys, gates_file, out, "--users", "10",
                                      "--deadline", "2.5"))  # fmt: skip
    took = time.monotonic() - started
    assert took < 2.5 + 1.5, took  # stopped at the deadline, not after 10 x 0.6 s of misses
    assert code == 1, text + err  # written, and refused: partial evidence is not a pass
    report = json.loads(out.read_text())
    assert report["partial"] is True and report["planned"] == 100
    assert 0 < report["samples"] < 10
    assert all(r["status"] == 200 for r in report["requests"])  # no load cut into a failure
    (complete,) = [c for c in report["checks"] if c["name"] == "probe.complete"]
    assert (
        not complete["passed"] and f"after {report['samples']} of 100 loads" in complete["detail"]
    )
    assert "deadline of 2.5 s reached" in err and "probe: FAILED" in text


def test_a_run_within_its_deadline_is_complete(stack, put_object, gates_file, tmp_path) -> None:
    set_flag(stack["client"], 100)
    keys = [put_object(body=b"\x89PNG\r\n\x1a\n" + bytes(1000 + i)) for i in range(2)]
    out = tmp_path / "probe.json"
    code, text, _ = run(*probe_args(stack["target"], keys, gates_file, out, "--users", "10"))
    report = json.loads(out.read_text())
    assert code == 0, text
    assert (report["partial"], report["planned"], report["samples"]) == (False, 20, 20)
    assert "ok   probe.complete = 1" in text


def test_deadline_must_be_positive(gates_file) -> None:
    code, _, err = run("probe", "--key", "k", "--config", str(gates_file), "--deadline", "0")
    assert code == 2 and "more than 0" in err


class _Drip(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(64 * 1024 * 40))
        self.end_headers()
        try:
            for _ in range(40):  # 64 KiB every 0.2 s: each read is quick, the whole is 8 s
                self.wfile.write(bytes(64 * 1024))
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_dripping_body_is_cut_at_the_deadline_and_dropped() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Drip)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/big.png"
    try:
        started = time.monotonic()
        sample = fetch(url, origin="cdn", user="u", timeout=5, deadline=started + 1.0)
        assert time.monotonic() - started < 2.0
        assert sample.status == 0 and sample.error.startswith(DEADLINE_REACHED)

        class Client:
            def batch_resolve(self, keys: list[str], user_id: str) -> list[Any]:
                from wishlist_images_client import Origin, ResolvedImage

                return [ResolvedImage(url=url, origin=Origin.CDN) for _ in keys]

        sampled = sample_run(Client(), ["a"], ["u1", "u2"], deadline=time.monotonic() + 1.5)
        assert sampled.partial and sampled.samples == [] and sampled.planned == 2
    finally:
        server.shutdown()


# ------------------------------------------------------------------ the age rule


def _report(tmp_path: Path, age: timedelta) -> Path:
    path = tmp_path / "probe.json"
    path.write_text(json.dumps({
        "generated_at": (datetime.now(UTC) - age).isoformat(), "samples": 50, "planned": 50,
        "partial": False, "hit_ratio": 0.95, "error_rates": {"4xx": 0.0, "5xx": 0.0},
        "by_region": {"EU": {"p95_ms": 50.0}},
    }))  # fmt: skip
    return path


def _age_check(path: Path, **update: Any) -> Any:
    config = load()
    if update:
        config = config.model_copy(update=update)
    checks, _ = probe_gate_checks(str(path), config, datetime.now(UTC))
    (age,) = [c for c in checks if c.name == "probe.age_s"]
    return age


def test_a_result_is_accepted_only_as_old_as_the_schedule_allows(tmp_path) -> None:
    assert load().gates.max_probe_age == timedelta(minutes=10)
    fresh = _age_check(_report(tmp_path, timedelta(minutes=4)))
    assert fresh.passed and fresh.threshold == 600
    # Two missed runs ago: the hour-long window used to accept it.
    stale = _age_check(_report(tmp_path, timedelta(minutes=11)))
    assert not stale.passed and stale.threshold == 600
    # A shorter window still caps it.
    short = _age_check(_report(tmp_path, timedelta(minutes=4)), window=timedelta(minutes=3))
    assert not short.passed and short.threshold == 180


def test_a_partial_result_fails_the_gate(tmp_path) -> None:
    path = _report(tmp_path, timedelta(minutes=1))
    data = json.loads(path.read_text())
    data.update(partial=True, planned=100)
    path.write_text(json.dumps(data))
    checks, _ = probe_gate_checks(str(path), load(), datetime.now(UTC))
    failed = [c.name for c in checks if not c.passed]
    assert failed == ["probe.complete"]
