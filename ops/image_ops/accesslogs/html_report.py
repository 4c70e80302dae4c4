"""The report as one self-contained HTML page: summary, tables and SVG charts drawn here.

The page has to open anywhere (an incident laptop, a mail attachment) without a network,
under ``default-src 'none'``: so no script, no fonts, no images, and the charts are SVG
computed in Python. The geometry is small functions returning shapes (unit-tested); the
Jinja2 template (``report_page.html.j2``) only places them. Autoescape is on and log
strings also go through ``safe_text``: URIs and edge codes come from log lines, which
whoever can write to the log bucket (or forge a request) controls.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from image_ops.accesslogs.render import _bytes, _ms, _pct, _usd
from image_ops.textsafe import safe_text

TEMPLATE = "report_page.html.j2"
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
HIT_RATIO_TARGET = 0.80  # WISH-2018 AC14: > 80 % after warm-up
# AC14's p95 targets by the edge's continent, the regions gates/defaults.toml maps them to.
# The gates sit above this package (lint-imports), so a test keeps the two equal instead.
REGION_TARGETS_MS: dict[str, tuple[str, float]] = {
    "North America": ("US", 100.0),
    "Europe": ("EU", 200.0),
    "Asia": ("Asia", 300.0),
}
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
MAX_HOURLY_BUCKETS = 168  # a week of hours; longer spans are summed per day
MAX_VALUE_LABELS = 24  # more buckets than this: values in the tooltips and on the axis only
MAX_EDGES = 25
_TICK_STEPS_H = (1, 2, 3, 6, 12, 24, 48, 168, 336, 720)


@dataclass(frozen=True)
class Frame:
    """An svg's size and the plot area inside it (the margins hold the axis labels)."""

    width: float = 1000
    height: float = 250
    left: float = 56
    right: float = 72
    top: float = 16
    bottom: float = 52

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - self.right

    @property
    def y0(self) -> float:
        return self.top

    @property
    def y1(self) -> float:
        return self.height - self.bottom


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    series: str
    title: str
    over: bool = False  # beyond its target


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Segment:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"
    cls: str = "tick"


@dataclass
class Chart:
    """Everything the template draws for one chart; ``empty`` replaces it with a note."""

    name: str
    title: str
    frame: Frame = field(default_factory=Frame)
    bars: list[Bar] = field(default_factory=list)
    dots: list[Dot] = field(default_factory=list)
    lines: list[list[tuple[float, float]]] = field(default_factory=list)
    grid: list[Segment] = field(default_factory=list)
    axes: list[Segment] = field(default_factory=list)
    targets: list[Segment] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (series, text)
    empty: str | None = None
    note: str | None = None

    @property
    def polylines(self) -> list[str]:
        """SVG ``points`` of each line of two or more points (one point is just a dot)."""
        return [" ".join(f"{x:.1f},{y:.1f}" for x, y in ln) for ln in self.lines if len(ln) > 1]


@dataclass(frozen=True)
class Bucket:
    """One bar's or point's time slot and its counts."""

    start: dt.datetime
    width: dt.timedelta
    values: dict[str, int]

    @property
    def middle(self) -> dt.datetime:
        return self.start + self.width / 2


@dataclass(frozen=True)
class Row:
    """One group of a horizontal bar chart: a bar per (series, value), one target."""

    label: str
    values: tuple[tuple[str, float | None], ...]
    target: float | None = None
    sublabel: str = ""


def linear(d0: float, d1: float, r0: float, r1: float) -> Callable[[float], float]:
    """Map the domain [d0, d1] onto [r0, r1]; an empty domain maps to the range's middle."""
    if d1 == d0:
        return lambda _v: (r0 + r1) / 2
    k = (r1 - r0) / (d1 - d0)
    return lambda v: r0 + (v - d0) * k


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """0, s, 2s, ... up to at least ``top``, s a 1/2/5 x 10^n step: round axis labels."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw * (1 - 1e-9))
    n = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(n + 1)]


def compact(v: float) -> str:
    """Axis numbers: 950, 1.2k, 3M."""
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{v / size:.3g}{unit}"
    return f"{v:.3g}"


def count(v: int) -> str:
    """A bar's value: exact while it fits above the bar, then compact."""
    return str(v) if v < 10_000 else compact(v)


