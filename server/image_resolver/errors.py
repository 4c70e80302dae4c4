"""Domain errors that name the request field at fault; the wire layer maps them to statuses."""

from __future__ import annotations


class FieldError(ValueError):
    """A client's mistake in one field. `message` is safe to return: it never echoes input."""

    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = reason
        self.message = message


class Unauthenticated(Exception):
    """The caller lacks the admin token."""


class NotConfigured(Exception):
    """The deployment lacks a setting this call needs (e.g. no CloudFront distribution id)."""


class NotFound(Exception):
    """The named thing does not exist (NOT_FOUND); the message never echoes input."""
