"""Domain errors that name the request field at fault; the wire layer maps them to statuses."""

from __future__ import annotations

from wishlist_runtime.values import InvalidValue


class FieldError(InvalidValue):
    """A client's mistake in one field that the resolver finds itself (a ref, an upload, a
    batch). The contract's value rules (wishlist_runtime.values) raise its base class,
    InvalidValue; the RPC pipeline answers both the same way, INVALID_ARGUMENT naming the
    field. `message` is safe to return: it never echoes input."""


class Unauthenticated(Exception):
    """The caller lacks the admin token."""


class NotConfigured(Exception):
    """The deployment lacks a setting this call needs (e.g. no CloudFront distribution id)."""


class NotFound(Exception):
    """The named thing does not exist (NOT_FOUND); the message never echoes input."""
