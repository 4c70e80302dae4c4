"""Start-up settings of the API: bad values are one readable line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.conftest import JWT_SECRET


@pytest.mark.parametrize("url", ["", "not a url", "postgresql+psycopg://u:s3cret@[::1"])
def test_a_bad_database_url_stops_start_up_with_one_line(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": JWT_SECRET}
    exe = Path(sys.executable).with_name("wishlist-api")
    done = subprocess.run(
        [str(exe), "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "DATABASE_URL: Value error, is not a database URL" in done.stderr
    assert "Traceback" not in done.stderr and "s3cret" not in done.stderr
