"""The report against generated logs, with expected numbers computed here from the records."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections import Counter
from pathlib import Path

import pytest

from image_ops.accesslogs.fields import FIELD_NAMES
from wishlist_dev import synth_logs as synth

from .conftest import report_json, run_cli

HITS = {"Hit", "RefreshHit", "OriginShieldHit"}
GIB = 1024**3


def quantile(values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (quantile_cont)."""
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def test_totals_hit_ratio_and_errors(log_file: Path, records: list[synth.Record]) -> None:
    rep = report_json(str(log_file))
    s = rep["summary"]
    hits = sum(r.response_result_type in HITS for r in records)
    misses = sum(r.response_result_type == "Miss" for r in records)
    assert s["requests"] == 3000
    assert s["bytes"] == sum(r.sc_bytes for r in records)
    assert (s["hits"], s["misses"]) == (hits, misses)
    assert s["hit_ratio"] == pytest.approx(hits / (hits + misses))
    assert rep["errors"]["4xx"] == sum(400 <= r.status < 500 for r in records)
    assert rep["errors"]["5xx"] == sum(500 <= r.status < 600 for r in records)
    assert rep["errors"]["4xx"] > 0 and rep["errors"]["5xx"] > 0
    assert s["time_taken_p95"] == pytest.approx(quantile([r.time_taken for r in records], 0.95))
    assert s["ttfb_p99"] == pytest.approx(quantile([r.ttfb for r in records], 0.99))
    assert rep["input"]["malformed_lines"] == 0
    assert {t["result_type"]: t["requests"] for t in rep["result_types"]} == dict(
        Counter(r.response_result_type for r in records)
    )


def test_per_edge_region(log_file: Path, records: list[synth.Record]) -> None:
    rep = report_json(str(log_file))
    by_code = {e["edge_code"]: e for e in rep["by_edge"]}
    assert set(by_code) == {r.edge[:3] for r in records}
    fra = [r for r in records if r.edge.startswith("FRA")]
    e = by_code["FRA"]
    assert (e["city"], e["country"], e["continent"]) == ("Frankfurt", "DE", "Europe")
    assert e["requests"] == len(fra)
    assert e["bytes"] == sum(r.sc_bytes for r in fra)
    assert e["time_taken_p50"] == pytest.approx(quantile([r.time_taken for r in fra], 0.5))
    assert e["ttfb_p95"] == pytest.approx(quantile([r.ttfb for r in fra], 0.95))
    assert by_code["ZZZ"]["continent"] == "unknown"


