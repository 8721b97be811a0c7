"""What a department system's AMQP message gets (CONTRACT §5).

The broker checked `user_id`; it names the sender's account, `dept-<code>`, and the message
is that department's request: the rule an HTTP request meets decides it (`access.py`; one for
another department is 403, as over HTTP). A message that cannot be parsed or validated, that
comes from an account that is not a department's, or that the rule refuses is answered with a
problem and parked. A valid request the pool refuses (409 insufficient-pool, say) is
answered, not parked: the sender did nothing wrong, the pool was short.
"""
from __future__ import annotations

import json

from services.common.contract.problems import Problem
from services.common.messaging.broker_accounts import department_of_account
from services.common.messaging.ingress_consumer import IngressOutcome
from services.common.use_cases import Directory
from services.resources.store import ResourcesStore
from services.resources.use_cases.commitments import commit_resources

PARKED_STATUSES = {400, 403, 422}


def receive_commitment(store: ResourcesStore, directory: Directory, body: bytes,
                       properties: dict) -> IngressOutcome:
    """A commitment published to `guabang.ingress`; its `message_id` is the Idempotency-Key.
    A problem of ours (5xx: a store or service away) is raised: the message goes back to its
    queue and is tried again."""
    try:
        department, request = parse_commitment(body, properties)
        result = commit_resources(store, directory, f"department:{department}", request,
                                  properties.get("message_id"))
    except Problem as problem:
        if problem.status >= 500:
            raise
        return IngressOutcome(problem.status, problem.to_dict(),
                              park_reason=problem.detail
                              if problem.status in PARKED_STATUSES else None)
    return IngressOutcome(201, result["commitment"])


def parse_commitment(body: bytes, properties: dict) -> tuple[str, dict]:
    """(the sending department, the request body), or a Problem saying why not. `sender`: the
    account the raw consumer found sent it (services/common/messaging/ingress_consumer.py,
    `sender_of`)."""
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
    return department, request
