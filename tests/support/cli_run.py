"""Run a CLI in a child process, as an operator would: the resolver's or the toolkit's."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping


def run_cli(
    *args: str, env: Mapping[str, str] = os.environ, module: str = "image_resolver.cli"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def run_ops(*args: str, env: Mapping[str, str] = os.environ) -> subprocess.CompletedProcess[str]:
    """`image-ops ARGS`."""
    return run_cli(*args, env=env, module="image_ops.cli")
