"""Settings loading and start-up for any service: pydantic's report becomes one line per
variable (never its value) and a bad configuration exits 2 instead of a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Protocol, TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

from wishlist_runtime import logsetup


class ConfigError(Exception):
    """Settings that cannot start a server; the message names the variables, not their values."""


_S = TypeVar("_S", bound=BaseSettings)


def build_settings(cls: type[_S], overrides: dict[str, object]) -> _S:
    """Build any settings class; pydantic's report becomes one readable line per variable."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]).upper() or "settings"
            lines.append(f"{name}: {err['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None


class _LogSettings(Protocol):
    @property
    def log_level(self) -> str: ...

    @property
    def log_format(self) -> str: ...


_L = TypeVar("_L", bound=_LogSettings)


def start_up(prog: str, load: Callable[..., _L], **flags: object) -> _L:
    """Settings from the environment plus the CLI flags that were given (None = not given),
    then logging. Bad settings print one line per variable and exit 2, never a traceback."""

    try:
        settings = load(**{name: value for name, value in flags.items() if value is not None})
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    logsetup.configure(settings.log_level, settings.log_format)
    return settings
