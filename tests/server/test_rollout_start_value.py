"""Where a fresh resolver starts the rollout: dark (0%) unless CDN_ROLLOUT_PERCENT says
otherwise, CDN domain or not (the story ramps 10 -> 50 -> 100 on evidence), and said at
start-up, never silent."""

from __future__ import annotations

import json

import pytest

from tests.conftest import CDN
from tests.support.serve_process import serve_process
from wishlist_dev.localaws import LocalAws
from wishlist_images_client import ImageResolverClient, Origin

KEY = "uploads/wishlist/u-1/a.jpg"
SERVING = "image-resolver serving"


def _start_up(local_aws: LocalAws, percent: str | None) -> tuple[list[dict[str, object]], Origin]:
    """The JSON log lines up to "serving", and the origin one user gets."""
    seen: list[str] = []
    with serve_process(local_aws.endpoint, startup_log=seen, CDN_ROLLOUT_PERCENT=percent) as (
        _,
        port,
    ):
        with ImageResolverClient(f"127.0.0.1:{port}", timeout=5) as client:
            origin = client.resolve(KEY, user_id="u-1").origin
    lines = []
    for line in seen:
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines, origin


@pytest.mark.parametrize("percent", [None, ""], ids=["unset", "empty"])
def test_a_cdn_domain_alone_starts_dark_and_says_so(
    local_aws: LocalAws, percent: str | None
) -> None:
    lines, origin = _start_up(local_aws, percent)
    (serving,) = [e for e in lines if e.get("msg") == SERVING]
    assert (serving["cdn_domain"], serving["rollout_percent"]) == (CDN, 0)
    assert origin == Origin.S3
    warnings = [str(e["msg"]) for e in lines if e.get("level") == "WARNING"]
    assert any("CDN rollout is at 0%" in w and "ROLLOUT_STORE" in w for w in warnings), warnings


@pytest.mark.parametrize("percent", ["100", "10"])
def test_cdn_rollout_percent_sets_the_start_value(local_aws: LocalAws, percent: str) -> None:
    lines, _ = _start_up(local_aws, percent)
    (serving,) = [e for e in lines if e.get("msg") == SERVING]
    assert serving["rollout_percent"] == int(percent)
    assert not [e for e in lines if "CDN rollout is at 0%" in str(e.get("msg"))]
