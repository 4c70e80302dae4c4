"""wishlist.images.v1.RolloutService: read and change the live flag.

Both methods are admin calls (the proto says so); pipeline.py checks the token.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeAlias

import grpc

from image_resolver.grpc_api.image_service import timestamp
from image_resolver.rollout.decision import RolloutState
from image_resolver.rollout.live import LiveRollout
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
        percent = values.percent(request.percent)
        who = values.author(request.updated_by)
        before, after = await asyncio.to_thread(
            self.rollout.set,
            percent=percent,
            cdn_enabled=request.cdn_enabled,
            expected_revision=request.expected_revision,
            updated_by=who,
        )
        return pb.SetRolloutResponse(before=rollout_to_wire(before), after=rollout_to_wire(after))
