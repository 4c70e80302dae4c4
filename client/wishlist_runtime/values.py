"""The value rules of the contract, each with one owner: this module.

The resolver's servicers, rollout stores and settings, the wishlist API and the operator
toolkit all check a percent, a user id, an author, a request id or a key prefix with these
functions, so no two places can disagree about a limit. A check returns the (possibly
trimmed) value or raises `InvalidValue` naming the field; its message never echoes the
input. Each consumer turns that error into its own refusal in one place: the resolver's
RPC pipeline into INVALID_ARGUMENT, the API into 422 `validation_failed`, the toolkit's
CLI into an argparse usage error, settings into one line per variable.

Plain functions (and pydantic `Annotated` forms of them: Percent, Author, ...), not new
types: the values stay ints and strs on the wire, in stores and in the database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Annotated, Any

# Share of users on the CDN.
MIN_PERCENT, MAX_PERCENT = 0, 100
# One limit for every user id: the viewer of a resolve call, the owner of an upload key, a
# JWT `sub`, the wishlist table's column (String(256) since migration 0001). 256, the
# largest any side accepted, so no stored row and no valid token becomes invalid; an upload
# key is then at most MAX_KEY_PREFIX_BYTES + UPLOAD_KEY_TAIL_BYTES, inside S3's limit.
MAX_USER_ID_CHARS = 256
# Who changed the rollout (audit trail): the wire's updated_by, every store's document.
MAX_AUTHOR_CHARS = 128
# A caller's X-Request-Id, passed from the API to the resolver and into both logs.
MAX_REQUEST_ID_CHARS = 128
# S3's own limit on an object key (UTF-8 bytes).
MAX_KEY_BYTES = 1024
# The tail an upload key adds to the prefix: user id, "/", a 64-character object id, ".",
# an extension of at most 4 characters ("webp").
UPLOAD_KEY_TAIL_BYTES = MAX_USER_ID_CHARS + 1 + 64 + 1 + 4
MAX_KEY_PREFIX_BYTES = 512

_KEY_SAFE_USER_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_USER_ID_CHARS}}}")
_REQUEST_ID = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_REQUEST_ID_CHARS}}}")


class InvalidValue(ValueError):
    """A value that breaks a contract rule. `field` names where it came from (overridable by
    the caller), `reason` is a stable label, `message` is safe to return: no input echo."""

    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = reason
        self.message = message


def percent(value: object, field: str = "percent") -> int:
    """A rollout percent: a whole number from 0 to 100."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not MIN_PERCENT <= value <= MAX_PERCENT
    ):
        raise InvalidValue(
            field, "out_of_range", f"must be between {MIN_PERCENT} and {MAX_PERCENT}"
        )
    return value


def parse_percent(text: str, field: str = "percent") -> int:
    """A percent typed by a person ("50")."""
    try:
        value = int(text)
    except ValueError:
        raise InvalidValue(
            field, "not_a_number", f"must be a whole number from {MIN_PERCENT} to {MAX_PERCENT}"
        ) from None
    return percent(value, field)


def user_id(value: object, field: str = "user_id") -> str:
    """An identified user (a JWT `sub`, a wishlist row's owner): 1..256 printable characters."""
    if not isinstance(value, str) or not value or not _printable_within(value):
        raise InvalidValue(
            field, "bad_user_id", f"must be 1..{MAX_USER_ID_CHARS} printable characters"
        )
    return value


def viewer_id(value: object, field: str = "user_id") -> str:
    """The viewer of a resolve call: a user id, or "" for nobody in particular."""
    if not isinstance(value, str) or not _printable_within(value):
        raise InvalidValue(
            field, "bad_user_id", f"must be at most {MAX_USER_ID_CHARS} printable characters"
        )
    return value


def key_safe_user_id(value: object, field: str = "user_id") -> str:
    """A user id that becomes an S3 key segment (upload keys): the user-id limit, and only
    characters no key parser, URL or cache reads differently."""
    if not isinstance(value, str) or not _KEY_SAFE_USER_ID.fullmatch(value):
        raise InvalidValue(
            field,
            "bad_user_id",
            f"must be 1-{MAX_USER_ID_CHARS} characters of A-Z, a-z, 0-9, '_', '-'",
        )
    return value


# Characters that are invisible or reorder text (bidi overrides, zero-width spaces, soft
# hyphens, BOM, line/paragraph separators): a key or a title holding one displays as
# another (Trojan Source). Emoji joined by U+200D are refused with them: the price of one rule.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_invisible(text: str) -> bool:
    """True if `text` holds a format, control or line/paragraph-separator character."""
    if text.isascii():
        return _ASCII_CONTROL.search(text) is not None
    category = unicodedata.category
    return any(category(char) in INVISIBLE_CATEGORIES for char in text)


def _printable_within(value: str) -> bool:
    return len(value) <= MAX_USER_ID_CHARS and value.isprintable()


def author(value: object, field: str = "updated_by") -> str:
    """Who changes the rollout, for the audit trail: 1..128 printable characters, trimmed."""
    who = value.strip() if isinstance(value, str) else ""
    if not who or len(who) > MAX_AUTHOR_CHARS or not who.isprintable():
        raise InvalidValue(
            field, "bad_author", f"must name who changes it (1..{MAX_AUTHOR_CHARS} chars)"
        )
    return who


def recorded_author(value: object, field: str = "updated_by") -> str:
    """The author a stored rollout carries: an author, or "" (the start value names nobody)."""
    return "" if value == "" else author(value, field)


def cut_author(text: str) -> str:
    """`text` shortened to an author's length (for composed names like "advance:<who>")."""
    return text.strip()[:MAX_AUTHOR_CHARS]


def request_id(value: object) -> str | None:
    """A caller's request id when it is a sane token (1..128 of A-Z, a-z, 0-9, '.', '_',
    ':', '-'), else None. Never an error: a receiver makes up its own id instead."""
    if isinstance(value, str) and _REQUEST_ID.fullmatch(value):
        return value
    return None


def key_prefix(value: object, field: str = "allowed_key_prefix") -> str:
    """The folder every image key lives under, like 'uploads/wishlist/': relative, ends with
    '/', no empty, '.' or '..' segment, printable, and short enough that every upload key
    under it fits in S3's key limit."""
    if (
        not isinstance(value, str)
        or not value.endswith("/")
        or any(segment in ("", ".", "..") for segment in value.split("/")[:-1])
        or not value.isprintable()
        or len(value.encode("utf-8", "surrogatepass")) > MAX_KEY_PREFIX_BYTES
    ):
        raise InvalidValue(
            field,
            "bad_prefix",
            "must look like 'uploads/wishlist/' (relative, ends with '/', "
            f"at most {MAX_KEY_PREFIX_BYTES} bytes)",
        )
    return value


class _Rule:
    """`Annotated` metadata that makes pydantic apply a check after its own type check,
    with the check's message (pydantic names the field itself). pydantic is imported only
    when a model is built, so the CLI does not pay for it on every start."""

    def __init__(self, check: Callable[[Any], Any]) -> None:
        self.check = check

    def _validate(self, value: object) -> Any:
        try:
            return self.check(value)
        except InvalidValue as exc:
            raise ValueError(exc.message) from None

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(self._validate, handler(source))


Percent = Annotated[int, _Rule(percent)]
Author = Annotated[str, _Rule(author)]
RecordedAuthor = Annotated[str, _Rule(recorded_author)]
KeyPrefix = Annotated[str, _Rule(key_prefix)]
UserId = Annotated[str, _Rule(user_id)]
