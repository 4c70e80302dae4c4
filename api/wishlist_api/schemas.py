"""The HTTP contract: request and response bodies, camelCase as in the story."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt
from pydantic.alias_generators import to_camel

from wishlist_api.images import ImageStatus
from wishlist_api.models import MAX_KEY_CHARS, MAX_TITLE_CHARS
from wishlist_runtime.values import has_invisible

# The wire bound of CreateUploadUrl's int64 content_length. Which types and sizes are
# accepted is image-resolver's rule (GetUploadPolicy); it refuses the rest naming the field.
MAX_INT64 = 2**63 - 1
MAX_CONTENT_TYPE_CHARS = 255  # RFC 6838: type and subtype are at most 127 characters each


def _clean_title(value: str) -> str:
    """Shown text: the keys' rule (values.has_invisible: no control, format, bidi or
    zero-width character), and no lone surrogate, which would break storage."""
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    if has_invisible(value) or any(unicodedata.category(ch) == "Cs" for ch in value):
        raise ValueError(
            "must not contain control, invisible or bidi characters, or unpaired surrogates"
        )
    return value


Title = Annotated[
    str, Field(min_length=1, max_length=MAX_TITLE_CHARS), AfterValidator(_clean_title)
]


class _Camel(BaseModel):
    """Responses: built from snake_case in code, serialized as camelCase."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True)


class _Input(_Camel):
    """Requests: camelCase only, unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=False, extra="forbid")


class ItemOut(_Camel):
    id: str = Field(description="Item id (UUID).")
    title: str
    user_id: str
    image_url: str | None = Field(
        description="URL to load the image from: CloudFront, or S3 for viewers outside the "
        "CDN rollout. Null unless imageStatus is `ok`. Never a stored URL."
    )
    image_fallback_url: str | None = Field(
        None,
        description="For CDN images: the same image from S3 (presigned), to load when the CDN "
        "fails or is unreachable. Null otherwise.",
    )
    image_status: ImageStatus = Field(
        description="`ok`: imageUrl is set. `none`: the item has no image. `invalid`: the "
        "stored image reference is not one we serve. `unavailable`: the image service did "
        "not answer in time; retry later. `disabled`: image URLs are switched off."
    )
    image_version: int = Field(description="Bumped on every new image; part of the URL.")
    created_at: datetime
    updated_at: datetime


class ItemPage(_Camel):
    items: list[ItemOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class CreateItem(_Input):
    title: Title


class UpdateItem(_Input):
    title: Title


class UploadUrlRequest(_Input):
    content_type: str = Field(
        min_length=1,
        max_length=MAX_CONTENT_TYPE_CHARS,
        description="The image's media type; the image service says which it accepts.",
    )
    # Strict: true, "100" and 100.0 are client mistakes, not 1 or 100 bytes.
    content_length: StrictInt = Field(
        ge=0, le=MAX_INT64, description="Exact file size in bytes (a JSON integer)."
    )


class UploadUrlOut(_Camel):
    url: str = Field(description="The S3 endpoint to POST the multipart form to (never the CDN).")
    fields: dict[str, str] = Field(description="Form fields to send, before the file field.")
    key: str = Field(description="Send this back to POST /api/wishlist/{id}/image once uploaded.")
    expires_at: datetime | None
    max_bytes: int


class ConfirmImage(_Input):
    key: str = Field(min_length=1, max_length=MAX_KEY_CHARS)


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `not_found`.")
    message: str
    details: list[ErrorDetail] | None = None


class ErrorResponse(BaseModel):
    error: ErrorInfo