def buckets(
    rows: Sequence[Mapping[str, Any]], keys: Sequence[str], max_hourly: int = MAX_HOURLY_BUCKETS
) -> list[Bucket]:
    """Hourly rows as they come, or summed per day when they span more than ``max_hourly``
    hours (a month of hourly bars would be a pixel each)."""
    if not rows:
        return []
    hourly = rows[-1]["hour_start"] - rows[0]["hour_start"] < max_hourly * HOUR
    size = HOUR if hourly else DAY
    sums: dict[dt.datetime, dict[str, int]] = {}
    for r in rows:
        start = r["hour_start"] if hourly else r["hour_start"].replace(hour=0)
        acc = sums.setdefault(start, dict.fromkeys(keys, 0))
        for k in keys:
            acc[k] += int(r[k] or 0)
    return [Bucket(s, size, v) for s, v in sorted(sums.items())]


def time_ticks(first: dt.datetime, end: dt.datetime, max_ticks: int = 8) -> list[dt.datetime]:
    """Tick times on whole multiples of a 1 h ... 30 d step, at most ``max_ticks`` + 1."""
    span_h = (end - first) / HOUR
    step_h = next((s for s in _TICK_STEPS_H if span_h / s <= max_ticks), _TICK_STEPS_H[-1])
    step = step_h * HOUR
    epoch = dt.datetime(1970, 1, 1, tzinfo=first.tzinfo)
    tick = epoch + math.ceil((first - epoch) / step) * step
    out = []
    while tick <= end:
        out.append(tick)
        tick += step
    return out


def _time_axis(chart: Chart, series: Sequence[Bucket]) -> Callable[[dt.datetime], float]:
    """Add the x axis (tick times, a date under the first tick of each day) to ``chart``;
    return the time -> x mapping."""
    f = chart.frame
    first, end = series[0].start, series[-1].start + series[-1].width
    to_x = linear(0, (end - first).total_seconds(), f.x0, f.x1)

    def x(t: dt.datetime) -> float:
        return to_x((t - first).total_seconds())

    ticks = time_ticks(first, end)
    daily = len(ticks) > 1 and ticks[1] - ticks[0] >= DAY
    last_day = None
    for t in ticks:
        chart.axes.append(Segment(x(t), f.y1, x(t), f.y1 + 4))
        if not daily:
            chart.labels.append(Label(x(t), f.y1 + 16, t.strftime("%H:%M")))
        if daily or t.date() != last_day:
            chart.labels.append(Label(x(t), f.y1 + (16 if daily else 29), t.strftime("%b %d")))
            last_day = t.date()
    chart.labels.append(
        Label((f.x0 + f.x1) / 2, f.height - 4, f"{_slot(series)} (UTC)", cls="title")
    )
    chart.axes.append(Segment(f.x0, f.y1, f.x1, f.y1))
    return x


def _y_axis(
    chart: Chart, ticks: Sequence[float], fmt: Callable[[float], str], title: str
) -> Callable[[float], float]:
    """Add horizontal grid lines with their values and the axis title; return value -> y."""
    f = chart.frame
    y = linear(0, ticks[-1], f.y1, f.y0)
    for t in ticks:
        chart.grid.append(Segment(f.x0, y(t), f.x1, y(t)))
        chart.labels.append(Label(f.x0 - 6, y(t) + 4, fmt(t), anchor="end"))
    chart.axes.append(Segment(f.x0, f.y0, f.x0, f.y1))
    chart.labels.append(Label(f.x0, f.y0 - 6, title, anchor="start", cls="title"))
    return y


def _slot(series: Sequence[Bucket]) -> str:
    return "day" if series and series[0].width >= DAY else "hour"


