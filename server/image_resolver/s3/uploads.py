"""Browser upload forms: S3 presigned POSTs whose policy pins key, type and size.

Uploads always go to the S3 bucket, never the CDN (the CDN is read-only). The key is
chosen here, so a client can only write `uploads/wishlist/{user_id}/{random}.{ext}`.
S3 enforces the signed policy; the form fields are just what the browser echoes back.

Size: the policy pins content-length-range to exactly the declared size. A browser
knows `File.size` exactly, so honest clients lose nothing, and what is stored is what
was validated and accounted for here; a client that lies gets S3's EntityTooLarge /
EntityTooSmall and must ask for a new form. (A range of [1, max_bytes] would also cap
abuse at max_bytes, but would let every form write a file of any size up to it.)
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from image_resolver.errors import FieldError, NotFound
from wishlist_runtime import values

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# Only types browsers render as images without running code (no SVG).
CONTENT_TYPE_EXTENSIONS = MappingProxyType(
    {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
)
_NEW_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# What each type's bytes begin with (its file signature); a ranged GET reads this many.
SNIFF_BYTES = 12


def _is_image_of(content_type: str, head: bytes) -> bool:
    if content_type == "image/png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if content_type == "image/jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if content_type == "image/gif":
        return head[:6] in (b"GIF87a", b"GIF89a")
    if content_type == "image/webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    return False


# S3 answers a HEAD of a missing key with 403 when the caller may not list the bucket:
# the deploy templates grant s3:ListBucket on the prefix, so a 403 here means a grant is
# missing, or the object is not ours to read. Either way nothing usable was uploaded.
_MISSING = ("404", "NoSuchKey", "NotFound")
_DENIED = ("403", "AccessDenied", "Forbidden")
_POST_EXPIRES_MAX = 7 * 24 * 3600


class UploadRequestError(FieldError):
    """A request we refuse (INVALID_ARGUMENT). The message never repeats the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, f"bad_{field}", message)


@dataclass(frozen=True)
class UploadLimits:
    """The rules `issue` and `verify` enforce, as GetUploadPolicy publishes them."""

    content_types: tuple[str, ...]
    max_bytes: int
    key_prefix: str
    max_user_id_chars: int


@dataclass(frozen=True)
class UploadForm:
    url: str  # the S3 bucket endpoint to POST the multipart form to
    fields: dict[str, str]  # form fields to send before the file, verbatim
    key: str
    expires_at: datetime  # tz-aware UTC, the policy's expiration
    max_bytes: int  # the largest file this form accepts (= the declared size)


@dataclass(frozen=True)
class UploadedObject:
    key: str
    content_type: str
    size_bytes: int
    etag: str


