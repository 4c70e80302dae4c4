"""`image-ops`: operate a running image-resolver: resolve, rollout (get, set, advance,
auto), invalidate, health, logs (the access-log report), probe."""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from image_ops.connect import (
    PROG,
    author,
    call,
    call_failed,
    client,
    client_args,
    operator,
    percent,
    print_json,
    target,
)
from wishlist_runtime.grpc_cli import register_health

if TYPE_CHECKING:
    from wishlist_images_client import ImageResolverClient, RolloutInfo


def cmd_resolve(args: argparse.Namespace) -> int:
    from wishlist_images_client import ImageRef

    with client(args) as c:
        return call(
            lambda: print_json(c.resolve(ImageRef(args.ref, args.version), user_id=args.user_id))
        )


def cmd_rollout_get(args: argparse.Namespace) -> int:
    with client(args) as c:
        return call(lambda: print_json(c.get_rollout()))


FLAG = ("percent", "cdn_enabled", "revision", "updated_by", "updated_at")
EXIT_REFUSED = 1  # the call failed and nothing was written (or a read failed)
EXIT_OUTCOME_UNKNOWN = 3  # the write was sent and not answered: it may land
SET_EXIT_CODES = (
    "exit 0: written (or an unanswered write seen landed); 1: refused or failed, nothing "
    "written; 2: usage; 3: outcome unknown (sent, not answered, not yet seen landed): "
    "the state is printed, check again with `image-ops rollout get`"
)


def cmd_rollout_set(args: argparse.Namespace) -> int:
    from wishlist_images_client import ResolverCallError

    with client(args) as c:
        try:
            current = c.get_rollout()
        except ResolverCallError as exc:
            return call_failed(exc)
        new_percent = current.percent if args.percent is None else args.percent
        enabled = current.cdn_enabled if args.cdn_enabled is None else args.cdn_enabled
        try:
            before, after = c.set_rollout(
                percent=new_percent,
                cdn_enabled=enabled,
                expected_revision=current.revision,
                updated_by=args.by,
            )
        except ResolverCallError as exc:
            if not exc.outcome_unknown:
                return call_failed(exc)
            print(
                f"{PROG}: OUTCOME UNKNOWN: the write (revision {current.revision + 1}: "
                f"percent {new_percent}, cdn_enabled {str(enabled).lower()}) was sent and "
                f"not answered ({exc.code.name}: {exc.message}); reading the rollout again",
                file=sys.stderr,
            )
            return settle(c, args, current, new_percent, enabled)
        # The write's answer carries the flag only; where it lives is the read's.
        print_json(
            {
                "store": current.store,
                "before": {k: getattr(before, k) for k in FLAG},
                "after": {k: getattr(after, k) for k in FLAG},
            }
        )
        return 0


