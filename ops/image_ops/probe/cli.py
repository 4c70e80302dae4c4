"""`image-ops probe`: exit 0 when every target is met, 1 when one is missed, 2 for a
usage or config mistake, 3 when there is no evidence (resolver unreachable, results not
written)."""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

EXIT_MISSED, EXIT_USAGE, EXIT_NO_EVIDENCE = 1, 2, 3
MAX_KEYS = 500
MAX_USERS = 1000
# Below the CronJob's activeDeadlineSeconds (240): the probe stops loading here and still has
# time to write its (partial) result before the Job is killed.
DEFAULT_DEADLINE_SECONDS = 180.0
MAX_DEADLINE_SECONDS = 3600.0


def _pin(text: str) -> tuple[str, str]:
    host, sep, addr = text.partition("=")
    if not sep or not host or not addr:
        raise argparse.ArgumentTypeError("use HOST=ADDRESS, e.g. cdn.localhost=127.0.0.1")
    return host.lower(), addr


def _bounded(low: int, high: int) -> Any:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def _deadline(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("seconds, e.g. 180") from None
    if not 0 < value <= MAX_DEADLINE_SECONDS:
        limit = f"{MAX_DEADLINE_SECONDS:g}"
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {limit}")
    return value


def _keys(args: argparse.Namespace) -> list[str]:
    keys = list(args.key or [])
    if args.keys_file:
        try:
            text = Path(args.keys_file).read_text("utf-8", errors="replace")
        except OSError as exc:
            raise ValueError(f"--keys-file: {exc.strerror}") from None
        keys += [
            line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
        ]
    if not keys:
        raise ValueError("name image keys with --key or --keys-file")
    if len(keys) > MAX_KEYS:
        raise ValueError(f"at most {MAX_KEYS} keys")
    return keys


def cmd_probe(args: argparse.Namespace) -> int:
    import ssl

    from botocore.exceptions import BotoCoreError, ClientError

    from image_ops.connect import client as _client
    from image_ops.gates.config import ConfigError, load
    from image_ops.probe import output, results, sampling, summary, urls
    from wishlist_images_client import ResolverCallError

    deadline = time.monotonic() + args.deadline
    try:
        config = load(args.config)
        keys = _keys(args)
        tls = ssl.create_default_context(cafile=args.ca_file) if args.ca_file else None
        policy = urls.policy_from_args(args)
    except (ConfigError, ValueError, OSError) as exc:
        print(f"image-ops probe: {exc}", file=sys.stderr)
        return EXIT_USAGE
    users = args.user or [f"probe-user-{i}" for i in range(args.users)]
    try:
        with _client(args) as client:
            sampled = sampling.run(
                client,
                keys,
                users,
                rounds=args.rounds,
                pinned=dict(args.resolve or []),
                tls=tls,
                timeout=args.request_timeout,
                deadline=deadline,
                policy=policy,
            )
    except ResolverCallError as exc:
        print(f"image-ops probe: resolver: {exc.code.name}: {exc.message}", file=sys.stderr)
        return EXIT_NO_EVIDENCE
    except ValueError as exc:
        print(f"image-ops probe: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if sampled.partial:
        print(
            f"image-ops probe: deadline of {args.deadline:g} s reached after "
            f"{len(sampled.samples)} of {sampled.planned} loads; the result is marked partial",
            file=sys.stderr,
        )
    report = summary.summarise(
        sampled.samples, config, planned=sampled.planned, partial=sampled.partial
    )
    sys.stdout.write(output.to_text(report))
    metrics = output.to_prometheus(report, time.time())
    try:
        if args.json_out:
            results.write(args.json_out, output.to_json(report), endpoint_url=args.s3_endpoint_url)
        if args.prom_out:
            output.write_atomic(args.prom_out, metrics)
        if args.push_gateway:
            results.push(args.push_gateway, metrics, args.instance)
    except (OSError, ValueError, BotoCoreError, ClientError) as exc:
        print(f"image-ops probe: could not write results: {exc}", file=sys.stderr)
        return EXIT_NO_EVIDENCE
    return 0 if report["passed"] else EXIT_MISSED


def register(sub: Any) -> None:
    from image_ops.connect import client_args

    p = sub.add_parser("probe", help="load sample images through the CDN and S3; check the targets")
    p.add_argument("--key", action="append", help="image key to load (repeatable)")
    p.add_argument("--keys-file", help="file with one key per line")
    p.add_argument("--user", action="append", help="sample user id (repeatable)")
    p.add_argument(
        "--users",
        type=_bounded(1, MAX_USERS),
        default=20,
        help="number of synthetic users probe-user-N (default 20) when no --user",
    )
    p.add_argument("--rounds", type=_bounded(1, 10), default=1, help="loads per URL (default 1)")
    p.add_argument(
        "--resolve",
        action="append",
        type=_pin,
        metavar="HOST=ADDR",
        help="connect to ADDR for HOST, skipping DNS (like curl --resolve); localhost and "
        "*.localhost need none: they are loopback (127.0.0.1, then ::1), as in a browser",
    )
    p.add_argument("--ca-file", help="PEM CA to trust for HTTPS (default: system roots)")
    from image_ops.probe.urls import add_host_args

    add_host_args(p)
    p.add_argument("--request-timeout", type=float, default=10.0, help="per image, seconds")
    p.add_argument(
        "--deadline",
        type=_deadline,
        default=DEFAULT_DEADLINE_SECONDS,
        help="total seconds for the run (default 180, below the CronJob's 240 s limit): then "
        "it stops loading, writes what it has marked partial (probe.complete fails) and exits",
    )
    p.add_argument("--config", type=Path, help="gates file (default: packaged defaults.toml)")
    p.add_argument("--json-out", help="write the full report (JSON) here: a path or s3://B/KEY")
    p.add_argument("--s3-endpoint-url", help="S3 endpoint for an s3:// --json-out (a stand-in)")
    p.add_argument("--push-gateway", help="also PUT the metrics to this Pushgateway URL")
    p.add_argument(
        "--instance",
        default=os.environ.get("PROBE_INSTANCE") or socket.gethostname(),
        help="Pushgateway instance label (default: PROBE_INSTANCE or the host name)",
    )
    p.add_argument("--prom-out", type=Path, help="write Prometheus textfile metrics here")
    client_args(p)
    p.set_defaults(func=cmd_probe)
