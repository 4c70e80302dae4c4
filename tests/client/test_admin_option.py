"""The client sends the admin token on exactly the calls the proto marks as admin calls
(`option (wishlist.images.v1.admin)`), the one declaration the resolver enforces."""

from __future__ import annotations

from wishlist_images_client.spec import CALLS
from wishlist_runtime.admin import ADMIN_METHODS, SERVICES

_SERVICE = {"images": "ImageUrlService", "rollout": "RolloutService"}


def test_client_admin_calls_are_the_protos() -> None:
    package = SERVICES[0].file.package
    sends_token = {
        f"{package}.{_SERVICE[call.service]}.{call.method}": call.admin for call in CALLS.values()
    }
    assert {name for name, admin in sends_token.items() if admin} == ADMIN_METHODS
    assert set(sends_token) <= {m.full_name for s in SERVICES for m in s.methods}
