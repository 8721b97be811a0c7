"""Identifying a request body, for Idempotency-Key reuse checks."""
import hashlib
import json


def request_fingerprint(body: dict) -> str:
    """The same for the same body whatever its key order; different for any other body."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
