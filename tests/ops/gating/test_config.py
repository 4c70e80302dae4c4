"""The gates file: the story's defaults, strict validation naming the field, POP -> region."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from image_ops.gates.checks import check, percentile
from image_ops.gates.config import ConfigError, load, parse_duration, show_duration


def test_defaults_are_the_story_targets() -> None:
    config = load()
    assert config.targets_p95_ms == {"US": 100, "EU": 200, "Asia": 300}
    assert config.gates.min_hit_ratio == 0.80
    assert config.window == timedelta(hours=1)
    assert config.auto.steps == [10, 50, 100]
    assert config.gates.alarm_prefix == "wishlist-image-cdn-cloudfront-"


def test_pop_regions_from_edge_locations_and_overrides(tmp_path: Path) -> None:
    config = load()
    pops = ("IAD89-C1", "FRA56-P1", "NRT57-C3", "GRU3-C1", "ZZZ1")
    assert [config.region_of(p) for p in pops] == ["US", "EU", "Asia", "South America", "unknown"]
    path = tmp_path / "g.toml"
    path.write_text('[targets_p95_ms]\nEU = 200\n[pop_regions]\nLCL = "EU"\nIAD = "EU"\n')
    assert [load(path).region_of(p) for p in ("LCL50-P1", "IAD89-C1")] == ["EU", "EU"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[targets_p95_ms]\nUS = 100\n[gates]\nmin_hit_ratio = 1.5\n", "gates.min_hit_ratio"),
        ("[targets_p95_ms]\nUS = 100\n[gates]\nmin_hit_ratoi = 0.8\n", "gates.min_hit_ratoi"),
        ("[targets_p95_ms]\nUS = -1\n", "targets_p95_ms.US"),
        ('window = "forever"\n[targets_p95_ms]\nUS = 1\n', "window: Value error, not a duration"),
        ("[auto]\nsteps = [0]\n[targets_p95_ms]\nUS = 1\n", "auto.steps.0"),
        ("window = \n", "not TOML"),
        ("[gates]\n", "targets_p95_ms: Field required"),
    ],
)
def test_bad_files_are_refused_naming_the_field(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "g.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load(path)
    assert needle in str(err.value)


def test_missing_and_huge_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No such file"):
        load(tmp_path / "none.toml")
    big = tmp_path / "big.toml"
    big.write_text("# x\n" * 20_000)
    with pytest.raises(ConfigError, match="larger than"):
        load(big)


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("1h", 3600), ("0.2s", 0.2), ("250ms", 0.25)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["0s", "8d", "1 hour", "-1h", ""])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|more than 0"):
        parse_duration(text)


def test_a_check_without_data_fails_and_says_so() -> None:
    assert check("x", None, ">=", 0.8).line() == "FAIL x = no data, needs >= 0.8"
    assert check("x", 0.85, ">=", 0.8).line() == "ok   x = 0.85, needs >= 0.8"
    assert not check("x", float("nan"), "<=", 1).passed
    assert percentile([1, 2, 3, 4], 0.5) == 2.5  # DuckDB's quantile_cont
    assert percentile([], 0.95) is None


def test_durations_are_shown_as_written() -> None:
    shown = [show_duration(parse_duration(t)) for t in ("1h", "30m", "90s", "0.6s", "2d", "61m")]
    assert shown == ["1h", "30m", "90s", "0.6s", "2d", "61m"]


def test_every_source_left_out_is_a_failed_gate_unless_skipped() -> None:
    from datetime import UTC, datetime

    from image_ops.gating.evidence import Sources, gather

    evidence = gather(Sources(), load(), datetime.now(UTC))
    assert [c.name for c in evidence.failed] == ["logs.source", "probe.source", "alarms.source"]
    skipped = gather(Sources(skip=frozenset({"logs", "alarms"})), load(), datetime.now(UTC))
    assert [c.name for c in skipped.checks] == ["probe.source"]
    assert skipped.summary["skipped"] == ["alarms", "logs"]
