"""What a department system's AMQP message gets (CONTRACT §5), decided without I/O.

The broker checked `user_id`; it names the sender's account, `dept-<code>`. A message for
another department is refused. A message that cannot be parsed or validated, or that comes
from an account that is not a department's, is answered with a problem and parked. A valid
request the rules refuse (409 insufficient-pool, say) is answered, not parked: the sender did
nothing wrong, the pool was short.
"""
from __future__ import annotations

import json

from services.common.contract.problems import Problem
from services.common.messaging.broker_accounts import department_of_account

PARKED_STATUSES = {400, 403, 422}


def parse_commitment(body: bytes, properties: dict) -> tuple[str, dict]:
    """(sending department, request body), or a Problem saying why not. `sender`: the account
    the raw consumer found sent it (services/common/messaging/ingress_consumer.py, `sender_of`)."""
    department = department_of_account(properties.get("sender"))
    if department is None:
        raise Problem(403, "not-a-department-account",
                      "publish with the user_id property set to your department's broker "
                      "account (dept-<code>); RabbitMQ checks it")
    try:
        request = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Problem(400, "malformed-json", f"the message body is not JSON: {exc}") from None
    if not isinstance(request, dict):
        raise Problem(422, "validation-failed", "the message body must be a JSON object",
                      errors=[{"loc": ["body"], "msg": "not an object"}])
    if request.get("department_code") != department:
        raise Problem(403, "forbidden",
                      f"account dept-{department} may commit only for department "
                      f"{department}, not {request.get('department_code')!r}")
    return department, request


def is_parked(problem: Problem) -> bool:
    return problem.status in PARKED_STATUSES
