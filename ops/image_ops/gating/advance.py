"""`rollout advance` and `rollout auto`: move the flag only on passing evidence, and only
once the intent to move is in the audit trail.

advance: gather every gate; any fails (or gives no data) -> the flag stays, recorded as
`refused`. All pass -> record the intent (fsynced), compare-and-set SetRollout to the new
percent (someone else's change meanwhile -> `conflict`, nothing overwritten), record the
outcome. An intent that cannot be recorded stops the move: AuditError, nothing written.

auto: advance through the steps, re-checking the gates during each step's soak; a failed
gate pulls the kill switch (cdn_enabled=false) with the failed gates as reason. The kill
switch is the one move made even when its intent cannot be recorded: it is the safe
direction (every user back on S3), and refusing it because a disk is full would keep
users on a CDN the gates just failed. That case ends UNCERTAIN (exit 6) with the record
printed on stderr, to be filed by hand.

Decisions map to exit codes in `EXIT_OF` (exits.py holds the codes and their meanings).
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from image_ops.gates.config import GateConfig, show_duration
from image_ops.gating import audit, exits
from image_ops.gating.audit import AuditError
from image_ops.gating.evidence import Evidence, Sources, gather
from wishlist_runtime.values import cut_author

if TYPE_CHECKING:
    from wishlist_images_client import ImageResolverClient

MOVED, REFUSED, DRY_RUN, ROLLED_BACK, CONFLICT = (
    "moved",
    "refused",
    "dry-run",
    "rolled-back",
    "conflict",
)
INTENT = "intent"
FAILED = "failed"  # the resolver refused the write outright: the flag did not move
UNKNOWN = "unknown"  # the write's answer never came (deadline, connection lost)
KILL_FAILED = "kill-switch-failed"
KILL_UNKNOWN = "kill-switch-unknown"
KILL_ATTEMPTS = 3
# Outcomes after which the flag has moved, or may have: a trail failing then is not "the
# flag did not move" (exit 4) but MovedButNotRecorded (exit 6).
_MAY_HAVE_MOVED = frozenset({"moved", "rolled-back", "unknown", "kill-switch-unknown"})

EXIT_OF: dict[str, exits.Exit] = {
    MOVED: exits.OK,
    DRY_RUN: exits.OK,
    REFUSED: exits.REFUSED,
    CONFLICT: exits.REFUSED,
    FAILED: exits.UNREACHABLE,
    UNKNOWN: exits.UNCERTAIN,
    ROLLED_BACK: exits.ROLLED_BACK,
    KILL_FAILED: exits.UNREACHABLE,
    KILL_UNKNOWN: exits.UNCERTAIN,
}

# gRPC codes that mean the server did not apply the write. Anything else (DEADLINE_EXCEEDED,
# UNAVAILABLE, CANCELLED, INTERNAL, UNKNOWN, ...) may have been applied, or may still be.
_NOT_APPLIED = frozenset(
    {
        "INVALID_ARGUMENT",
        "PERMISSION_DENIED",
        "UNAUTHENTICATED",
        "FAILED_PRECONDITION",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "RESOURCE_EXHAUSTED",
    }
)


class NotAdvancing(ValueError):
    """The request itself is wrong (not a raise, kill switch on): a usage error, exit 2."""


class MovedButNotRecorded(Exception):
    """The flag moved (or may have) and its outcome could not be recorded: exit 6."""

    def __init__(self, message: str, record: dict[str, Any]) -> None:
        super().__init__(message)
        self.record = record


def _stderr(text: str) -> None:
    print(text, file=sys.stderr)


@dataclass
class Gate:
    """What advance and auto share: the flag's client, the evidence, the trail, the clock."""

    client: ImageResolverClient
    config: GateConfig
    sources: Sources
    audit_log: Path
    who: str
    say: Callable[[str], None] = print
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], None] = time.sleep
    forced: str | None = None  # --force --reason: move with every source skipped
    warn: Callable[[str], None] = _stderr
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def evidence(self) -> Evidence:
        return gather(self.sources, self.config, self.now())

    def trusts(self, evidence: Evidence) -> bool:
        """Every gate passed; or there is no gate at all and --force said why."""
        return evidence.passed or (self.forced is not None and not evidence.checks)

    def _entry(
        self, action: str, decision: str, evidence: Evidence | None, **extra: Any
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "at": self.now().isoformat(timespec="seconds"),
            "who": self.who,
            "run": self.run,
            "action": action,
            "decision": decision,
        }
        if evidence is not None:
            entry.update(
                failed=[c.as_dict() for c in evidence.failed],
                checks=[c.as_dict() for c in evidence.checks],
                evidence=evidence.summary,
                window=show_duration(self.config.window),
            )
        if self.forced is not None:
            entry["forced"] = self.forced
        entry.update(extra)
        return entry

    def record(self, action: str, decision: str, evidence: Evidence | None, **extra: Any) -> None:
        """Append one record; AuditError when the trail cannot take it."""
        audit.append(self.audit_log, self._entry(action, decision, evidence, **extra))

    def _intent(self, action: str, evidence: Evidence, **extra: Any) -> str:
        """Record what is about to be written (fsynced); its id links the outcome."""
        intent_id = uuid.uuid4().hex[:12]
        self.record(action, INTENT, evidence, intent_id=intent_id, **extra)
        return intent_id

    def _outcome(self, action: str, decision: str, intent_id: str, **extra: Any) -> None:
        """Record the outcome of a write. If the flag has (or may have) moved, a trail that
        fails now is MovedButNotRecorded, never a silent success; if it did not move, the
        AuditError stands (exit 4)."""
        entry = self._entry(action, decision, None, intent_id=intent_id, **extra)
        try:
            audit.append(self.audit_log, entry)
        except AuditError as exc:
            if decision not in _MAY_HAVE_MOVED:
                raise
            raise MovedButNotRecorded(
                f"{decision.upper()}, but the outcome could not be recorded ({exc}); the trail "
                f"holds the intent {intent_id}. The record, to file by hand: "
                + json.dumps(entry, sort_keys=True, default=str),
                entry,
            ) from exc

    def show(self, evidence: Evidence) -> None:
        for c in evidence.checks:
            self.say(c.line())

    def advance(self, to: int, *, dry_run: bool = False, action: str = "advance") -> str:
        current = self.client.get_rollout()
        if not current.cdn_enabled:
            raise NotAdvancing(
                "the kill switch is on (cdn_enabled=false): find out why, then "
                "`rollout set --enable-cdn` before advancing"
            )
        if to <= current.percent:
            raise NotAdvancing(
                f"--to {to} is not above the current {current.percent}%; "
                "lower it with `rollout set --percent`"
            )
        window = show_duration(self.config.window)
        self.say(f"rollout {action} {current.percent}% -> {to}% (window {window})")
        evidence = self.evidence()
        self.show(evidence)
        step = {"from": current.percent, "to": to, "revision": current.revision}
        if not self.trusts(evidence):
            self.record(action, REFUSED, evidence, **step)
            why = (
                f"{len(evidence.failed)} of {len(evidence.checks)} gates failed"
                if evidence.checks
                else "no gate at all (every source skipped)"
            )
            self.say(
                f"REFUSED: {why}; the flag stays at {current.percent}% "
                f"(revision {current.revision}). Audit: {self.audit_log}"
            )
            return REFUSED
        if not evidence.checks:
            self.say(f"FORCED: every evidence source skipped; reason: {self.forced}")
        if dry_run:
            self.record(action, DRY_RUN, evidence, **step)
            self.say(
                f"DRY RUN: all {len(evidence.checks)} gates passed; would move "
                f"{current.percent}% -> {to}%. Audit: {self.audit_log}"
            )
            return DRY_RUN
        return self._move(action, to, current, evidence, step)

    def _move(
        self, action: str, to: int, current: Any, evidence: Evidence, step: dict[str, Any]
    ) -> str:
        import grpc

        from wishlist_images_client import ResolverCallError

        intent_id = self._intent(
            action, evidence, write={"percent": to, "cdn_enabled": True}, **step
        )
        try:
            _, after = self.client.set_rollout(
                percent=to,
                cdn_enabled=True,
                expected_revision=current.revision,
                updated_by=cut_author(f"{action}:{self.who}"),
            )
        except ResolverCallError as exc:
            error = f"{exc.code.name}: {exc.message}"
            if exc.code == grpc.StatusCode.ABORTED:
                self._outcome(action, CONFLICT, intent_id, **step, error=error)
                self.say(f"REFUSED: the flag changed meanwhile ({exc.message}); nothing written")
                return CONFLICT
            if exc.code.name in _NOT_APPLIED:
                self._outcome(action, FAILED, intent_id, **step, error=error)
                self.say(f"FAILED: the resolver refused the write ({error}); the flag did not move")
                return FAILED
            return self._unknown(action, intent_id, current, step, error)
        self._outcome(action, MOVED, intent_id, **step, revision_after=after.revision)
        self.say(
            f"MOVED: {current.percent}% -> {after.percent}% (revision {current.revision} -> "
            f"{after.revision}). Audit: {self.audit_log}"
        )
        return MOVED

    def _reread(self) -> tuple[Any, str]:
        """The flag as it reads now, or why it could not be read."""
        from wishlist_images_client import ResolverCallError

        try:
            return self.client.get_rollout(), ""
        except ResolverCallError as exc:
            return None, f"{exc.code.name}: {exc.message}"

    def _unknown(
        self, action: str, intent_id: str, current: Any, step: dict[str, Any], error: str
    ) -> str:
        """SetRollout gave no answer: re-read, and say what is known. Ours landed if the
        flag now has a new revision written by us with the new percent."""
        now, why = self._reread()
        ours = f"{action}:{self.who}"[:128]
        landed = (
            now is not None
            and now.revision != current.revision
            and now.updated_by == ours
            and now.percent == step["to"]
            and now.cdn_enabled
        )
        if landed:
            self._outcome(action, MOVED, intent_id, **step, revision_after=now.revision)
            self.say(
                f"MOVED: {current.percent}% -> {now.percent}% (the answer was lost: {error}; "
                f"re-read revision {now.revision}). Audit: {self.audit_log}"
            )
            return MOVED
        state = (
            f"it now reads {now.percent}% cdn_enabled={now.cdn_enabled} revision {now.revision}"
            if now is not None
            else f"it cannot be re-read ({why})"
        )
        self._outcome(action, UNKNOWN, intent_id, **step, error=error, reread=state)
        self.say(
            f"UNKNOWN: SetRollout gave no answer ({error}); {state}. The write may still land: "
            "check with `image-ops rollout get` before acting again."
        )
        return UNKNOWN

    def kill(self, evidence: Evidence, percent: int) -> str:
        """Pull the kill switch whatever the revision now is (re-read and retry on a race):
        stopping the CDN must not lose to a concurrent writer, nor to a full disk (see the
        module docstring). A switch that could not be pulled is recorded as such and
        reported, never as a rollback."""
        import grpc

        from wishlist_images_client import ResolverCallError

        reason = "; ".join(c.line() for c in evidence.failed)
        detail = {"at_percent": percent, "reason": reason}
        intent_id = uuid.uuid4().hex[:12]
        unrecorded: AuditError | None = None
        try:
            self.record(
                "auto",
                INTENT,
                evidence,
                intent_id=intent_id,
                write={"cdn_enabled": False},
                **detail,
            )
        except AuditError as exc:
            unrecorded = exc
            self.warn(f"image-ops rollout: audit trail: {exc}; pulling the kill switch anyway")
        decision, error = ROLLED_BACK, ""
        for attempt in range(KILL_ATTEMPTS):
            try:
                current = self.client.get_rollout()
                self.client.set_rollout(
                    percent=current.percent,
                    cdn_enabled=False,
                    expected_revision=current.revision,
                    updated_by=cut_author(f"auto-kill:{self.who}"),
                )
                decision = ROLLED_BACK
                break
            except ResolverCallError as exc:
                error = f"{exc.code.name}: {exc.message}"
                if exc.code == grpc.StatusCode.ABORTED and attempt < KILL_ATTEMPTS - 1:
                    continue
                aborted = exc.code == grpc.StatusCode.ABORTED
                decision = KILL_FAILED if aborted or exc.code.name in _NOT_APPLIED else KILL_UNKNOWN
                break
        if decision == KILL_UNKNOWN:
            now, _ = self._reread()
            if now is not None and not now.cdn_enabled:
                decision = ROLLED_BACK
        extra = {**detail, **({"error": error} if decision != ROLLED_BACK else {})}
        if unrecorded is None:
            self._outcome("auto", decision, intent_id, **extra)
        if decision == ROLLED_BACK:
            self.say(
                f"ROLLED BACK: kill switch pulled at {percent}% (CDN off for everyone): {reason}"
            )
        elif decision == KILL_FAILED:
            self.say(
                f"KILL SWITCH NOT PULLED ({error}) at {percent}%: {reason}. Pull it by hand: "
                "image-ops rollout set --disable-cdn"
            )
        else:
            self.say(
                f"KILL SWITCH UNKNOWN: SetRollout gave no answer ({error}); check with "
                "`image-ops rollout get`, and pull it by hand if still on: "
                "image-ops rollout set --disable-cdn"
            )
        if unrecorded is not None:
            entry = self._entry("auto", decision, evidence, intent_id=intent_id, **extra)
            text = json.dumps(entry, sort_keys=True, default=str)
            if decision not in _MAY_HAVE_MOVED:  # nothing moved: the failure is the switch's
                self.warn(f"image-ops rollout: not recorded ({unrecorded}): {text}")
                return decision
            raise MovedButNotRecorded(
                f"{decision.upper()} with the audit trail unwritable ({unrecorded}). The record, "
                f"to file by hand: {text}",
                entry,
            )
        return decision

    def soak(self, percent: int) -> str | None:
        """Re-check the gates every `check_every` until `soak` has passed; the kill switch
        on the first failure."""
        auto = self.config.auto
        deadline = time.monotonic() + auto.soak.total_seconds()
        while True:
            wait = min(auto.check_every.total_seconds(), deadline - time.monotonic())
            if wait <= 0:
                return None
            self.sleep(wait)
            evidence = self.evidence()
            if not self.trusts(evidence):
                self.show(evidence)
                return self.kill(evidence, percent)
            self.say(f"soak at {percent}%: {len(evidence.checks)} gates pass")

    def auto(self, steps: list[int]) -> str:
        current = self.client.get_rollout()
        for to in steps:
            if to <= current.percent:
                continue
            outcome = self.advance(to, action="auto")
            if outcome != MOVED:
                return outcome
            soaked = self.soak(to)
            if soaked is not None:
                return soaked
            current = self.client.get_rollout()
        self.say(f"DONE: rollout at {current.percent}%")
        return MOVED
