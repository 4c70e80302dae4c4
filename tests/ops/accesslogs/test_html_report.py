"""`logs report --html`: the chart geometry, and the page the real CLI writes over generated
logs (self-contained, escaped, carrying the report's numbers). The page in a real browser:
tests/e2e/browser/test_access_log_report.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from image_ops.accesslogs import html_report as h
from image_ops.accesslogs import report
from image_ops.accesslogs.render import _pct, _usd
from image_ops.gates import config as gates_config
from wishlist_dev import synth_logs as synth

from .conftest import run_cli

T0 = dt.datetime(2026, 1, 28)


def hours(*counts: tuple[int, int]) -> list[dict[str, Any]]:
    """hit_ratio_by_hour rows for consecutive hours from T0: (hits, misses) each."""
    return [
        {"hour_start": T0 + i * h.HOUR, "requests": a + b, "hits": a, "misses": b}
        for i, (a, b) in enumerate(counts)
    ]


def traffic(*counts: tuple[int, int, int]) -> list[dict[str, Any]]:
    """requests_by_hour rows for consecutive hours from T0: (requests, 4xx, 5xx) each."""
    return [
        {"hour_start": T0 + i * h.HOUR, "requests": r, "status_4xx": c4, "status_5xx": c5}
        for i, (r, c4, c5) in enumerate(counts)
    ]


# --- geometry ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (834, [0, 200, 400, 600, 800, 1000]),
        (31, [0, 10, 20, 30, 40]),
        (9.16, [0, 2, 4, 6, 8, 10]),
        (3, [0, 1, 2, 3]),
        (0, [0, 1]),
    ],
)
def test_nice_ticks_cover_the_data_in_round_steps(top: float, ticks: list[float]) -> None:
    assert h.nice_ticks(top) == pytest.approx(ticks)


def test_linear_maps_the_ends_and_an_empty_domain_to_the_middle() -> None:
    y = h.linear(0, 1, 200, 20)  # SVG y grows downwards
    assert (y(0), y(1), y(0.5)) == (200, 20, 110)
    assert h.linear(5, 5, 0, 100)(5) == 50


def test_the_80_percent_line_is_at_80_percent_of_the_plot_height() -> None:
    frame = h.Frame(height=300, top=20, bottom=80)  # plot from y=220 (0 %) up to y=20 (100 %)
    chart = h.hit_ratio_chart(hours((1, 1), (3, 1), (9, 1)), frame)
    [target] = chart.targets
    assert target.y1 == target.y2 == pytest.approx(220 - 0.8 * 200)
    assert (target.x1, target.x2) == (frame.x0, frame.x1)
    assert [d.y for d in chart.dots] == pytest.approx([220 - 0.5 * 200, 220 - 0.75 * 200, 40])
    assert any(lbl.text == "target 80%" for lbl in chart.labels)
    assert len(chart.polylines) == 1


def test_points_sit_mid_hour_and_an_hour_without_hits_or_misses_breaks_the_line() -> None:
    rows = hours((4, 1), (4, 1), (0, 0), (4, 1))
    chart = h.hit_ratio_chart(rows, h.Frame(width=500, left=50, right=50))  # 400 px, 4 hours
    assert [d.x for d in chart.dots] == pytest.approx([100, 200, 400])
    assert [len(line) for line in chart.lines] == [2, 1]
    assert len(chart.polylines) == 1  # a one-point run is its dot only


def test_a_missing_hour_also_breaks_the_line() -> None:
    rows = hours((4, 1), (4, 1), (4, 1))
    del rows[1]
    assert [len(line) for line in h.hit_ratio_chart(rows).lines] == [1, 1]


def test_one_point_is_one_dot_with_the_target_and_a_labelled_axis() -> None:
    chart = h.hit_ratio_chart(hours((9, 1)))
    assert chart.empty is None
    assert len(chart.dots) == 1 and chart.polylines == [] and len(chart.targets) == 1
    texts = [lbl.text for lbl in chart.labels]
    assert {"00:00", "01:00", "Jan 28", "90%", "hour (UTC)", "hit ratio"} <= set(texts)


@pytest.mark.parametrize("rows", [[], hours((0, 0), (0, 0))])
def test_no_hits_or_misses_is_a_no_data_note(rows: list[dict[str, Any]]) -> None:
    chart = h.hit_ratio_chart(rows)
    assert chart.empty and chart.empty.startswith("No data")
    assert not chart.dots and not chart.targets


def test_bars_are_proportional_and_stack() -> None:
    frame = h.Frame(height=300, top=20, bottom=80)
    series = [("status_4xx", "4xx"), ("status_5xx", "5xx")]
    chart = h.time_bars(
        "errors", "errors", traffic((0, 10, 30), (0, 20, 0)), series, empty="-", frame=frame
    )
    four, five, four_only = chart.bars
    assert [b.series for b in chart.bars] == ["status_4xx", "status_5xx", "status_4xx"]
    # y axis 0..50 (40 plus headroom for the value) over 200 px: 4 px per response
    assert (four.h, five.h, four_only.h) == pytest.approx((40, 120, 80))
    assert four.y + four.h == pytest.approx(220)  # on the x axis
    assert five.y + five.h == pytest.approx(four.y)  # on top of the 4xx segment
    assert four.w == pytest.approx(four_only.w) and four.w > 0
    assert four_only.x > four.x + four.w  # a gap between hours


def test_bars_with_nothing_to_show_are_a_note() -> None:
    empty = h.time_bars("errors", "e", traffic((100, 0, 0)), [("status_4xx", "4xx")], empty="none")
    assert (empty.empty, empty.bars) == ("none", [])


def test_one_bar() -> None:
    chart = h.time_bars("requests", "requests", traffic((7, 0, 0)), [("requests", "r")], empty="-")
    [bar] = chart.bars
    assert bar.w > 0 and bar.h > 0
    assert any(lbl.text == "7" and lbl.cls == "value" for lbl in chart.labels)


def test_a_long_span_is_summed_per_day() -> None:
    rows = [
        {"hour_start": T0 + i * h.HOUR, "requests": 1, "status_4xx": 0, "status_5xx": 0}
        for i in range(10 * 24)
    ]
    slots = h.buckets(rows, ["requests"])
    assert [b.values["requests"] for b in slots] == [24] * 10
    assert {b.width for b in slots} == {h.DAY}
    chart = h.time_bars("requests", "requests", rows, [("requests", "r")], empty="-")
    assert len(chart.bars) == 10 and chart.title == "Requests per day"
    assert [lbl.text for lbl in chart.labels if lbl.cls == "value"] == ["24"] * 10


def test_more_bars_than_labels_fit_carry_their_values_in_tooltips_only() -> None:
    rows = traffic(*[(5, 0, 0)] * (h.MAX_VALUE_LABELS + 1))
    chart = h.time_bars("requests", "requests", rows, [("requests", "r")], empty="-")
    assert len(chart.bars) == h.MAX_VALUE_LABELS + 1
    assert not [lbl for lbl in chart.labels if lbl.cls == "value"]
    assert chart.bars[0].title == "2026-01-28 00:00 UTC: 5 r"


def test_time_ticks_are_on_whole_steps() -> None:
    ticks = h.time_ticks(T0 + dt.timedelta(minutes=30), T0 + dt.timedelta(hours=24))
    assert ticks[0] == T0 + 3 * h.HOUR and ticks[1] - ticks[0] == 3 * h.HOUR
    assert ticks[-1] == T0 + 24 * h.HOUR


def test_horizontal_bars_are_proportional_with_the_target_mark() -> None:
    rows = [
        h.Row("IAD", (("time_taken", 150.0), ("ttfb", 50.0)), 100.0),
        h.Row("SYD", (("time_taken", 75.0), ("ttfb", None))),
    ]
    chart = h.hbar_chart("p95", "p95", rows, fmt=str, axis="ms", empty="-", width=1000)
    f = chart.frame
    per_ms = (f.x1 - f.x0) / 150  # ticks 0, 50, 100, 150
    assert [b.w for b in chart.bars] == pytest.approx([150 * per_ms, 50 * per_ms, 75 * per_ms])
    assert [b.over for b in chart.bars] == [True, False, False]
    [mark] = chart.targets
    assert mark.x1 == mark.x2 == pytest.approx(f.x0 + 100 * per_ms)
    iad_top, iad_bottom = chart.bars[0].y, chart.bars[1].y + chart.bars[1].h
    assert iad_top - 8 < mark.y1 < iad_top < iad_bottom < mark.y2 < iad_bottom + 8  # IAD's group
    assert any(lbl.text == "no data" for lbl in chart.labels)  # SYD's TTFB


def test_p95_chart_lists_the_busiest_edges_with_their_region_target() -> None:
    edge = {"edge_code": "FRA", "city": "Frankfurt", "continent": "Europe"}
    edges = [{**edge, "time_taken_p95": 0.25, "ttfb_p95": 0.1}] * (h.MAX_EDGES + 3)
    chart = h.p95_chart(edges)
    assert len(chart.bars) == 2 * h.MAX_EDGES and len(chart.targets) == h.MAX_EDGES
    assert chart.note and str(h.MAX_EDGES + 3) in chart.note
    assert "EU: target < 200 ms" in [lbl.text for lbl in chart.labels]
    assert h.p95_chart([]).empty


def test_targets_are_the_gates_defaults() -> None:
    """The report page and the rollout gates judge by the same numbers (WISH-2018 AC14)."""
    defaults = gates_config.load()
    for continent, (region, target) in h.REGION_TARGETS_MS.items():
        assert defaults.continent_regions[continent] == region
        assert defaults.targets_p95_ms[region] == target
    assert set(h.REGION_TARGETS_MS) == set(defaults.continent_regions)
    assert defaults.gates.min_hit_ratio == h.HIT_RATIO_TARGET


# --- writing the file -------------------------------------------------------------------


def minimal_report() -> dict[str, Any]:
    """The report of a window with no requests, as report.build makes it."""
    return {
        "input": {
            "files": 0,
            "rows": 0,
            "malformed_lines": 0,
            "truncated_files": [],
            "unreadable_files": [],
        },
        "window": {"since": None, "until": None},
        "hit_definition": {"hits": ["Hit"], "misses": ["Miss"], "ratio": "hits / (h + m)"},
        "summary": {
            "requests": 0,
            "bytes": 0,
            "hits": 0,
            "misses": 0,
            "cacheable": 0,
            "hit_ratio": None,
            "first_ts": None,
            "last_ts": None,
            **{f"{m}_p{q}": None for m in ("time_taken", "ttfb") for q in (50, 95, 99)},
        },
        "by_edge": [],
        "hit_ratio_by_hour": [],
        "requests_by_hour": [],
        "top_missed": [],
        "result_types": [],
        "errors": {"4xx": 0, "5xx": 0, "by_status": []},
        "cost": {
            "prices_as_of": "2026-11-25",
            "currency": "USD",
            "observed_hours": 0.0,
            "scale_to_month": 0.0,
            "cloudfront_monthly_usd": 0.0,
            "s3_direct_monthly_usd": 0.0,
            "savings_monthly_usd": 0.0,
            "by_price_region": [],
            "assumptions": "none",
            "extrapolation": report.extrapolation(dt.timedelta(0), 0, 0.0),
        },
    }


def test_write_replaces_the_file_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    out.write_text("old")
    h.write(minimal_report(), out)
    assert out.read_text().startswith("<!doctype html>")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_a_failed_write_names_the_file_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "report.html").mkdir()  # cannot be replaced by a file
    with pytest.raises(OSError, match=r"report\.html") as caught:
        h.write(minimal_report(), tmp_path / "report.html")
    assert caught.value.filename == str(tmp_path / "report.html")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


# --- the real CLI over generated logs ---------------------------------------------------

# What may load anything: any URL scheme, src/href/srcset/action attributes, CSS url() and
# @import, a <link>, a script, an object or a frame.
EXTERNAL = re.compile(
    r"https?:|//[a-z]|\b(?:src|href|srcset|action|xlink:href)\s*=|url\(|@import|"
    r"<(?:link|script|iframe|object|embed|img|base)\b",
    re.IGNORECASE,
)


def html_report(tmp_path: Path, *args: str) -> tuple[str, dict[str, Any], str]:
    """Run ``report ARGS --json --html FILE``: (the page, the JSON report, stderr)."""
    out = tmp_path / "report.html"
    code, stdout, err = run_cli(*args, "--json", "--html", str(out))
    assert code == 0, err
    return out.read_text(encoding="utf-8"), json.loads(stdout), err


def svg(page: str, name: str) -> str:
    match = re.search(rf'<svg data-chart="{name}".*?</svg>', page, re.DOTALL)
    assert match, name
    return match.group(0)


@pytest.fixture(scope="module")
def hostile_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated logs plus misses whose URI and edge code are markup."""
    records = list(synth.generate(600, seed=11))
    evil = dataclasses.replace(
        records[5],
        uri="/uploads/<script>alert(1)</script>\"'&.jpg",
        edge="<i>1-C1",
        result_type="Miss",
        response_result_type="Miss",
        status=200,
    )
    path = tmp_path_factory.mktemp("hostile") / "E2EXAMPLE0DIST.2026-01-28-00.evil.gz"
    synth.write_gzip(path, synth.render([*records, *[evil] * 30]))
    return path