class UploadFormIssuer:
    """Issues presigned POST forms for one bucket.

    `s3_client` must sign with SigV4 (`Config(signature_version="s3v4")`): some botocore
    defaults still produce SigV2, which new regions and KMS-encrypted buckets refuse.
    botocore stamps the policy with its own clock, so `expires_at` is read back from the
    signed policy; `clock` is accepted for API symmetry with the GET presigner and only
    used to refuse a form that botocore dated in the past (a broken clock).
    """

    def __init__(
        self,
        *,
        s3_client: S3Client,
        bucket: str,
        key_prefix: str = "uploads/wishlist/",
        expires_in: int = 900,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        signature_version = getattr(s3_client.meta.config, "signature_version", None)
        if signature_version not in ("s3v4", "v4"):
            raise ValueError("s3_client must be created with Config(signature_version='s3v4')")
        values.key_prefix(key_prefix, "key_prefix")
        if not 1 <= expires_in <= _POST_EXPIRES_MAX:
            raise ValueError(f"expires_in must be 1..{_POST_EXPIRES_MAX} seconds")
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self._s3 = s3_client
        self._bucket = bucket
        self._prefix = key_prefix
        self._expires_in = expires_in
        self._max_bytes = max_bytes
        self._clock = clock
        self._new_id = new_id

    def limits(self) -> UploadLimits:
        return UploadLimits(
            tuple(CONTENT_TYPE_EXTENSIONS), self._max_bytes, self._prefix, values.MAX_USER_ID_CHARS
        )

    def issue(self, user_id: str, content_type: str, content_length: int) -> UploadForm:
        """Validate the request and sign a form that can write exactly one new object."""
        ext = self._validate(user_id, content_type, content_length)
        object_id = self._new_id()
        if not _NEW_ID.fullmatch(object_id):
            raise RuntimeError("new_id produced an unsafe key segment")
        key = f"{self._prefix}{user_id}/{object_id}.{ext}"
        content_type = content_type.lower()
        post = self._s3.generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", content_length, content_length],
            ],
            ExpiresIn=self._expires_in,
        )
        fields = {str(name): str(value) for name, value in post["fields"].items()}
        if fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
            raise RuntimeError("presigned POST was not signed with SigV4")
        expires_at = _policy_expiration(fields["policy"])
        if expires_at.timestamp() <= self._clock():
            raise RuntimeError("presigned POST policy is already expired (clock skew?)")
        return UploadForm(
            url=post["url"],
            fields=fields,
            key=key,
            expires_at=expires_at,
            max_bytes=content_length,
        )

    def verify(self, user_id: str, key: str) -> UploadedObject:
        """Check that `key` is one this issuer could have given `user_id` and that S3 holds
        an object there within the policy; a HEAD, so nothing is downloaded. Blocking I/O."""
        values.key_safe_user_id(user_id)
        own = f"{self._prefix}{user_id}/"
        name, dot, ext = key.removeprefix(own).rpartition(".")
        if (
            not key.startswith(own)
            or not dot
            or not _NEW_ID.fullmatch(name)
            or ext not in CONTENT_TYPE_EXTENSIONS.values()
        ):
            raise UploadRequestError("key", "is not an upload key issued to this user")
        try:
            head = self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in _MISSING:
                raise NotFound("no object has been uploaded under this key") from None
            if code in _DENIED:
                log.warning(
                    "S3 refused a HEAD of an upload key (403): not uploaded, or the "
                    "resolver's role lacks s3:ListBucket/s3:GetObject on the prefix"
                )
                raise NotFound(
                    "no object has been uploaded under this key (or the resolver may not read it)"
                ) from None
            raise
        size = int(head.get("ContentLength", 0))
        content_type = str(head.get("ContentType", "")).lower()
        if not 1 <= size <= self._max_bytes:
            raise UploadRequestError(
                "key", f"the uploaded object is not between 1 and {self._max_bytes} bytes"
            )
        if CONTENT_TYPE_EXTENSIONS.get(content_type) != ext:
            raise UploadRequestError("key", "the uploaded object's content type does not match")
        if not _is_image_of(content_type, self._first_bytes(key)):
            raise UploadRequestError("key", f"the uploaded object's bytes are not {content_type}")
        return UploadedObject(key, content_type, size, str(head.get("ETag", "")).strip('"'))

    def _first_bytes(self, key: str) -> bytes:
        """The object's signature: a ranged GET, so a 10 MB upload costs 12 bytes."""
        got = self._s3.get_object(Bucket=self._bucket, Key=key, Range=f"bytes=0-{SNIFF_BYTES - 1}")
        with got["Body"] as body:
            return bytes(body.read(SNIFF_BYTES))

    def _validate(self, user_id: Any, content_type: Any, content_length: Any) -> str:
        values.key_safe_user_id(user_id)
        ext = (
            CONTENT_TYPE_EXTENSIONS.get(content_type.lower())
            if isinstance(content_type, str)
            else None
        )
        if ext is None:
            raise UploadRequestError(
                "content_type", "must be one of " + ", ".join(CONTENT_TYPE_EXTENSIONS)
            )
        if (
            isinstance(content_length, bool)
            or not isinstance(content_length, int)
            or not 1 <= content_length <= self._max_bytes
        ):
            raise UploadRequestError(
                "content_length", f"must be between 1 and {self._max_bytes} bytes"
            )
        return ext


def _policy_expiration(policy_b64: str) -> datetime:
    """The deadline S3 enforces, from the signed policy document itself."""
    policy = json.loads(base64.b64decode(policy_b64))
    return datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
