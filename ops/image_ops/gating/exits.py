"""The exit codes of `rollout advance` and `rollout auto`, defined once: the CLI's help,
its return values and docs/rollout-gates.md all come from (or are checked against) this
table. Every path of the two commands ends in exactly one of them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Exit:
    code: int
    name: str
    meaning: str


OK = Exit(0, "ok", "moved, a dry run passed, or auto reached its last step; recorded")
REFUSED = Exit(
    1,
    "refused",
    "a gate failed (or gave no data), or the flag changed meanwhile: the flag did not move; "
    "recorded with the failed gates",
)
USAGE = Exit(
    2,
    "usage",
    "a usage or gates-file mistake (also: every source skipped without --force): nothing "
    "was decided or recorded, the flag did not move",
)
UNREACHABLE = Exit(
    3,
    "unreachable",
    "the resolver could not be reached, or refused the write outright: the flag did not "
    "move (what was attempted is recorded)",
)
NOT_RECORDED = Exit(
    4,
    "not-recorded",
    "the audit trail could not be written (the intent is recorded before any move): "
    "the flag did not move",
)
ROLLED_BACK = Exit(
    5,
    "rolled-back",
    "auto pulled the kill switch (cdn_enabled=false) on a failed gate; recorded",
)
UNCERTAIN = Exit(
    6,
    "uncertain",
    "the flag may have changed but the record or the resolver's answer is incomplete (the "
    "write timed out; the outcome could not be recorded after the move; the kill switch "
    "was pulled with the trail unwritable): the message says what is known and how to check",
)

ALL: tuple[Exit, ...] = (OK, REFUSED, USAGE, UNREACHABLE, NOT_RECORDED, ROLLED_BACK, UNCERTAIN)


def help_text() -> str:
    """The exit-code section of the commands' --help."""
    return "exit codes:\n" + "\n".join(f"  {e.code} {e.name}: {e.meaning}" for e in ALL)
