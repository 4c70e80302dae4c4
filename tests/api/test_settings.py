"""Start-up settings of the API: bad values are one readable line, never a traceback."""

from __future__ import annotations

import pytest

from tests.api.conftest import run_api_serve


@pytest.mark.parametrize("url", ["", "not a url", "postgresql+psycopg://u:s3cret@[::1"])
def test_a_bad_database_url_stops_start_up_with_one_line(url: str) -> None:
    done = run_api_serve({"DATABASE_URL": url})
    assert done.returncode == 2
    assert "DATABASE_URL: Value error, is not a database URL" in done.stderr
    assert "Traceback" not in done.stderr and "s3cret" not in done.stderr
