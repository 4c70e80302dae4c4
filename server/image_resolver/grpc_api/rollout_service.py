"""wishlist.images.v1.RolloutService: read and change the live flag.

Both methods are admin calls (the proto says so); pipeline.py checks the token.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeAlias

import grpc

from image_resolver.grpc_api.image_service import timestamp
from image_resolver.rollout.decision import RolloutState
from image_resolver.rollout.live import LiveRollout, WriteAttempt
from image_resolver.rollout.store import StoreError, WriteOutcomeUnknown
from wishlist.images.v1 import rollout_service_pb2 as pb
from wishlist.images.v1 import rollout_service_pb2_grpc as pb_grpc
from wishlist_runtime import values

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RolloutService"].full_name


def rollout_to_wire(state: RolloutState) -> pb.Rollout:
    msg = pb.Rollout(
        percent=state.percent,
        cdn_enabled=state.cdn_enabled,
        revision=state.revision,
        updated_by=state.updated_by,
    )
    if state.updated_at is not None:
        msg.updated_at.CopyFrom(timestamp(state.updated_at))
    return msg


class RolloutServicer(pb_grpc.RolloutServiceServicer):
    def __init__(self, rollout: LiveRollout) -> None:
        self.rollout = rollout

    async def GetRollout(  # noqa: N802 - generated name
        self, request: pb.GetRolloutRequest, context: Context
    ) -> pb.GetRolloutResponse:
        health = self.rollout.health()
        return pb.GetRolloutResponse(
            rollout=rollout_to_wire(self.rollout.state),
            store=health.store,
            store_healthy=health.healthy,
            store_error=health.last_error or "",
        )

    async def SetRollout(  # noqa: N802
        self, request: pb.SetRolloutRequest, context: Context
    ) -> pb.SetRolloutResponse:
        """The write runs on a thread, bounded by what is left of the caller's deadline
        (less a margin for the answer to travel). Past that, the answer is: not written
        (the store call had not started), or outcome unknown (it had: it may land)."""
        percent = values.percent(request.percent)
        who = values.author(request.updated_by)
        attempt = WriteAttempt()
        write = asyncio.ensure_future(
            asyncio.to_thread(
                self.rollout.set,
                percent=percent,
                cdn_enabled=request.cdn_enabled,
                expected_revision=request.expected_revision,
                updated_by=who,
                attempt=attempt,
            )
        )
        try:
            before, after = await asyncio.wait_for(asyncio.shield(write), _budget(context))
        except TimeoutError:
            write.add_done_callback(_retrieve)  # finishes on its own; nobody awaits it
            if not attempt.abandon():
                raise StoreError("the write was not sent within the call's deadline") from None
            raise WriteOutcomeUnknown(
                f"no answer from {self.rollout.health().store} within the call's deadline: "
                f"the write (revision {request.expected_revision + 1}) may have landed, or "
                "may land when the store answers"
            ) from None
        return pb.SetRolloutResponse(before=rollout_to_wire(before), after=rollout_to_wire(after))


ANSWER_MARGIN = 0.5  # seconds kept back from the caller's deadline to send the answer
NO_DEADLINE_BUDGET = 30.0  # a caller without a deadline still gets an answer


def _budget(context: Context) -> float:
    left: float | None = context.time_remaining()
    if left is None:
        return NO_DEADLINE_BUDGET
    return max(0.0, min(left - min(ANSWER_MARGIN, left * 0.1), NO_DEADLINE_BUDGET))


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # logged by the write itself; keep asyncio from warning
