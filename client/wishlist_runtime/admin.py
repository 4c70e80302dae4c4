"""Which RPCs are admin calls, as the proto declares it (`option (wishlist.images.v1.admin)`,
protos/wishlist/images/v1/options.proto): read from the service descriptors, never listed."""

from __future__ import annotations

from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

from wishlist.images.v1 import image_url_service_pb2, options_pb2, rollout_service_pb2

SERVICES: tuple[ServiceDescriptor, ...] = (
    image_url_service_pb2.DESCRIPTOR.services_by_name["ImageUrlService"],
    rollout_service_pb2.DESCRIPTOR.services_by_name["RolloutService"],
)


def is_admin(method: MethodDescriptor) -> bool:
    """Whether `method` carries the admin option (needs the bearer token)."""
    # The generated stub types the extension as a plain FieldDescriptor.
    return bool(method.GetOptions().Extensions[options_pb2.admin])  # type: ignore[index]


def admin_methods(services: tuple[ServiceDescriptor, ...] = SERVICES) -> frozenset[str]:
    """Full names ("wishlist.images.v1.RolloutService.SetRollout") of the admin methods."""
    return frozenset(m.full_name for s in services for m in s.methods if is_admin(m))


ADMIN_METHODS = admin_methods()
