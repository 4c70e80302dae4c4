"""image-ops checks --percent/--to/--steps and --by with the contract's rules
(wishlist_runtime.values) before it connects: a usage error, exit 2, no traceback."""

from __future__ import annotations

import pytest

from image_ops.cli import build_parser
from wishlist_runtime import values


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(list(argv))
    assert caught.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rollout", "set", "--percent", "101"], "must be between 0 and 100"),
        (["rollout", "set", "--percent", "-1"], "must be between 0 and 100"),
        (["rollout", "set", "--percent", "ten"], "must be a whole number from 0 to 100"),
        (["rollout", "advance", "--to", "101"], "must be between 0 and 100"),
        (["rollout", "auto", "--steps", "10", "200"], "must be between 0 and 100"),
        (["rollout", "set", "--percent", "5", "--by", " "], "must name who changes it"),
        (["rollout", "set", "--percent", "5", "--by", "x" * 129], "(1..128 chars)"),
        (["rollout", "advance", "--to", "5", "--by", "a\tb"], "must name who changes it"),
    ],
)
def test_bad_values_are_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    err = usage_error(capsys, *argv)
    assert message in err and "Traceback" not in err


def test_good_values_at_the_bounds_pass() -> None:
    args = build_parser().parse_args(
        ["rollout", "set", "--percent", "100", "--by", " " + "a" * values.MAX_AUTHOR_CHARS]
    )
    assert (args.percent, args.by) == (100, "a" * values.MAX_AUTHOR_CHARS)
    assert build_parser().parse_args(["rollout", "advance", "--to", "0"]).to == 0
