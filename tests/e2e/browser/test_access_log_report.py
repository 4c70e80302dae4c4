"""`image-ops logs report --html` opened from disk in Debian's Chromium: every chart renders
with its bars, points and target, and the page loads nothing and breaks no CSP rule (a
control page proves a violation would be seen). The screenshot is
artifacts/access-log-report.png (docs/access-log-report.png is a copy of one)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser.conftest import ARTIFACTS, CHROMIUM_ARGS
from tests.ops.accesslogs.conftest import run_cli
from wishlist_dev import synth_logs as synth

# Records every CSP violation before the page's own content runs (Playwright injects init
# scripts outside the page's CSP).
_WATCH_CSP = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The page and JSON report of a day of generated logs (the cache warms past 80 %)."""
    folder = tmp_path_factory.mktemp("report-html")
    log = folder / "E2EXAMPLE0DIST.2026-01-28-00.a1b2c3d4.gz"
    synth.write_gzip(log, synth.render(synth.generate(100_000, seed=2018)))
    page = folder / "report.html"
    code, out, err = run_cli(str(log), "--json", "--html", str(page))
    assert code == 0, err
    return page, json.loads(out)


# Module scope, like the package's `browser`: Playwright's sync API holds an asyncio loop
# while open. The gallery's `browser` needs the local edge; this page needs nothing.
@pytest.fixture(scope="module")
def chromium(chromium_path: str) -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Opened:
    """A page loaded from a file, with what it logged, requested and refused."""

    def __init__(self, chromium: Any, path: Path) -> None:
        self.context = chromium.new_context(viewport={"width": 1200, "height": 900})
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.add_init_script(_WATCH_CSP)
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    @property
    def violations(self) -> list[str]:
        return list(self.page.evaluate("window.__violations"))

    def count(self, selector: str) -> int:
        return int(self.page.locator(selector).count())


@pytest.fixture
def opened(chromium: Any, report_page: tuple[Path, dict[str, Any]]) -> Iterator[Opened]:
    seen = Opened(chromium, report_page[0])
    yield seen
    seen.context.close()


def test_the_page_loads_nothing_and_breaks_no_csp_rule(
    opened: Opened, report_page: tuple[Path, dict[str, Any]]
) -> None:
    assert opened.requests == [report_page[0].as_uri()]
    assert opened.console == []
    assert opened.violations == []


def test_a_violation_would_be_seen(chromium: Any, tmp_path: Path, report_page: Any) -> None:
    """The control: the same page with an inline script is refused, and it shows."""
    bad = tmp_path / "bad.html"
    html = report_page[0].read_text()
    bad.write_text(html.replace("</main>", "<script>document.title = 'ran'</script></main>"))
    seen = Opened(chromium, bad)
    try:
        assert seen.page.title() != "ran"
        assert [v for v in seen.violations if v.startswith("script-src")]
        assert any("Content Security Policy" in line for line in seen.console)
    finally:
        seen.context.close()


def test_every_chart_renders_with_its_marks(
    opened: Opened, report_page: tuple[Path, dict[str, Any]]
) -> None:
    _, rep = report_page
    page = opened.page
    for name in ("hit-ratio", "p95", "requests", "errors", "cost"):
        box = page.locator(f'svg[data-chart="{name}"]').bounding_box()
        assert box and box["width"] > 300 and box["height"] > 80, name
    hit_hours = [r for r in rep["hit_ratio_by_hour"] if r["hits"] + r["misses"]]
    assert opened.count('svg[data-chart="hit-ratio"] circle.point') == len(hit_hours) == 24
    assert opened.count('svg[data-chart="hit-ratio"] polyline.line') == 1
    assert opened.count('svg[data-chart="hit-ratio"] line.target') == 1
    hours = rep["requests_by_hour"]
    assert opened.count('svg[data-chart="requests"] rect.bar') == len(hours) == 24
    errors = sum(bool(r[k]) for r in hours for k in ("status_4xx", "status_5xx"))
    assert opened.count('svg[data-chart="errors"] rect.bar') == errors > 0
    p95s = [e[k] for e in rep["by_edge"] for k in ("time_taken_p95", "ttfb_p95")]
    assert opened.count('svg[data-chart="p95"] rect.bar') == sum(v is not None for v in p95s)
    with_target = [
        e for e in rep["by_edge"] if e["continent"] in {"North America", "Europe", "Asia"}
    ]
    assert opened.count('svg[data-chart="p95"] line.target') == len(with_target) > 0
    assert opened.count('svg[data-chart="cost"] rect.bar') == 2
    assert opened.count(".no-data") == 0


def test_the_target_line_is_drawn_at_the_80_percent_tick(opened: Opened) -> None:
    """Where it renders, not just where the SVG says: level with the axis' 80 % label."""
    chart = opened.page.locator('svg[data-chart="hit-ratio"]')
    line = chart.locator("line.target").bounding_box()
    tick = chart.locator("text.tick", has_text="80%").bounding_box()
    assert line and tick
    assert abs((line["y"] + line["height"] / 2) - (tick["y"] + tick["height"] / 2)) < 4
    assert line["width"] > 0.8 * (chart.bounding_box() or {"width": 0})["width"]


def test_bars_are_as_long_as_their_values(
    opened: Opened, report_page: tuple[Path, dict[str, Any]]
) -> None:
    cost = report_page[1]["cost"]
    bars = opened.page.locator('svg[data-chart="cost"] rect.bar')
    cf, s3 = (bars.nth(i).bounding_box() for i in range(2))
    assert cf and s3
    want = cost["cloudfront_monthly_usd"] / cost["s3_direct_monthly_usd"]
    assert cf["width"] / s3["width"] == pytest.approx(want, rel=0.01)


def test_screenshot(opened: Opened) -> None:
    """For people: artifacts/access-log-report.png, the whole page."""
    ARTIFACTS.mkdir(exist_ok=True)
    opened.page.screenshot(path=str(ARTIFACTS / "access-log-report.png"), full_page=True)
    assert (ARTIFACTS / "access-log-report.png").stat().st_size > 10_000
