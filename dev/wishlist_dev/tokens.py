"""Dev tokens: HS256 JWTs the API accepts with `JWT_SECRET` (production tokens come from
the IdP, so minting lives here and not in the API's image)."""

from __future__ import annotations

import time
from typing import Any

import jwt


def mint_token(secret: str, user_id: str, ttl_seconds: int = 3600, **claims: Any) -> str:
    """An HS256 token for local demos and tests."""
    now = int(time.time())
    payload = {"sub": user_id, "iat": now, "exp": now + ttl_seconds, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")