def _when(b: Bucket) -> str:
    return b.start.strftime("%Y-%m-%d" if b.width >= DAY else "%Y-%m-%d %H:00") + " UTC"


def hit_ratio_chart(rows: Sequence[Mapping[str, Any]], frame: Frame | None = None) -> Chart:
    """Hit ratio per hour (or day) as a line against the 80 % target; a gap where a slot
    has no hits or misses."""
    series = buckets(rows, ("hits", "misses"))
    chart = Chart(
        "hit-ratio",
        f"Cache hit ratio per {_slot(series)} against the {HIT_RATIO_TARGET:.0%} target",
        frame or Frame(),
    )
    if not any(b.values["hits"] + b.values["misses"] for b in series):
        chart.empty = "No data: no cache hits or misses in the window."
        return chart
    x = _time_axis(chart, series)
    y = _y_axis(chart, nice_ticks(1.0), lambda v: f"{v * 100:.0f}%", "hit ratio")
    f = chart.frame
    ty = y(HIT_RATIO_TARGET)
    chart.targets.append(Segment(f.x0, ty, f.x1, ty))
    chart.labels.append(
        Label(f.x1 + 4, ty + 4, f"target {HIT_RATIO_TARGET:.0%}", anchor="start", cls="target")
    )
    run: list[tuple[float, float]] = []
    previous_end = None
    for b in series:
        cacheable = b.values["hits"] + b.values["misses"]
        if not cacheable or b.start != previous_end:
            run = []
            chart.lines.append(run)
        previous_end = b.start + b.width
        if not cacheable:
            continue
        r = b.values["hits"] / cacheable
        point = (x(b.middle), y(r))
        run.append(point)
        chart.dots.append(
            Dot(*point, f"{_when(b)}: {r:.1%} ({b.values['hits']} hits / {cacheable})")
        )
        if len(series) <= MAX_VALUE_LABELS:
            chart.labels.append(Label(point[0], point[1] - 8, f"{r:.0%}", cls="value"))
    chart.lines = [ln for ln in chart.lines if ln]
    chart.legend = [
        ("line", "hit ratio = hits / (hits + misses)"),
        ("target", f"target > {HIT_RATIO_TARGET:.0%}"),
    ]
    return chart


def time_bars(
    name: str,
    what: str,
    rows: Sequence[Mapping[str, Any]],
    series: Sequence[tuple[str, str]],
    *,
    empty: str,
    frame: Frame | None = None,
) -> Chart:
    """``what`` per hour (or day) as bars, the ``series`` (key, legend text) stacked
    bottom-up."""
    slots = buckets(rows, [k for k, _ in series])
    chart = Chart(name, f"{what.capitalize()} per {_slot(slots)}", frame or Frame())
    totals = [sum(b.values.values()) for b in slots]
    if not any(totals):
        chart.empty = empty
        return chart
    x = _time_axis(chart, slots)
    # Headroom above the tallest bar for its value and the axis title.
    y = _y_axis(chart, nice_ticks(max(totals) * 1.1), compact, what)
    for b, total in zip(slots, totals, strict=True):
        left, right = x(b.start), x(b.start + b.width)
        gap = min(2.0, (right - left) * 0.2)
        base = 0
        for key, text in series:
            v = b.values[key]
            if v:
                top, bottom = y(base + v), y(base)
                chart.bars.append(
                    Bar(
                        left + gap / 2,
                        top,
                        right - left - gap,
                        bottom - top,
                        key,
                        f"{_when(b)}: {v} {text}",
                    )
                )
            base += v
        if total and len(slots) <= MAX_VALUE_LABELS:
            chart.labels.append(Label((left + right) / 2, y(total) - 4, count(total), cls="value"))
    chart.legend = [(k, text) for k, text in series] if len(series) > 1 else []
    return chart


