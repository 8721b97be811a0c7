"""A client's Idempotency-Key as the Lua scripts take it (the rule itself is
`lua/idempotent_requests.lua`, included in each script that creates on a request)."""
from __future__ import annotations

from dataclasses import dataclass

from services.common.values.fingerprints import request_fingerprint

# How long a first answer is kept for a repeat: clients retry within minutes, a day is ample.
ANSWER_KEPT_SECONDS = 60 * 60 * 24


@dataclass(frozen=True)
class IdempotentRequest:
    """What a create needs to answer a repeat: the client's key (or None) and the body's
    fingerprint."""

    key: str | None
    fingerprint: str

    @classmethod
    def of(cls, body, key: str | None) -> IdempotentRequest:
        return cls(key or None, request_fingerprint(body))

    def redis_key(self, prefix: str, scope: str) -> str:
        """Where the first answer is kept: `<prefix>:idempotency:<scope>:<key>` (a prefix
        with a hash tag keeps it in the slot of the records it names)."""
        return f"{prefix}:idempotency:{scope}:{self.key or '-'}"

    def args(self) -> list:
        """The three ARGV `earlier_answer` and `remember_answer` take."""
        return [self.fingerprint, ANSWER_KEPT_SECONDS, "1" if self.key else "0"]
