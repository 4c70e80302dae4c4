"""`image-ops rollout advance|auto`. Exit 0: moved (or a passing dry run); 1: refused
by a gate, or rolled back; 2: usage or config mistake; 3: the flag or the trail could
not be reached (nothing decided)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3


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
    return Gate(client, config, sources, audit_path(args.audit_log), args.by)


def _run(args: argparse.Namespace, action: Any) -> int:
    from image_ops.connect import client as _client
    from image_ops.gates.config import ConfigError
    from image_ops.gating.advance import DRY_RUN, MOVED, NotAdvancing
    from wishlist_images_client import ResolverCallError

    try:
        with _client(args) as client:
            outcome = action(_gate(args, client))
    except (ConfigError, NotAdvancing) as exc:
        print(f"image-ops rollout: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ResolverCallError as exc:
        print(f"image-ops rollout: {exc.code.name}: {exc.message}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except OSError as exc:  # the audit trail could not be written
        print(f"image-ops rollout: audit trail: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    return 0 if outcome in (MOVED, DRY_RUN) else EXIT_REFUSED


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
        help="leave a source out (recorded in the audit trail)",
    )
    p.add_argument(
        "--audit-log", help="JSONL trail (default: ROLLOUT_AUDIT_LOG or ./rollout-audit.jsonl)"
    )
    from image_ops.connect import author

    p.add_argument("--by", type=author, default=user, help="who (audit trail)")


def register(rsub: Any) -> None:
    from image_ops.connect import client_args, operator
    from image_ops.connect import percent as _percent

    user = operator()
    adv = rsub.add_parser("advance", help="raise the rollout only if every evidence gate passes")
    adv.add_argument("--to", type=_percent, required=True, help="new percent (above the current)")
    adv.add_argument("--dry-run", action="store_true", help="check and record, do not move")
    _evidence_args(adv, user)
    client_args(adv)
    adv.set_defaults(func=cmd_advance)
    auto = rsub.add_parser("auto", help="walk the steps with soak; kill switch on a failed gate")
    auto.add_argument("--steps", type=_percent, nargs="+", help="percents (default: gates file)")
    auto.add_argument("--soak", help="soak per step, e.g. 30m (default: gates file)")
    _evidence_args(auto, user)
    client_args(auto)
    auto.set_defaults(func=cmd_auto)
