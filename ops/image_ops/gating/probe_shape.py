"""What a saved probe report must look like before `rollout advance` believes it.

The report is read from a file or an S3 object that others can write: its shape is
checked here (numbers are numbers, finite, in range, not booleans; `by_region` maps a
region to a row with `p95_ms`; the time has a zone) and so is its date: a report dated
in the future (beyond `MAX_CLOCK_SKEW`) is not fresh evidence, it is a wrong clock or a
forgery. `validated` raises ValueError with the reason, which the probe gate records as a
failed `probe.results` check; the report's other keys are left alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationError,
)

MAX_CLOCK_SKEW = timedelta(seconds=60)

Number = Annotated[StrictFloat | StrictInt, Field(ge=0, allow_inf_nan=False)]
Share = Annotated[StrictFloat | StrictInt, Field(ge=0, le=1, allow_inf_nan=False)]


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class RegionRow(_Loose):
    p95_ms: Number | None


class ErrorRates(_Loose):
    rate_5xx: Share | None = Field(alias="5xx")


class ProbeReport(_Loose):
    generated_at: AwareDatetime
    samples: Annotated[StrictInt, Field(ge=0)]
    hit_ratio: Share | None
    error_rates: ErrorRates
    by_region: dict[str, RegionRow]


def validated(report: Any, now: datetime) -> dict[str, Any]:
    """``report`` itself if it has the shape of a probe report and is not from the future;
    ValueError with the first problem otherwise."""
    if not isinstance(report, dict):
        raise ValueError(f"not a probe report: a JSON {type(report).__name__}, not an object")
    try:
        parsed = ProbeReport.model_validate(report)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"] if p not in ("float", "int"))
        raise ValueError(f"bad probe report: {where}: {err['msg']}") from None
    ahead = parsed.generated_at - now
    if ahead > MAX_CLOCK_SKEW:
        raise ValueError(
            f"generated_at {parsed.generated_at.isoformat()} is {ahead} in the future "
            f"(allowed clock skew {int(MAX_CLOCK_SKEW.total_seconds())} s): not evidence"
        )
    return report
