"""What the resources service keeps from events, and gives back on its own: the directory
it looks villages and departments up in, each village's view of its commitments, each need's
share of them, and holds on needs that no commitment followed."""
from __future__ import annotations

import logging

from services.common.contract.events import Envelope
from services.resources.domain import need_hold_after, step_of_event, totals_change
from services.resources.store import ResourcesStore

log = logging.getLogger(__name__)

DIRECTORY_CONSUMER = "resources.directory"


def apply_directory_event(store: ResourcesStore, body: dict) -> bool:
    """A township, village or department registered or changed; False if already applied
    (or older than what is held)."""
    return store.directory.apply(Envelope.model_validate(body))


def apply_commitment_event(store: ResourcesStore, body: dict) -> bool:
    """A commitment's step, applied to its village's totals and to the need it serves, once
    each (a redelivered event changes nothing); False if the village had it already."""
    envelope = Envelope.model_validate(body)
    commitment = envelope.data
    applied = store.project_commitment(envelope, step_of_event(envelope.type).from_status,
                                       totals_change(envelope.type, commitment))
    settled = need_hold_after(envelope.type, commitment)
    if commitment.get("need_id") and settled is not None:
        # the commitment's village is its need's (hold_need.lua saw to it)
        store.settle_need_hold(commitment["need_id"], commitment["id"], *settled,
                               village=commitment["village_code"])
    return applied


def give_back_need_holds(store: ResourcesStore) -> int:
    """Holds on needs left by a commitment that was never stored go back to the need;
    returns how many did."""
    given_back = store.sweep_pending_holds()
    if given_back:
        log.warning("gave back %d need hold(s) of commitments never stored", given_back)
    return given_back