def hbar_chart(
    name: str,
    title: str,
    rows: Sequence[Row],
    *,
    fmt: Callable[[float], str],
    axis: str,
    legend: Sequence[tuple[str, str]] = (),
    empty: str,
    width: float = 1000,
    bar_h: float = 16,
) -> Chart:
    """Horizontal bars, one group per row, each row's target as a vertical mark across its
    group: lengths compare directly and the labels have room."""
    per = max((len(r.values) for r in rows), default=1)
    gap = 16.0
    frame = Frame(
        width=width,
        height=24 + len(rows) * (per * bar_h + gap) + 36,
        left=190,
        right=80,
        top=24,
        bottom=36,
    )
    chart = Chart(name, title, frame, legend=list(legend))
    values = [v for r in rows for _, v in r.values if v is not None]
    if not any(values):
        chart.empty = empty
        return chart
    top = max([*values, *(r.target for r in rows if r.target is not None)])
    ticks = nice_ticks(top)
    x = linear(0, ticks[-1], frame.x0, frame.x1)
    for t in ticks:
        chart.grid.append(Segment(x(t), frame.y0, x(t), frame.y1))
        chart.labels.append(Label(x(t), frame.y1 + 16, fmt(t) if t else "0"))
    chart.labels.append(Label((frame.x0 + frame.x1) / 2, frame.height - 4, axis, cls="title"))
    chart.axes += [
        Segment(frame.x0, frame.y0, frame.x0, frame.y1),
        Segment(frame.x0, frame.y1, frame.x1, frame.y1),
    ]
    for i, row in enumerate(rows):
        y0 = frame.y0 + gap / 2 + i * (per * bar_h + gap)
        mid = y0 + len(row.values) * bar_h / 2
        chart.labels.append(
            Label(frame.x0 - 8, mid + (0 if row.sublabel else 4), row.label, "end", "row")
        )
        if row.sublabel:
            chart.labels.append(Label(frame.x0 - 8, mid + 13, row.sublabel, "end", "sub"))
        for j, (series, v) in enumerate(row.values):
            by = y0 + j * bar_h
            if v is None:
                chart.labels.append(
                    Label(frame.x0 + 4, by + bar_h / 2 + 4, "no data", "start", "value")
                )
                continue
            over = row.target is not None and v > row.target
            chart.bars.append(
                Bar(
                    frame.x0,
                    by + 1,
                    x(v) - frame.x0,
                    bar_h - 2,
                    series,
                    f"{row.label} {series}: {fmt(v)}",
                    over,
                )
            )
            chart.labels.append(
                Label(
                    x(v) + 4, by + bar_h / 2 + 4, fmt(v), "start", "value over" if over else "value"
                )
            )
        if row.target is not None:
            tx = x(row.target)
            chart.targets.append(Segment(tx, y0 - 4, tx, y0 + len(row.values) * bar_h + 4))
    return chart


def region_target(continent: str) -> tuple[str, float | None]:
    """(region, p95 target ms) of an edge's continent; (continent, None) without one."""
    return REGION_TARGETS_MS.get(continent, (continent, None))


def _to_ms(seconds: float | None) -> float | None:
    return None if seconds is None else float(seconds) * 1000


def p95_chart(by_edge: Sequence[Mapping[str, Any]]) -> Chart:
    """p95 time-taken and TTFB per edge (the busiest MAX_EDGES) against its region's target."""
    rows = []
    for e in by_edge[:MAX_EDGES]:
        region, target = region_target(e["continent"])
        rows.append(
            Row(
                f"{safe_text(e['edge_code'] or '-')} {e['city']}",
                tuple(
                    (series, _to_ms(e[col]))
                    for series, col in (("time_taken", "time_taken_p95"), ("ttfb", "ttfb_p95"))
                ),
                target,
                f"{region}: " + (f"target < {target:.0f} ms" if target else "no target"),
            )
        )
    chart = hbar_chart(
        "p95",
        "p95 time-taken and TTFB per edge location against its region's target",
        rows,
        fmt=lambda v: f"{v:.0f} ms",
        axis="p95, milliseconds",
        legend=[
            ("time_taken", "time-taken p95"),
            ("ttfb", "TTFB p95"),
            ("over", "over its target"),
            ("mark", "region target"),
        ],
        empty="No data: no requests with a latency in the window.",
    )
    if len(by_edge) > MAX_EDGES:
        chart.note = (
            f"The {MAX_EDGES} busiest of {len(by_edge)} edge locations; all are in the table."
        )
    return chart


