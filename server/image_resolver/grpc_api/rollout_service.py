"""wishlist.images.v1.RolloutService: read and change the live flag (admin token required)."""

from __future__ import annotations

import asyncio
from typing import Any, TypeAlias

import grpc

from image_resolver.errors import FieldError
from image_resolver.grpc_api.boundary import require_admin, rpc
from image_resolver.grpc_api.image_service import timestamp
from image_resolver.rollout.decision import RolloutState
from image_resolver.rollout.live import LiveRollout
from wishlist.images.v1 import rollout_service_pb2 as pb
from wishlist.images.v1 import rollout_service_pb2_grpc as pb_grpc

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RolloutService"].full_name
MAX_UPDATED_BY = 128


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
    def __init__(self, rollout: LiveRollout, admin_token: bytes) -> None:
        self.rollout = rollout
        self.admin_token = admin_token

    @rpc("GetRollout")
    async def GetRollout(  # noqa: N802 - generated name
        self, request: pb.GetRolloutRequest, context: Context
    ) -> pb.GetRolloutResponse:
        require_admin(context, self.admin_token)
        health = self.rollout.health()
        return pb.GetRolloutResponse(
            rollout=rollout_to_wire(self.rollout.state),
            store=health.store,
            store_healthy=health.healthy,
            store_error=health.last_error or "",
        )

    @rpc("SetRollout")
    async def SetRollout(  # noqa: N802
        self, request: pb.SetRolloutRequest, context: Context
    ) -> pb.SetRolloutResponse:
        require_admin(context, self.admin_token)
        if request.percent > 100:
            raise FieldError("percent", "out_of_range", "must be between 0 and 100")
        who = request.updated_by.strip()
        if not who or len(who) > MAX_UPDATED_BY or not who.isprintable():
            raise FieldError(
                "updated_by", "bad_author", f"must name who changes it (1..{MAX_UPDATED_BY} chars)"
            )
        before, after = await asyncio.to_thread(
            self.rollout.set,
            percent=request.percent,
            cdn_enabled=request.cdn_enabled,
            expected_revision=request.expected_revision,
            updated_by=who,
        )
        return pb.SetRolloutResponse(before=rollout_to_wire(before), after=rollout_to_wire(after))