def settle(
    c: ImageResolverClient,
    args: argparse.Namespace,
    sent: RolloutInfo,
    new_percent: int,
    enabled: bool,
) -> int:
    """After an unanswered write: re-read (each read bounded by --timeout) for up to
    --wait seconds, until the write is seen landed; print what is in force and say what
    is known. Exit 0 when it landed, else EXIT_OUTCOME_UNKNOWN."""
    from wishlist_images_client import ResolverCallError

    check = f"{PROG} rollout get --target {target(args)}"
    ends = time.monotonic() + args.wait
    info: RolloutInfo | None = None
    while True:
        try:
            info = c.get_rollout()
        except ResolverCallError as exc:
            print(
                f"{PROG}: cannot read the rollout: {exc.code.name}: {exc.message}",
                file=sys.stderr,
            )
        if info is not None and info.revision > sent.revision:
            break
        if time.monotonic() >= ends:
            break
        time.sleep(0.5)
    if info is None:
        print(f"{PROG}: state unknown; check with: {check}", file=sys.stderr)
        return EXIT_OUTCOME_UNKNOWN
    ours = (info.revision, info.percent, info.cdn_enabled, info.updated_by) == (
        sent.revision + 1,
        new_percent,
        enabled,
        args.by,
    )
    if ours:
        outcome, line = "landed", "the write landed"
    elif info.revision > sent.revision:
        outcome = "changed"
        line = f"the rollout changed to revision {info.revision}, not as this command asked"
    elif info.store_healthy:
        outcome = "not_landed_yet"
        line = (
            f"the store answers and holds revision {info.revision}: the write has not "
            "landed (it may still, if it is in flight); running this command again is safe "
            f"(compare-and-set); check with: {check}"
        )
    else:
        outcome = "unknown"
        line = (
            f"the store is unhealthy ({info.store_error}); this replica serves revision "
            f"{info.revision} (cdn_enabled {str(info.cdn_enabled).lower()}, percent "
            f"{info.percent}) until it can read the store; check with: {check}"
        )
    print(f"{PROG}: {line}", file=sys.stderr)
    print_json(
        {
            "outcome": outcome,
            "store": info.store,
            "store_healthy": info.store_healthy,
            "store_error": info.store_error,
            "in_force": {k: getattr(info, k) for k in FLAG},
            "requested": {
                "percent": new_percent,
                "cdn_enabled": enabled,
                "revision": sent.revision + 1,
            },
        }
    )
    return 0 if ours else EXIT_OUTCOME_UNKNOWN


def cmd_invalidate(args: argparse.Namespace) -> int:
    with client(args) as c:
        reference = args.caller_reference or uuid.uuid4().hex
        return call(lambda: print_json(c.invalidate(args.refs, reference)))


def _register_rollout(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from image_ops.gating.cli import register as register_gated

    rollout = sub.add_parser("rollout", help="read or change the CDN rollout (needs ADMIN_TOKEN)")
    rsub = rollout.add_subparsers(dest="rollout_command", required=True)
    get = rsub.add_parser("get", help="print the rollout in force")
    client_args(get)
    get.set_defaults(func=cmd_rollout_get)
    setp = rsub.add_parser(
        "set",
        help="change percent and/or the kill switch; prints before/after",
        description="Compare-and-set the rollout. " + SET_EXIT_CODES,
    )
    setp.add_argument("--percent", type=percent)
    switch = setp.add_mutually_exclusive_group()
    switch.add_argument("--enable-cdn", dest="cdn_enabled", action="store_const", const=True)
    switch.add_argument("--disable-cdn", dest="cdn_enabled", action="store_const", const=False)
    setp.add_argument("--by", type=author, default=operator(), help="who (audit trail)")
    setp.add_argument(
        "--wait",
        type=float,
        default=5.0,
        help="after an unanswered write, re-read for up to this many seconds (default 5)",
    )
    client_args(setp)
    setp.set_defaults(func=cmd_rollout_set)
    register_gated(rsub)


def build_parser() -> argparse.ArgumentParser:
    from image_ops.accesslogs.cli import register as register_logs
    from image_ops.probe.cli import register as register_probe

    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    resolve = sub.add_parser("resolve", help="resolve one key or legacy URL on a running server")
    resolve.add_argument("ref")
    resolve.add_argument("--version", default="", help="cache-busting version (?v=)")
    resolve.add_argument("--user-id", default="", help="viewer, for rollout stickiness")
    client_args(resolve)
    resolve.set_defaults(func=cmd_resolve)

    register_health(sub, PROG)
    _register_rollout(sub)

    inval = sub.add_parser("invalidate", help="purge keys/URLs from CloudFront (needs ADMIN_TOKEN)")
    inval.add_argument("refs", nargs="+")
    inval.add_argument("--caller-reference", help="idempotency token (default: random)")
    client_args(inval)
    inval.set_defaults(func=cmd_invalidate)

    register_logs(sub)
    register_probe(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if (
        getattr(args, "rollout_command", None) == "set"
        and args.percent is None
        and args.cdn_enabled is None
    ):
        print(
            f"{PROG}: rollout set needs --percent and/or --enable-cdn/--disable-cdn",
            file=sys.stderr,
        )
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
