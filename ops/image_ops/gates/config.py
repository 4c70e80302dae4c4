"""The one gates file (TOML): targets per region, gate thresholds, auto-rollout steps.

Loaded once, validated strictly (an unknown key is a typo, refused with its name), so a
gate can never silently fall back to a default the operator thought was overridden.
"""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from wishlist_runtime import values

MAX_CONFIG_BYTES = 64 * 1024
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


class ConfigError(ValueError):
    """The gates file is missing, unreadable or invalid; the message names the field."""


def parse_duration(text: Any) -> timedelta:
    """`90s`, `30m`, `1h`, `0.2s`, `1d`: a positive duration of at most 7 days."""
    if isinstance(text, timedelta):
        return text
    match = _DURATION.fullmatch(str(text).strip())
    if not match:
        raise ValueError(f"not a duration like 30m or 1h: {str(text)[:40]!r}")
    value = timedelta(seconds=float(match[1]) * _UNITS[match[2]])
    if not timedelta(0) < value <= timedelta(days=7):
        raise ValueError("must be more than 0 and at most 7d")
    return value


def show_duration(value: timedelta) -> str:
    """The way the gates file writes it: 1h, 30m, 90s, 0.6s."""
    seconds = value.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Step = Annotated[values.Percent, Field(ge=1)]  # a rollout percent to move to: not 0
Rate = Annotated[float, Field(ge=0, le=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Gates(_Strict):
    min_hit_ratio: Rate = 0.80
    max_5xx_rate: Rate = 0.01
    max_4xx_rate: Rate = 0.05
    min_log_requests: int = Field(default=100, ge=0, le=10**9)
    min_probe_samples: int = Field(default=10, ge=0, le=10**6)
    # How old the probe's result may be: its schedule (every 5 minutes) plus one run's length
    # (at most the Job's 240 s), so one missed or killed run already refuses.
    max_probe_age: Duration = timedelta(minutes=10)
    alarm_prefix: str = Field(
        default="wishlist-image-cdn-cloudfront-", min_length=1, max_length=255
    )
    insufficient_data_fails: bool = False


class Auto(_Strict):
    steps: list[Step] = Field(default=[10, 50, 100], min_length=1, max_length=20)
    soak: Duration = timedelta(minutes=30)
    check_every: Duration = timedelta(minutes=5)


class GateConfig(_Strict):
    window: Duration = timedelta(hours=1)
    targets_p95_ms: dict[str, Annotated[float, Field(gt=0, le=60_000)]] = Field(max_length=50)
    pop_regions: dict[str, str] = Field(default_factory=dict, max_length=1000)
    continent_regions: dict[str, str] = Field(default_factory=dict, max_length=50)
    gates: Gates = Field(default_factory=Gates)
    auto: Auto = Field(default_factory=Auto)

    def region_of(self, pop: str) -> str:
        """A POP code (e.g. FRA56-P1) -> region name; "unknown" when nothing maps it."""
        from image_ops.accesslogs.report import edge_locations

        prefix = pop[:3].upper()
        if prefix in self.pop_regions:
            return self.pop_regions[prefix]
        continent = edge_locations().get(prefix, {}).get("continent", "")
        return self.continent_regions.get(continent, continent or "unknown")


def _parse(text: str, source: str) -> GateConfig:
    try:
        return GateConfig.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not TOML: {exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{source}: {where}: {err['msg']}") from None


def load(path: Path | None = None) -> GateConfig:
    """The file at `path`, or the packaged defaults (defaults.toml) when None."""
    if path is None:
        text = resources.files("image_ops.gates").joinpath("defaults.toml").read_text()
        return _parse(text, "defaults.toml")
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes")
    return _parse(raw.decode("utf-8", "replace"), str(path))