def test_the_page_is_self_contained_under_a_strict_csp(tmp_path: Path, log_file: Path) -> None:
    page, _, err = html_report(tmp_path, str(log_file))
    assert f'content="{h.CSP}"' in page
    assert h.CSP == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert not EXTERNAL.findall(page)
    assert err == f"HTML report written to {tmp_path / 'report.html'}\n"


def test_the_page_carries_the_report_numbers(tmp_path: Path, log_file: Path) -> None:
    page, rep, _ = html_report(tmp_path, str(log_file))
    s, cost = rep["summary"], rep["cost"]
    assert f'data-value="requests">{s["requests"]}<' in page
    assert f'data-value="hit_ratio">{_pct(s["hit_ratio"])}<' in page
    assert f'data-value="errors">{rep["errors"]["4xx"]} / {rep["errors"]["5xx"]}<' in page
    assert f"{s['time_taken_p95'] * 1000:.0f}" in page
    assert ", 0 unreadable files left out." in page
    for usd in (cost["cloudfront_monthly_usd"], cost["s3_direct_monthly_usd"]):
        assert _usd(usd) in page
    hit_hours = [r for r in rep["hit_ratio_by_hour"] if r["hits"] + r["misses"]]
    assert svg(page, "hit-ratio").count('<circle class="point"') == len(hit_hours)
    assert svg(page, "requests").count('data-series="requests"') == len(rep["requests_by_hour"])
    errors = sum(bool(r[k]) for r in rep["requests_by_hour"] for k in ("status_4xx", "status_5xx"))
    assert svg(page, "errors").count('<rect class="bar') == errors
    assert svg(page, "cost").count('<rect class="bar') == 2
    for edge in rep["by_edge"]:
        assert f">{edge['edge_code']} {edge['city']}</text>" in svg(page, "p95")


