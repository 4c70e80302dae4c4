"""The contract's value rules (wishlist_runtime.values): each bound, at it and just over.

Every product reads its limits from this one module, so these are the only tests of the
numbers themselves; the server, API and CLI tests check that each of them uses it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from wishlist_runtime import values
from wishlist_runtime.values import (
    MAX_AUTHOR_CHARS,
    MAX_KEY_BYTES,
    MAX_KEY_PREFIX_BYTES,
    MAX_REQUEST_ID_CHARS,
    MAX_USER_ID_CHARS,
    UPLOAD_KEY_TAIL_BYTES,
    InvalidValue,
)

HOSTILE = "<script>alert(1)</script>" + "x" * 10_000


def refused(check: Any, value: Any, *args: Any) -> InvalidValue:
    with pytest.raises(InvalidValue) as caught:
        check(value, *args)
    assert "<script>" not in str(caught.value)
    assert isinstance(caught.value, ValueError)
    return caught.value


@pytest.mark.parametrize("good", [0, 1, 99, 100])
def test_percent_accepts_0_to_100(good: int) -> None:
    assert values.percent(good) == good
    assert values.parse_percent(str(good)) == good


@pytest.mark.parametrize("bad", [-1, 101, 2**63, True, False, 5.0, "5", None])
def test_percent_refuses_anything_else(bad: Any) -> None:
    err = refused(values.percent, bad)
    assert (err.field, err.reason) == ("percent", "out_of_range")
    assert err.message == "must be between 0 and 100"


@pytest.mark.parametrize("text", ["", "abc", "5.5", "1e2", HOSTILE])
def test_typed_percent_must_be_a_whole_number(text: str) -> None:
    assert refused(values.parse_percent, text).message == "must be a whole number from 0 to 100"


def test_percent_errors_name_the_field_they_are_given() -> None:
    assert refused(values.percent, 101, "to").field == "to"


def test_user_id_limit_is_256() -> None:
    """One limit for every user id (resolve viewer, upload owner, JWT sub, the table)."""
    assert MAX_USER_ID_CHARS == 256
    longest = "u" * MAX_USER_ID_CHARS
    for check in (values.user_id, values.viewer_id, values.key_safe_user_id):
        assert check(longest) == longest
        assert refused(check, longest + "u").field == "user_id"
        assert refused(check, HOSTILE).reason == "bad_user_id"
        assert refused(check, None).field == "user_id"


def test_viewer_may_be_nobody_an_identified_user_may_not() -> None:
    assert values.viewer_id("") == ""
    refused(values.user_id, "")
    refused(values.key_safe_user_id, "")


@pytest.mark.parametrize("bad", ["u\n", "a\x00b", "\u202e"])
def test_user_ids_are_printable(bad: str) -> None:
    for check in (values.user_id, values.viewer_id, values.key_safe_user_id):
        refused(check, bad)


@pytest.mark.parametrize("id_", ["auth0|abc", "a.b", "a b", "ü", "a/b", "..", "%2e"])
def test_only_key_safe_ids_become_key_segments(id_: str) -> None:
    assert values.user_id(id_) == id_  # a fine user, a fine viewer ...
    assert values.viewer_id(id_) == id_
    refused(values.key_safe_user_id, id_)  # ... but not an S3 key segment


def test_author_is_trimmed_and_1_to_128_printable_characters() -> None:
    assert MAX_AUTHOR_CHARS == 128
    assert values.author("  alice ") == "alice"
    assert values.author("a" * MAX_AUTHOR_CHARS) == "a" * MAX_AUTHOR_CHARS
    assert values.author(" " + "a" * MAX_AUTHOR_CHARS + " ") == "a" * MAX_AUTHOR_CHARS
    for bad in ("", "   ", "a" * (MAX_AUTHOR_CHARS + 1), "al\nice", None, 7):
        err = refused(values.author, bad)
        assert (err.field, err.reason) == ("updated_by", "bad_author")


def test_a_recorded_author_may_be_nobody() -> None:
    assert values.recorded_author("") == ""
    assert values.recorded_author("oncall") == "oncall"
    refused(values.recorded_author, "a" * (MAX_AUTHOR_CHARS + 1))
    refused(values.recorded_author, "   ")


def test_cut_author_fits_the_author_rule() -> None:
    composed = values.cut_author("advance:" + "w" * 500)
    assert len(composed) == MAX_AUTHOR_CHARS
    assert values.author(composed) == composed


@pytest.mark.parametrize(
    "rid", ["r", "req-1", "0af7651916cd43dd8448eb211c80319c", "a.b_c:d-e", "x" * 128]
)
def test_request_ids_that_are_sane_tokens_are_kept(rid: str) -> None:
    assert MAX_REQUEST_ID_CHARS == 128
    assert values.request_id(rid) == rid


@pytest.mark.parametrize("rid", ["", "x" * 129, "a b", "a\n", "ü", "a/b", "a,b", None, 7])
def test_other_request_ids_are_dropped_not_refused(rid: Any) -> None:
    assert values.request_id(rid) is None  # never an error: the receiver makes its own


@pytest.mark.parametrize("good", ["uploads/wishlist/", "media/", "a/", "a.b/c-d/"])
def test_key_prefix_accepts_relative_folders(good: str) -> None:
    assert values.key_prefix(good) == good


@pytest.mark.parametrize(
    "bad", ["", "/", "uploads", "/abs/", "a//b/", "./a/", "a/../", "a/./", "a\n/", None]
)
def test_key_prefix_refuses_anything_else(bad: Any) -> None:
    err = refused(values.key_prefix, bad)
    assert (err.field, err.reason) == ("allowed_key_prefix", "bad_prefix")


def test_key_prefix_bound_counts_bytes() -> None:
    longest = "p" * (MAX_KEY_PREFIX_BYTES - 1) + "/"
    assert values.key_prefix(longest) == longest
    refused(values.key_prefix, "p" + longest)
    refused(values.key_prefix, "é" * (MAX_KEY_PREFIX_BYTES // 2) + "/")  # 2 bytes each


def test_the_longest_upload_key_fits_s3s_key_limit() -> None:
    assert MAX_KEY_BYTES == 1024
    assert MAX_USER_ID_CHARS + len("/") + 64 + len(".webp") == UPLOAD_KEY_TAIL_BYTES
    assert MAX_KEY_PREFIX_BYTES + UPLOAD_KEY_TAIL_BYTES <= MAX_KEY_BYTES


class _Form(BaseModel):
    percent: values.Percent = 0
    by: values.Author = "x"
    stored_by: values.RecordedAuthor = ""
    prefix: values.KeyPrefix = "a/"
    user: values.UserId = "u"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("percent", 101, "must be between 0 and 100"),
        ("by", "", "must name who changes it (1..128 chars)"),
        ("stored_by", "x" * 129, "must name who changes it (1..128 chars)"),
        ("prefix", "/a/", "must look like 'uploads/wishlist/'"),
        ("user", "u" * 257, "must be 1..256 printable characters"),
    ],
)
def test_pydantic_forms_apply_the_same_rule_with_pydantics_field_name(
    field: str, value: Any, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        _Form.model_validate({field: value})
    [err] = caught.value.errors()
    assert err["loc"] == (field,)
    assert err["msg"].startswith(f"Value error, {message}")  # no second field name


def test_pydantic_forms_return_the_checked_value() -> None:
    form = _Form.model_validate({"percent": 100, "by": " bob ", "user": "u" * 256})
    assert (form.percent, form.by, form.user) == (100, "bob", "u" * 256)
