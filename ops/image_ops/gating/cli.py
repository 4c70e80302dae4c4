"""`image-ops rollout advance|auto`. The exit codes are gating/exits.py's (printed by
--help, listed in docs/rollout-gates.md): 0 ok, 1 refused, 2 usage, 3 unreachable,
4 not recorded (the flag did not move), 5 rolled back, 6 uncertain."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from image_ops.gating import exits
from image_ops.textsafe import safe_text

MAX_REASON = 500


def _say(text: str) -> None:
    """Gate output on stdout, escaped: check details quote files, alarms and servers."""
    print(safe_text(text))


def _error(text: str) -> None:
    print(f"image-ops rollout: {safe_text(text)}", file=sys.stderr)


def _forced(args: argparse.Namespace) -> str | None:
    """--force --reason: allowed only with every source skipped; the reason is recorded.
    ConfigError (exit 2) for any other combination."""
    from image_ops.gates.config import ConfigError
    from image_ops.gating.evidence import SOURCES

    skipped = set(args.skip or [])
    reason = (args.reason or "").strip()
    if args.reason is not None and not args.force:
        raise ConfigError("--reason goes with --force")
    if args.force:
        if skipped != set(SOURCES):
            raise ConfigError(
                "--force is only for moving with every source skipped "
                f"(--skip {' --skip '.join(SOURCES)}); it never overrides a failing gate"
            )
        if not reason:
            raise ConfigError('--force needs --reason "why there is no evidence"')
        if len(reason) > MAX_REASON:
            raise ConfigError(f"--reason: at most {MAX_REASON} characters")
        return reason
    if skipped == set(SOURCES):
        raise ConfigError(
            "every evidence source is skipped: give at least one, or --force --reason TEXT "
            "to move on no evidence (the reason goes into the audit trail)"
        )
    return None


def _gate(args: argparse.Namespace, client: Any) -> Any:
    from image_ops.gates.config import ConfigError, load, parse_duration
    from image_ops.gating.advance import Gate
    from image_ops.gating.audit import audit_path
    from image_ops.gating.evidence import Sources

    config = load(
        args.config or (Path(p) if (p := os.environ.get("ROLLOUT_GATES_CONFIG")) else None)
    )
    if args.window:
        try:
            config = config.model_copy(update={"window": parse_duration(args.window)})
        except ValueError as exc:
            raise ConfigError(f"--window: {exc}") from None

    def cloudwatch() -> Any:
        import boto3

        return boto3.client(
            "cloudwatch",
            region_name=args.alarm_region,
            endpoint_url=args.cloudwatch_endpoint_url,
        )

    sources = Sources(
        logs=list(args.logs or []),
        logs_endpoint_url=args.logs_endpoint_url,
        probe_results=args.probe_results,
        cloudwatch=cloudwatch,
        skip=frozenset(args.skip or []),
    )
    return Gate(
        client,
        config,
        sources,
        audit_path(args.audit_log),
        args.by,
        say=_say,
        forced=_forced(args),
        warn=lambda text: print(safe_text(text), file=sys.stderr),
    )


def _run(args: argparse.Namespace, action: Any) -> int:
    """Every path ends in one of exits.ALL."""
    from image_ops.connect import client as _client
    from image_ops.gates.config import ConfigError
    from image_ops.gating.advance import EXIT_OF, MovedButNotRecorded, NotAdvancing
    from image_ops.gating.audit import AuditError
    from wishlist_images_client import ResolverCallError

    try:
        _forced(args)  # a usage mistake is found before anything is contacted
        with _client(args) as client:
            outcome = action(_gate(args, client))
    except (ConfigError, NotAdvancing) as exc:
        _error(str(exc))
        return exits.USAGE.code
    except ResolverCallError as exc:
        _error(f"{exc.code.name}: {exc.message}")
        return exits.UNREACHABLE.code
    except AuditError as exc:
        _error(f"audit trail: {exc}; the flag did not move")
        return exits.NOT_RECORDED.code
    except MovedButNotRecorded as exc:
        _error(str(exc))
        return exits.UNCERTAIN.code
    return EXIT_OF[outcome].code


def cmd_advance(args: argparse.Namespace) -> int:
    return _run(args, lambda gate: gate.advance(args.to, dry_run=args.dry_run))


def cmd_auto(args: argparse.Namespace) -> int:
    def walk(gate: Any) -> Any:
        steps = args.steps or gate.config.auto.steps
        if args.soak:
            from image_ops.gates.config import ConfigError, parse_duration

            try:
                soak = parse_duration(args.soak)
            except ValueError as exc:
                raise ConfigError(f"--soak: {exc}") from None
            auto = gate.config.auto.model_copy(update={"soak": soak})
            gate.config = gate.config.model_copy(update={"auto": auto})
        return gate.auto(sorted(steps))

    return _run(args, walk)


def _evidence_args(p: argparse.ArgumentParser, user: str) -> None:
    from image_ops.gating.evidence import SOURCES

    p.add_argument(
        "--config", type=Path, help="gates file (default: ROLLOUT_GATES_CONFIG, else built-in)"
    )
    p.add_argument("--window", help="evidence window, e.g. 1h (default: the gates file's)")
    p.add_argument(
        "--logs",
        action="append",
        metavar="PATH|s3://BUCKET/PREFIX",
        help="CloudFront access logs (repeatable)",
    )
    p.add_argument("--logs-endpoint-url", help="S3 endpoint for s3:// logs and probe results")
    p.add_argument("--probe-results", help="the latest `probe --json-out` file or s3:// object")
    p.add_argument("--alarm-region", default="us-east-1", help="where the CloudFront alarms live")
    p.add_argument("--cloudwatch-endpoint-url", help="CloudWatch endpoint (a local stand-in)")
    p.add_argument(
        "--skip",
        action="append",
        choices=SOURCES,
        help="leave a source out (recorded in the audit trail); not all of them without --force",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="move with every source skipped (no gate at all); needs --reason; never "
        "overrides a failing gate",
    )
    p.add_argument("--reason", help="why --force: recorded in every record of the run")
    p.add_argument(
        "--audit-log", help="JSONL trail (default: ROLLOUT_AUDIT_LOG or ./rollout-audit.jsonl)"
    )
    from image_ops.connect import author

    p.add_argument("--by", type=author, default=user, help="who (audit trail)")


def register(rsub: Any) -> None:
    from image_ops.connect import client_args, operator
    from image_ops.connect import percent as _percent

    user = operator()
    kinds = {"epilog": exits.help_text(), "formatter_class": argparse.RawDescriptionHelpFormatter}
    adv = rsub.add_parser(
        "advance", help="raise the rollout only if every evidence gate passes", **kinds
    )
    adv.add_argument("--to", type=_percent, required=True, help="new percent (above the current)")
    adv.add_argument("--dry-run", action="store_true", help="check and record, do not move")
    _evidence_args(adv, user)
    client_args(adv)
    adv.set_defaults(func=cmd_advance)
    auto = rsub.add_parser(
        "auto", help="walk the steps with soak; kill switch on a failed gate", **kinds
    )
    auto.add_argument("--steps", type=_percent, nargs="+", help="percents (default: gates file)")
    auto.add_argument("--soak", help="soak per step, e.g. 30m (default: gates file)")
    _evidence_args(auto, user)
    client_args(auto)
    auto.set_defaults(func=cmd_auto)