def test_requests_by_hour_counts_requests_and_errors(
    tmp_path: Path, log_file: Path, records: list[synth.Record]
) -> None:
    _, rep, _ = html_report(tmp_path, str(log_file))
    want: Counter[tuple[str, str]] = Counter()
    for r in records:
        hour = r.when.strftime("%Y-%m-%dT%H:00:00")
        want[hour, "requests"] += 1
        want[hour, "status_4xx"] += 400 <= r.status < 500
        want[hour, "status_5xx"] += 500 <= r.status < 600
    got = Counter(
        {
            (row["hour_start"], k): row[k]
            for row in rep["requests_by_hour"]
            for k in ("requests", "status_4xx", "status_5xx")
        }
    )
    assert +got == +want


def test_log_strings_are_escaped(tmp_path: Path, hostile_log: Path) -> None:
    page, rep, _ = html_report(tmp_path, str(hostile_log))
    assert any("<script>" in m["uri"] for m in rep["top_missed"])
    assert "<script" not in page and "<i>" not in page
    assert "/uploads/&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&amp;.jpg" in page
    assert "&lt;i&gt;" in svg(page, "p95")
    assert not EXTERNAL.findall(page)


def test_an_empty_window_is_a_page_of_no_data_notes(tmp_path: Path, log_file: Path) -> None:
    page, _, _ = html_report(tmp_path, str(log_file), "--since", "2030-01-01")
    assert "<svg" not in page
    for name in ("hit-ratio", "p95", "requests", "errors", "cost"):
        assert f'<p class="no-data" data-chart="{name}">' in page


def test_the_text_report_still_goes_to_stdout(tmp_path: Path, log_file: Path) -> None:
    out = tmp_path / "r.html"
    code, stdout, err = run_cli(str(log_file), "--html", str(out))
    assert code == 0 and stdout.startswith("CloudFront access-log report\n")
    assert out.is_file() and "HTML report written to" in err


def test_an_unwritable_destination_is_one_line_exit_2(tmp_path: Path, log_file: Path) -> None:
    target = tmp_path / "missing" / "r.html"
    code, stdout, err = run_cli(str(log_file), "--html", str(target))
    assert (code, stdout) == (2, "")
    assert err.count("\n") == 1 and str(target) in err and "No such file" in err


def test_a_window_too_short_gives_no_monthly_estimate(tmp_path: Path) -> None:
    example = Path(__file__).parent / "data" / "aws-example-2019-33-fields.log"
    out = tmp_path / "short.html"
    code, _, err = run_cli(str(example), "--html", str(out))
    assert code == 0, err
    page = out.read_text()
    assert "not extrapolated" in page and "6 requests observed" in page
    assert "No estimate: not extrapolated" in page  # the cost chart's place says why
    assert '<svg data-chart="cost"' not in page
