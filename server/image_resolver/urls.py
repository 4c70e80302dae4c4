"""URL rules: every way a key becomes a URL, and every URL we accept back as a key."""

from __future__ import annotations

from urllib.parse import quote

# One quoting rule for CDN URLs, S3 URLs and invalidation paths: botocore quotes S3
# keys with safe="/~", so all three spell the same key the same way.
_KEY_SAFE = "/~"


def quote_key(key: str) -> str:
    """Percent-encode a key for a URL path (RFC 3986 unreserved and "/" kept)."""
    return quote(key, safe=_KEY_SAFE)
