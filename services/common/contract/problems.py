"""Failures as RFC 9457 problem details, raised anywhere and answered by the gateway.

`Problem` survives a nameko RPC hop intact: `deserialize_to_instance` makes the caller raise the
same class with the same arguments instead of a generic RemoteError.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nameko.exceptions import deserialize_to_instance
from pydantic import BaseModel, ValidationError

from services.common.contract.codes import (
    DEPARTMENT_PATTERN,
    is_department_code,
    is_township_code,
    is_village_code,
)
from services.common.contract.principals import Principal

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


@deserialize_to_instance
class Problem(Exception):
    """A client-visible failure: `type` is a stable slug such as `insufficient-pool`."""

    def __init__(self, status: int, type: str, detail: str, errors: list | None = None,
                 extra: dict | None = None, headers: dict | None = None):
        status = int(status)  # an RPC hop may hand the arguments back as strings
        super().__init__(status, type, detail, errors or [], extra or {})
        self.status = status
        self.type = type
        self.detail = detail
        self.errors = errors or []
        self.extra = extra or {}
        self.headers = headers or {}  # HTTP headers of the answer (Retry-After), not the body

    @property
    def title(self) -> str:
        return TITLES.get(self.status, "Error")

    def to_dict(self) -> dict[str, Any]:
        body = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "errors": self.errors,
        }
        body.update(self.extra)
        return body

    def __str__(self) -> str:
        return f"{self.status} {self.type}: {self.detail}"


def not_found(what: str, key: str) -> Problem:
    return Problem(404, "not-found", f"{what} {key!r} does not exist")


def forbidden(who: object, doing: str) -> Problem:
    """403: `who` (a principal) may not do what it asked, e.g. `forbidden(p, "list cadres")`."""
    return Problem(403, "forbidden", f"{who} may not {doing}")


def record_for(who: Principal, record: dict | None, unknown: Problem,
               sees: Callable[[Principal, dict], bool],
               may: Callable[[Principal, dict], bool] | None = None, doing: str = "") -> dict:
    """The record a request names (`None`: there is none), if `who` may do with it what it
    asks (`may`; when that is only reading it, `sees`).

    The one rule for every refusal on a record (CONTRACT §2: a township never sees another
    township's data, nor a department another department's): a caller who may not see the
    record gets `unknown`, the very answer an id that does not exist gets (404 `not-found`, or
    a body's 422), so its existence cannot be told; 403 only when it sees the record but may
    not do this to it (a department confirming the receipt of its own delivery). Every caller
    `may` admits must be one `sees` admits; `sees` is asked only of a refusal."""
    if record is None:
        raise unknown
    if (may or sees)(who, record):
        return record
    if may is not None and sees(who, record):
        raise forbidden(who, doing)
    raise unknown


def unavailable(detail: str) -> Problem:
    """503: something this answer needs (a service, a store) did not answer; retry later."""
    return Problem(503, "service-unavailable", detail)


def conflict(type: str, detail: str, **extra: Any) -> Problem:
    return Problem(409, type, detail, extra=extra)


def invalid(detail: str, loc: list | None = None, type: str = "validation-failed") -> Problem:
    return Problem(422, type, detail, errors=[{"loc": loc or [], "msg": detail}])


_CODES = {  # kind -> (the check, what a code of that kind is), CONTRACT §1
    "township": (is_township_code, "a township code is 9 digits"),
    "village": (is_village_code, "a village code is 12 digits"),
    "department": (is_department_code, f"a department code matches {DEPARTMENT_PATTERN}"),
}


def valid_code(kind: str, code: str, loc: list) -> str:
    """`code` if it is a well-formed township, village or department code; else 422 at `loc`
    (`["path", "code"]`, `["query", "township"]`)."""
    is_code, rule = _CODES[kind]
    if not is_code(code):
        raise invalid(rule, loc)
    return code


def from_validation_error(exc: ValidationError, prefix: tuple = ("body",)) -> Problem:
    errors = [
        {"loc": [*prefix, *err["loc"]], "msg": err["msg"]}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]
    summary = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
    return Problem(422, "validation-failed", summary, errors=errors)


def validated(model: type[BaseModel], body) -> BaseModel:
    """`body` as a `model`, or a 422 problem listing every field that is wrong."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def idempotency_key_reused() -> Problem:
    return conflict("idempotency-key-reused",
                    "this Idempotency-Key was already used with a different request body")