def test_warm_up_curve_and_top_missed(log_file: Path, records: list[synth.Record]) -> None:
    rep = report_json(str(log_file))
    hours: dict[str, list[int]] = {}
    for r in records:
        acc = hours.setdefault(r.when.strftime("%Y-%m-%dT%H:00:00"), [0, 0])
        acc[0] += r.response_result_type in HITS
        acc[1] += r.response_result_type == "Miss"
    got = {h["hour_start"]: (h["hits"], h["misses"]) for h in rep["hit_ratio_by_hour"]}
    assert got == {k: (v[0], v[1]) for k, v in hours.items()}
    first, last = rep["hit_ratio_by_hour"][0], rep["hit_ratio_by_hour"][-1]
    assert first["hit_ratio"] < last["hit_ratio"]  # the cache warms up

    missed = Counter(r.uri for r in records if r.response_result_type == "Miss")
    expected = sorted(missed.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    assert [(m["uri"], m["misses"]) for m in rep["top_missed"]] == expected


def test_cost_estimate(log_file: Path, records: list[synth.Record]) -> None:
    rep = report_json(str(log_file))
    c = rep["cost"]
    pricing = json.loads(
        (Path(__file__).parents[3] / "ops/image_ops/accesslogs/prices.json").read_text()
    )
    span = (records[-1].when - records[0].when).total_seconds() + 1
    scale = 30 * 86400 / span
    total_bytes = sum(r.sc_bytes for r in records)
    s3 = pricing["s3"]
    s3_expected = total_bytes / GIB * s3["transfer_out_per_gb"] + 3000 / 1000 * s3["get_per_1k"]
    assert c["s3_direct_monthly_usd"] == pytest.approx(s3_expected * scale)
    # Only US edges: price them by hand.
    us = [r for r in records if r.edge[:3] in {"IAD", "JFK", "SFO"}]
    rate = pricing["cloudfront"]["us_ca_mx"]
    us_expected = (
        sum(r.sc_bytes for r in us) / GIB * rate["transfer_per_gb"]
        + len(us) / 10_000 * rate["https_per_10k"]
        + sum(r.response_result_type == "Miss" for r in us) / 1000 * s3["get_per_1k"]
    ) * scale
    row = next(r for r in c["by_price_region"] if r["price_region"] == "us_ca_mx")
    assert row["monthly_usd"] == pytest.approx(us_expected)
    assert c["prices_as_of"] == pricing["as_of"]


def test_since_until_window(log_file: Path, records: list[synth.Record]) -> None:
    since, until = dt.datetime(2026, 1, 28, 6), dt.datetime(2026, 1, 28, 9, 30)
    rep = report_json(
        str(log_file), "--since", "2026-01-28T06:00:00Z", "--until", "2026-01-28 09:30"
    )
    inside = [r for r in records if since <= r.when < until]
    assert rep["summary"]["requests"] == len(inside)
    assert rep["summary"]["bytes"] == sum(r.sc_bytes for r in inside)
    assert rep["cost"]["observed_hours"] == pytest.approx(3.5)


def test_empty_window_reports_zeros_not_a_traceback(log_file: Path) -> None:
    """count_if over no rows is NULL in DuckDB; the report once crashed on it."""
    rep = report_json(str(log_file), "--since", "2030-01-01")
    s = rep["summary"]
    assert (s["requests"], s["hits"], s["misses"], s["status_5xx"]) == (0, 0, 0, 0)
    assert s["hit_ratio"] is None
    code, out, err = run_cli(str(log_file), "--since", "2030-01-01")
    assert (code, err) == (0, "")
    assert "requests      0" in out


def test_malformed_and_truncated_last_line_are_counted(
    tmp_path: Path, records: list[synth.Record]
) -> None:
    lines = list(synth.render(records[:200]))
    bad = lines[10].split("\t")
    bad[3] = "lots"  # sc-bytes not a number
    lines.insert(50, "\t".join(bad))
    lines.insert(60, "just some garbage\n")
    path = tmp_path / "damaged.gz"
    synth.write_gzip(path, lines, truncate_last_line=True)
    rep = report_json(str(path))
    # 200 records; the last one is cut short, plus the two inserted bad lines.
    assert rep["input"]["malformed_lines"] == 3
    assert rep["summary"]["requests"] == 199
    assert rep["summary"]["bytes"] == sum(r.sc_bytes for r in records[:199])


def test_cut_off_gzip_object_is_recovered(tmp_path: Path, records: list[synth.Record]) -> None:
    whole = tmp_path / "whole.gz"
    synth.write_gzip(whole, synth.render(records))
    data = whole.read_bytes()
    cut = tmp_path / "cut.gz"
    cut.write_bytes(data[: len(data) // 2])
    rep = report_json(str(cut))
    assert rep["input"]["truncated_files"] == [str(cut)]
    # What survives is every complete line of the readable prefix.
    text = zlib.decompressobj(wbits=31).decompress(data[: len(data) // 2]).decode()
    complete = text.count("\n") - 2  # minus the two header lines
    assert 0 < complete < 3000
    assert rep["summary"]["requests"] == complete
    assert rep["summary"]["bytes"] == sum(r.sc_bytes for r in records[:complete])
    assert rep["input"]["malformed_lines"] == (0 if text.endswith("\n") else 1)


def test_reordered_missing_and_extra_fields(tmp_path: Path, records: list[synth.Record]) -> None:
    fields = [f for f in reversed(FIELD_NAMES) if f != "time-to-first-byte"]
    path = tmp_path / "v2-custom.gz"
    synth.write_gzip(
        path, synth.render(records, fields=fields, extra=[("x-future-field", "whatever")])
    )
    rep = report_json(str(path), str(tmp_path / "v2-custom.gz"))  # the same file twice
    assert rep["summary"]["requests"] == 6000
    assert rep["summary"]["bytes"] == 2 * sum(r.sc_bytes for r in records)
    assert rep["summary"]["ttfb_p50"] is None  # field absent: NULL, not a rejected line
    assert rep["input"]["malformed_lines"] == 0


def test_mixed_layouts_in_one_folder(
    tmp_path: Path, log_file: Path, records: list[synth.Record]
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "standard.gz").write_bytes(log_file.read_bytes())
    plain = tmp_path / "a" / "nested" / "plain.log"
    plain.parent.mkdir()
    plain.write_text("".join(synth.render(records[:100], fields=FIELD_NAMES[:20])))
    (tmp_path / "a" / "notes.txt").write_text("not a log\n")
    rep = report_json(str(tmp_path / "a"))
    assert rep["summary"]["requests"] == 3100
    assert rep["input"]["skipped_files"] == [str(tmp_path / "a" / "notes.txt")]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["/nonexistent/logs"], "no such file"),
        (["--since", "yesterday-ish"], "--since"),
        (["--since", "2026-02-01", "--until", "2026-01-01"], "before"),
    ],
)
def test_bad_input_is_one_line_exit_2(log_file: Path, args: list[str], needle: str) -> None:
    argv = args if args[0].startswith("/") else [str(log_file), *args]
    code, out, err = run_cli(*argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and needle in err
    assert "Traceback" not in err


def test_non_log_file_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "readme.md"
    p.write_text("# hello\n")
    code, _, err = run_cli(str(p))
    assert code == 2 and "not a CloudFront" in err and err.count("\n") == 1


def test_table_output_mentions_what_counts(log_file: Path) -> None:
    code, out, _ = run_cli(str(log_file))
    assert code == 0
    assert "hits = Hit, RefreshHit, OriginShieldHit" in out
    assert "Estimated monthly cost (prices as of" in out
    assert "Frankfurt" in out


def test_a_window_too_short_is_not_extrapolated_to_a_month() -> None:
    example = Path(__file__).parent / "data" / "aws-example-2019-33-fields.log"
    rep = report_json(str(example))
    ex = rep["cost"]["extrapolation"]
    assert ex["ok"] is False and ex["requests"] == 6
    assert ex["count_error_95"] == pytest.approx(2 / 6**0.5)
    code, out, _ = run_cli(str(example))
    assert code == 0
    assert "not extrapolated: " in out and "6 requests observed" in out
    assert "Estimated monthly cost" not in out and "CloudFront total" not in out
    assert "the observed window itself: CloudFront $0.00" in out  # six decimals, not $0.00


def test_a_day_of_traffic_is_extrapolated_with_its_error_said(log_file: Path) -> None:
    rep = report_json(str(log_file))
    ex = rep["cost"]["extrapolation"]
    assert ex["ok"] is True and ex["requests"] == 3000
    assert ex["uncovered_cycles"] == ["daily", "weekly"]  # 3000 requests over 24 h - 29 s
    assert ex["count_error_95"] == pytest.approx(2 / 3000**0.5)
    code, out, _ = run_cli(str(log_file))
    assert code == 0
    assert "Estimated monthly cost" in out
    assert "from 24.0 h: +-4% from the count alone, and the daily and weekly traffic cycle" in out