def cost_chart(cost: Mapping[str, Any]) -> Chart:
    """Monthly CloudFront vs S3-direct estimate, side by side; none from a window too
    short to extrapolate (report.extrapolation says why, and the page shows it)."""
    ex = cost.get("extrapolation", {"ok": True})
    rows = [
        Row("CloudFront", (("cloudfront", float(cost["cloudfront_monthly_usd"])),)),
        Row("S3 direct", (("s3", float(cost["s3_direct_monthly_usd"])),)),
    ]
    if not ex["ok"]:
        return hbar_chart(
            "cost",
            "Estimated monthly cost: CloudFront vs straight from S3",
            [],
            fmt=_usd,
            axis=f"{cost['currency']} per month",
            empty=f"No estimate: {ex['warning']}.",
            bar_h=28,
        )
    return hbar_chart(
        "cost",
        "Estimated monthly cost: CloudFront vs straight from S3",
        rows,
        fmt=_usd,
        axis=f"{cost['currency']} per month (observed traffic scaled to 30 days)",
        empty="No data: no traffic to price in the window.",
        bar_h=28,
    )


def charts(report: Mapping[str, Any]) -> dict[str, Chart]:
    """Every chart of the page, by name."""
    return {
        "hit_ratio": hit_ratio_chart(report["hit_ratio_by_hour"]),
        "p95": p95_chart(report["by_edge"]),
        "requests": time_bars(
            "requests",
            "requests",
            report["requests_by_hour"],
            [("requests", "requests")],
            empty="No data: no requests in the window.",
        ),
        "errors": time_bars(
            "errors",
            "4xx and 5xx responses",
            report["requests_by_hour"],
            [("status_4xx", "4xx responses"), ("status_5xx", "5xx responses")],
            empty="No 4xx or 5xx responses in the window.",
        ),
        "cost": cost_chart(report["cost"]),
    }


def _edges(by_edge: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The edge table's rows: the report's, plus the region, its target and the verdicts."""
    out = []
    for e in by_edge:
        region, target = region_target(e["continent"])
        p95 = _to_ms(e["time_taken_p95"])
        out.append(
            {
                **e,
                "region": region,
                "target_ms": target,
                "over": target is not None and p95 is not None and p95 > target,
            }
        )
    return out


def _hours_on_target(rows: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    """(slots at or over the hit-ratio target, slots with any hit or miss)."""
    ratios = [r["hit_ratio"] for r in rows if r["hit_ratio"] is not None]
    return sum(r >= HIT_RATIO_TARGET for r in ratios), len(ratios)


def _log(value: object) -> str:
    """A log-derived string, its control and bidi characters made visible (then escaped)."""
    return safe_text(str(value))


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pct=_pct, ms=_ms, bytes=_bytes, usd=_usd, log=_log, px=lambda v: f"{v:.1f}")
    text = resources.files("image_ops.accesslogs").joinpath(TEMPLATE).read_text("utf-8")
    return env.from_string(text)


def render_page(report: Mapping[str, Any], *, generated: dt.datetime | None = None) -> str:
    """The whole page as one string."""
    return _template().render(
        r=report,
        s=report["summary"],
        charts=charts(report),
        edges=_edges(report["by_edge"]),
        on_target=_hours_on_target(report["hit_ratio_by_hour"]),
        target=HIT_RATIO_TARGET,
        csp=CSP,
        generated=(generated or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC"),
    )


def write(report: Mapping[str, Any], path: Path) -> None:
    """Write the page next to ``path`` under a temporary name, then rename it over ``path``:
    a reader never sees half a page, and a failed write leaves the previous page. An
    OSError names ``path``, not the temporary file."""
    page = render_page(report)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
