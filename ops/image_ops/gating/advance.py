"""`rollout advance` and `rollout auto`: move the flag only on passing evidence.

advance: gather every gate; all pass -> compare-and-set SetRollout to the new percent
(someone else's change meanwhile -> refused, nothing overwritten); any fails -> the flag
stays. auto: advance through the steps, re-checking the gates during each step's soak;
a failed gate pulls the kill switch (cdn_enabled=false) with the failed gates as reason.
Every decision is appended to the audit trail before the command returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from image_ops.gates.config import GateConfig, show_duration
from image_ops.gating import audit
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


KILL_FAILED = "kill-switch-failed"
KILL_ATTEMPTS = 3


class NotAdvancing(ValueError):
    """The request itself is wrong (not a raise, kill switch on): a usage error, exit 2."""


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

    def evidence(self) -> Evidence:
        return gather(self.sources, self.config, self.now())

    def record(self, action: str, decision: str, evidence: Evidence | None, **extra: Any) -> None:
        audit.append(
            self.audit_log,
            {
                "at": self.now().isoformat(timespec="seconds"),
                "who": self.who,
                "action": action,
                "decision": decision,
                "failed": [c.as_dict() for c in evidence.failed] if evidence else [],
                "checks": [c.as_dict() for c in evidence.checks] if evidence else [],
                "evidence": evidence.summary if evidence else {},
                "window": show_duration(self.config.window),
                **extra,
            },
        )

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
        if not evidence.passed:
            self.record(action, REFUSED, evidence, **step)
            self.say(
                f"REFUSED: {len(evidence.failed)} of {len(evidence.checks)} gates failed; "
                f"the flag stays at {current.percent}% (revision {current.revision}). "
                f"Audit: {self.audit_log}"
            )
            return REFUSED
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

        try:
            _, after = self.client.set_rollout(
                percent=to,
                cdn_enabled=True,
                expected_revision=current.revision,
                updated_by=cut_author(f"{action}:{self.who}"),
            )
        except ResolverCallError as exc:
            if exc.code != grpc.StatusCode.ABORTED:
                raise
            self.record(action, CONFLICT, evidence, **step, error=exc.message)
            self.say(f"REFUSED: the flag changed meanwhile ({exc.message}); nothing written")
            return CONFLICT
        self.record(action, MOVED, evidence, **step, revision_after=after.revision)
        self.say(
            f"MOVED: {current.percent}% -> {after.percent}% (revision {current.revision} -> "
            f"{after.revision}). Audit: {self.audit_log}"
        )
        return MOVED

    def kill(self, evidence: Evidence, percent: int) -> str:
        """Pull the kill switch whatever the revision now is (re-read and retry on a race):
        stopping the CDN must not lose to a concurrent writer. A switch that could not be
        pulled is recorded as such and raised, never reported as a rollback."""
        import grpc

        from wishlist_images_client import ResolverCallError

        reason = "; ".join(c.line() for c in evidence.failed)
        for attempt in range(KILL_ATTEMPTS):
            current = self.client.get_rollout()
            try:
                self.client.set_rollout(
                    percent=current.percent,
                    cdn_enabled=False,
                    expected_revision=current.revision,
                    updated_by=cut_author(f"auto-kill:{self.who}"),
                )
                break
            except ResolverCallError as exc:
                if exc.code != grpc.StatusCode.ABORTED or attempt == KILL_ATTEMPTS - 1:
                    self.record(
                        "auto",
                        KILL_FAILED,
                        evidence,
                        at_percent=percent,
                        reason=reason,
                        error=f"{exc.code.name}: {exc.message}",
                    )
                    raise
        self.record("auto", ROLLED_BACK, evidence, at_percent=percent, reason=reason)
        self.say(f"ROLLED BACK: kill switch pulled at {percent}% (CDN off for everyone): {reason}")
        return ROLLED_BACK

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
            if not evidence.passed:
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
