"""`image-ops`: operate a running image-resolver: resolve, rollout (get, set, advance,
auto), invalidate, health, logs (the access-log report), probe."""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Sequence

from image_ops.connect import (
    PROG,
    author,
    call,
    client,
    client_args,
    operator,
    percent,
    print_json,
)
from wishlist_runtime.grpc_cli import register_health


def cmd_resolve(args: argparse.Namespace) -> int:
    from wishlist_images_client import ImageRef

    with client(args) as c:
        return call(
            lambda: print_json(c.resolve(ImageRef(args.ref, args.version), user_id=args.user_id))
        )


def cmd_rollout_get(args: argparse.Namespace) -> int:
    with client(args) as c:
        return call(lambda: print_json(c.get_rollout()))


def cmd_rollout_set(args: argparse.Namespace) -> int:
    with client(args) as c:

        def change() -> None:
            current = c.get_rollout()
            new_percent = current.percent if args.percent is None else args.percent
            enabled = current.cdn_enabled if args.cdn_enabled is None else args.cdn_enabled
            before, after = c.set_rollout(
                percent=new_percent,
                cdn_enabled=enabled,
                expected_revision=current.revision,
                updated_by=args.by,
            )
            # The write's answer carries the flag only; where it lives is the read's.
            flag = ("percent", "cdn_enabled", "revision", "updated_by", "updated_at")
            print_json(
                {
                    "store": current.store,
                    "before": {k: getattr(before, k) for k in flag},
                    "after": {k: getattr(after, k) for k in flag},
                }
            )

        return call(change)


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
    setp = rsub.add_parser("set", help="change percent and/or the kill switch; prints before/after")
    setp.add_argument("--percent", type=percent)
    switch = setp.add_mutually_exclusive_group()
    switch.add_argument("--enable-cdn", dest="cdn_enabled", action="store_const", const=True)
    switch.add_argument("--disable-cdn", dest="cdn_enabled", action="store_const", const=False)
    setp.add_argument("--by", type=author, default=operator(), help="who (audit trail)")
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
