"""ADMIN_TOKEN is checked at start-up: a token no client can send, or a guessable one,
stops the server instead of enabling the admin API."""

from __future__ import annotations

import os

import pytest

from image_resolver.config import ConfigError, load_settings
from tests.support.cli_run import run_cli

GOOD = "0123456789abcdef0123456789abcdef"  # 32 printable ASCII characters


@pytest.mark.parametrize(
    "token",
    [
        " " * 16,  # 16 spaces
        " " * 40,
        GOOD + "\n",  # enables the admin API, but gRPC metadata cannot carry it
        GOOD[:-1],  # 31 characters
        "short-token-1234",  # 16 characters: was enough before
        GOOD[:16] + " " + GOOD[16:],  # whitespace inside
        GOOD + "\t",
        GOOD + "é",  # not ASCII
        GOOD + "\x7f",
    ],
)
def test_unusable_or_weak_tokens_are_refused(token: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(admin_token=token)
    message = str(caught.value)
    assert "ADMIN_TOKEN" in message
    assert "32" in message
    assert GOOD not in message  # the value is never echoed


@pytest.mark.parametrize("token", [GOOD, "A-b_c.d~e!f#g$h%i&j*k+l=m?n@o^p|q", "x" * 200])
def test_strong_printable_tokens_are_accepted(token: str) -> None:
    settings = load_settings(admin_token=token)
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == token


def test_empty_token_leaves_the_admin_api_off() -> None:
    assert load_settings(admin_token="").admin_token is None


def test_serve_with_a_bad_token_exits_2_with_one_line_per_variable() -> None:
    env = {**os.environ, "ADMIN_TOKEN": " " * 16}
    proc = run_cli("serve", "--port", "0", env=env)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert [line for line in lines if "ADMIN_TOKEN" in line] == [lines[-1]]
