"""How every toolkit command reaches a running resolver: target, deadline, TLS, token."""

from __future__ import annotations

import argparse
import dataclasses
import enum
import getpass
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from wishlist_runtime import values
from wishlist_runtime.grpc_cli import add_tls_args, tls_from_args

if TYPE_CHECKING:  # imported when a command connects: fast CLI start-up
    from wishlist_images_client import ImageResolverClient

PROG = "image-ops"
DEFAULT_TARGET = "127.0.0.1:50051"
T = TypeVar("T")


def target(args: argparse.Namespace) -> str:
    return str(args.target or os.environ.get("IMAGE_RESOLVER_TARGET") or DEFAULT_TARGET)


def client_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--target", help=f"host:port (default: IMAGE_RESOLVER_TARGET or {DEFAULT_TARGET})"
    )
    p.add_argument("--timeout", type=float, default=5.0, help="deadline in seconds")
    add_tls_args(p)


def client(args: argparse.Namespace) -> ImageResolverClient:
    """A typed client for the command's target; ADMIN_TOKEN from the environment."""
    from wishlist_images_client import ImageResolverClient

    token = os.environ.get("ADMIN_TOKEN") or None
    return ImageResolverClient(
        target(args), timeout=args.timeout, admin_token=token, credentials=tls_from_args(args, PROG)
    )


def plain(value: Any) -> Any:
    """A result as JSON values an operator reads: enums by name, and only the fields that
    carry something (an empty string or None is left out; False and 0 are kept)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v is not None and v != ""}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.name
    return value


def print_json(value: Any) -> None:
    print(json.dumps(plain(value), indent=2, default=str, sort_keys=True))


def call(fn: Callable[[], Any]) -> int:
    """Run a client call; print a failed call as one line, never a traceback."""
    from wishlist_images_client import ResolverCallError

    try:
        fn()
    except ResolverCallError as exc:
        return call_failed(exc)
    return 0


def call_failed(exc: Any) -> int:
    """Print a ResolverCallError as one line (and what CloudFront accepted); exit 1."""
    wait = f" (retry after {exc.retry_after:g} s)" if exc.retry_after else ""
    print(f"{PROG}: {exc.code.name}: {exc.message}{wait}", file=sys.stderr)
    if exc.created is not None:  # what CloudFront accepted before the failure
        print_json(exc.created)
    return 1


def argument(check: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse `type=` from a contract rule: its InvalidValue becomes a usage error."""

    def parse(text: str) -> T:
        try:
            return check(text)
        except values.InvalidValue as exc:
            raise argparse.ArgumentTypeError(exc.message) from None

    return parse


percent = argument(values.parse_percent)  # --percent, --to, --steps
author = argument(values.author)  # --by: who changes the rollout


def operator() -> str:
    """Who runs the command, for the audit trail."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
