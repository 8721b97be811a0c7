"""Paging as CONTRACT §1 defines it: `?limit=` (default 50, max 500) and `?after=<cursor>`."""
from services.common.contract.problems import invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def parse_limit(raw) -> int:
    if raw in (None, ""):
        return DEFAULT_LIMIT
    message = f"limit must be an integer from 1 to {MAX_LIMIT}"
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        raise invalid(message, ["query", "limit"]) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid(message, ["query", "limit"])
    return limit


def page(items: list, next_cursor: str | None) -> dict:
    return {"items": items, "next": next_cursor}
