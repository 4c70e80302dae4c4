"""Run the `image-resolver` CLI in a child process, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping


def run_cli(*args: str, env: Mapping[str, str] = os.environ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "image_resolver.cli", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
