"""API keys: random bearer tokens, stored only as their SHA-256 (they are high-entropy, so a
fast hash is enough), shown once when created, revocable at once."""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

import redis

from services.common.contract.events import utc_now
from services.common.values.ids import new_id

BY_HASH = "gateway:api-keys:by-hash"
BY_ID = "gateway:api-keys:by-id"
KEY_PREFIX = "gbk_"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeys:
    def __init__(self, client: redis.Redis, admin_token: str | None):
        self.redis = client
        self.admin_token = admin_token

    def create(self, principal: str) -> dict:
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        record = {"id": new_id("key"), "principal": principal, "created_at": utc_now()}
        key_hash = digest(key)
        with self.redis.pipeline() as pipe:  # MULTI/EXEC: both indexes or neither
            pipe.hset(BY_HASH, key_hash, json.dumps(record))
            pipe.hset(BY_ID, record["id"], key_hash)
            pipe.execute()
        return {**record, "key": key}

    def revoke(self, key_id: str) -> bool:
        key_hash = self.redis.hget(BY_ID, key_id)
        if key_hash is None:
            return False
        with self.redis.pipeline() as pipe:
            pipe.hdel(BY_HASH, key_hash)
            pipe.hdel(BY_ID, key_id)
            pipe.execute()
        return True

    def principal_of(self, key: str) -> str | None:
        """The principal a presented key stands for, or None for an unknown or revoked key."""
        if self._is_admin(key):
            return "admin"
        return self._principal(self.redis.hget(BY_HASH, digest(key)))

    def authenticate(self, key: str, per_second: int) -> tuple[str | None, int]:
        """(the principal the key stands for, or None; seconds to wait when the key has used
        up this second's requests, else 0), in one round trip.

        The rate is a fixed one-second window per key: one INCR (and its EXPIRE) per request,
        shared by every gateway replica. The admin token is matched here, never looked up,
        and counted like any key. An unknown key is counted too; its count means nothing and
        lapses in 2 s (the caller answers 401 before looking at the wait)."""
        admin = self._is_admin(key)
        counter = f"gateway:rate:{digest(key)[:16]}:{int(time.time())}"
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.incr(counter)
            pipe.expire(counter, 2)
            if not admin:
                pipe.hget(BY_HASH, digest(key))
            used, _, *raw = pipe.execute()
        principal = "admin" if admin else self._principal(raw[0])
        return principal, 1 if used > per_second else 0

    def _is_admin(self, key: str) -> bool:
        return bool(self.admin_token) and hmac.compare_digest(key.encode(),
                                                              self.admin_token.encode())

    @staticmethod
    def _principal(raw: str | None) -> str | None:
        return json.loads(raw)["principal"] if raw else None
