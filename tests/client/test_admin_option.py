"""The client sends the admin token on exactly the calls the proto marks as admin calls
(`option (wishlist.images.v1.admin)`), the one declaration the resolver enforces too: the
client reads the option rather than a list of its own."""

from __future__ import annotations

from wishlist_images_client.rpc import ALL_RPCS
from wishlist_runtime.admin import ADMIN_METHODS, SERVICES


def _name(path: str) -> str:
    return path.strip("/").replace("/", ".")


def test_client_admin_calls_are_the_protos() -> None:
    assert {_name(rpc.path) for rpc in ALL_RPCS if rpc.admin} == ADMIN_METHODS
    assert ADMIN_METHODS, "the proto marks some methods as admin calls"


def test_the_client_knows_every_rpc_of_the_contract() -> None:
    assert {_name(rpc.path) for rpc in ALL_RPCS} == {
        m.full_name for s in SERVICES for m in s.methods
    }
