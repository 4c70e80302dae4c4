"""Each README's settings table is generated from its Settings class and kept current."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "settings_tables.py"

sys.path.insert(0, str(SCRIPT.parent))
import settings_tables  # noqa: E402


def test_the_readmes_tables_are_current() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("readme", "target"),
    [
        ("server/README.md", "image_resolver.config:Settings"),
        ("api/README.md", "wishlist_api.settings:ApiSettings"),
    ],
)
def test_every_setting_has_a_row(readme: str, target: str) -> None:
    text = (ROOT / readme).read_text()
    assert f"<!-- settings-table: {target} -->" in text
    cls = settings_tables._load(target)
    rows = re.findall(r"^\| `([A-Z0-9_]+)`", text, flags=re.M)
    assert {name.upper() for name in cls.model_fields} <= set(rows)


def test_a_drifted_table_is_caught() -> None:
    text = (ROOT / "server/README.md").read_text()
    drifted = text.replace("| `GRPC_PORT` | `50051` |", "| `GRPC_PORT` | `50052` |")
    assert drifted != text
    assert settings_tables.render(drifted) == text


def test_a_field_without_a_docstring_is_refused() -> None:
    from pydantic_settings import BaseSettings

    class Undocumented(BaseSettings):
        knob: int = 1

    with pytest.raises(settings_tables.MissingDescription, match="knob"):
        settings_tables.table(Undocumented)
