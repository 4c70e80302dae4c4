"""Write each README's settings table from its `Settings` class, so the two cannot drift.

A README marks where a table goes with
    <!-- settings-table: package.module:ClassName -->
    <!-- /settings-table -->
and this fills the lines between from the class's fields: the environment variable(s),
the default, and the field's docstring (`use_attribute_docstrings`) with its bounds.

    python scripts/settings_tables.py            # exit 1 and name the README when one drifted
    python scripts/settings_tables.py --write    # rewrite the tables
"""

from __future__ import annotations

import argparse
import enum
import importlib
import re
import sys
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parent.parent
READMES = ("server/README.md", "api/README.md")
BLOCK = re.compile(
    r"(<!-- settings-table: (?P<target>[\w.]+:\w+) -->\n)(?P<body>.*?)(<!-- /settings-table -->)",
    re.S,
)


class MissingDescription(Exception):
    pass


def _variables(name: str, field: FieldInfo) -> list[str]:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        names = [str(choice) for choice in alias.choices]
    elif isinstance(alias, str):
        names = [alias]
    else:
        names = [name]
    return [n.upper() for n in names]


def _default(field: FieldInfo) -> str:
    value = field.default
    if value is PydanticUndefined or value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def _bounds(field: FieldInfo) -> str:
    def show(v: Any) -> str:
        return f"{v:g}" if isinstance(v, float) else str(v)

    parts = []
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            parts.append(f"at least {show(item.ge)}")
        elif isinstance(item, annotated_types.Gt):
            parts.append(f"above {show(item.gt)}")
        elif isinstance(item, annotated_types.Le):
            parts.append(f"at most {show(item.le)}")
        elif isinstance(item, annotated_types.Lt):
            parts.append(f"below {show(item.lt)}")
    return f" ({', '.join(parts)})" if parts else ""


def table(cls: Any) -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in cls.model_fields.items():
        if not field.description:
            raise MissingDescription(f"{cls.__module__}.{cls.__name__}.{name} has no docstring")
        meaning = (" ".join(field.description.split()) + _bounds(field)).replace("|", "\\|")
        variables = " / ".join(f"`{v}`" for v in _variables(name, field))
        rows.append(f"| {variables} | {_default(field)} | {meaning} |")
    return "\n".join(rows) + "\n"


def _load(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def render(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + table(_load(m.group("target"))) + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the tables in place")
    args = parser.parse_args(argv)
    stale = []
    for readme in READMES:
        path = ROOT / readme
        text = path.read_text("utf-8")
        try:
            new = render(text)
        except MissingDescription as exc:
            print(f"settings_tables: {exc}", file=sys.stderr)
            return 2
        if new != text:
            stale.append(readme)
            if args.write:
                path.write_text(new, "utf-8")
    if stale and not args.write:
        print(
            f"settings tables out of date in {', '.join(stale)}: "
            "run python scripts/settings_tables.py --write",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
