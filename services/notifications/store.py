"""Townships' feeds in Redis: inboxes, receipts, webhooks and their deliveries.

Every write that spans keys is one script of `lua/`, which owns its invariant; the methods
answer outcomes (an `Outcome`, services/common/storage/outcomes.py; a read None for "no such
thing"), never problems: the use cases decide what an outcome means to the caller.

Each township's notifications are numbered by a per-township sequence. That number is the
list cursor and the stream's event id, so order is stable and resuming never skips. A
township's keys share the hash tag `{township:<code>}`; the id index, the due-deliveries
queue and the set of townships are shared.
"""
from __future__ import annotations

import json
import time
import zlib
from typing import NamedTuple

import redis

from services.common.messaging import background
from services.common.messaging.outbox import register_outbox, wake_relay
from services.common.storage.directory_projection import DirectoryProjection
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.storage.outcomes import OK, REPLAY, Outcome
from services.common.storage.scripts import load_script

SERVICE = "notifications"
ID_INDEX = "notifications:ids"
DISPATCHER_LOOP = "notifications:webhook-deliveries"
DUE_DELIVERIES = "notifications:webhooks:due"
TOWNSHIPS = "notifications:townships"
CLAIM_LOOK = 128  # due deliveries one claim looks at, at most
SKIPPED_WAIT_MS = 100  # how long deliveries a claim skipped (their webhook was busy) wait


# Inboxes keep every notification a township ever had: most of the store's memory. An item is
# deflated with a preset dictionary of what every item repeats (field names, event types,
# statuses), so even a single small item shrinks to about half.
PACKED = b"\x01"
_DICTIONARY = json.dumps({
    "id": "ntf_", "event_id": "", "type": "resources.commitment_created", "township_code": "",
    "village_code": "", "occurred_at": "2026-11-26T00:00:00.000Z", "title_zh": "承诺向提供",
    "title_en": " committed  of  to ", "data": {
        "id": "cmt_", "status": "committed", "department_code": "", "village_code": "",
        "township_code": "", "kind": "", "unit": "", "quantity": ".00", "need_id": None,
        "note": None, "created_at": "2026-11-26T00:00:00.000Z", "delivered_quantity": None,
        "cadre_name": "", "role": "member", "starts_on": "", "ends_on": "", "category": "",
        "title": "", "reported_by": "township:"},
    "acked_at": None}, ensure_ascii=False, separators=(",", ":")).encode()


def pack(notification: dict) -> bytes:
    raw = json.dumps(notification, ensure_ascii=False, separators=(",", ":")).encode()
    deflate = zlib.compressobj(9, zdict=_DICTIONARY)
    return PACKED + deflate.compress(raw) + deflate.flush()


def unpack(stored: bytes) -> dict:
    if stored[:1] == PACKED:
        inflate = zlib.decompressobj(zdict=_DICTIONARY)
        return json.loads(inflate.decompress(stored[1:]) + inflate.flush())
    return json.loads(stored)


def township_slot(code: str) -> str:
    return f"notifications:{{township:{code}}}"


def _health_key(slot: str, webhook_id: str) -> str:
    """What deliveries learned about a webhook (lua/webhook_health.lua lays it over the
    webhook's record)."""
    return f"{slot}:webhook:{webhook_id}:health"


def _health_key_around(slot: str) -> list[str]:
    """A webhook's health key before and after its id, for the scripts that find the id
    themselves (no slot or webhook id holds a `|`)."""
    return _health_key(slot, "|").split("|")


def _attempts_key(slot: str, delivery_id: str) -> str:
    return f"{slot}:delivery:{delivery_id}:attempts"


def due_member(township_code: str, delivery_id: str, webhook_id: str) -> str:
    """A due delivery, named with its webhook so the claim can keep to each webhook's share
    without reading the delivery (lua/claim_due.lua reads the webhook id out of it)."""
    return f"{township_code}|{delivery_id}|{webhook_id}"


class Claim(NamedTuple):
    township_code: str
    delivery_id: str
    webhook_id: str  # "" for a delivery queued before due members named their webhook
    member: str  # as it stands in the due queue

    @classmethod
    def of(cls, member: str) -> Claim:
        """The claim of a member as due_member makes it (or made it, without the webhook)."""
        township, delivery_id, *webhook = member.split("|")
        return cls(township, delivery_id, "".join(webhook), member)


class AttemptContext(NamedTuple):
    delivery: dict
    webhook: dict | None  # None once the webhook was deleted
    notification: dict | None


def _now_ms() -> int:
    return int(time.time() * 1000)


class NotificationsStore:
    def __init__(self, client: redis.Redis):
        self.redis = client
        # packed inbox items are bytes: read them on connections that do not decode replies
        pool = client.connection_pool
        self.raw = redis.Redis(connection_pool=redis.ConnectionPool(
            connection_class=pool.connection_class,
            **{**pool.connection_kwargs, "decode_responses": False}))
        self.directory = DirectoryProjection(client, SERVICE)
        self._deliver = load_script(client, "services.notifications", "deliver")
        self._ack = load_script(self.raw, "services.notifications", "ack")
        self._webhooks = load_script(client, "services.notifications", "webhooks")
        self._save_webhook = load_script(client, "services.notifications", "save_webhook")
        self._claim_due = load_script(client, "services.notifications", "claim_due")
        self._attempt_context = load_script(self.raw, "services.notifications", "attempt_context")
        self._record_attempt = load_script(client, "services.notifications", "record_attempt")
        self._retry_delivery = load_script(client, "services.notifications", "retry_delivery")

    # --- inbox -------------------------------------------------------------------------------

    def deliver(self, notification: dict, outbox_entry: str,
                deliveries: list[dict]) -> bool:
        """Store a notification with its AMQP message and webhook deliveries, unless its id is
        already stored; True when it was new."""
        township = notification["township_code"]
        slot = township_slot(township)
        outbox = register_outbox(self.redis, SERVICE, f"{slot}:outbox")
        triples = [value for d in deliveries
                   for value in (d["id"], json.dumps(d),
                                 due_member(township, d["id"], d["webhook_id"]))]
        seq = self._deliver(
            keys=[ID_INDEX, f"{slot}:seq", f"{slot}:items", f"{slot}:order",
                  f"{slot}:unacked", outbox, f"{slot}:deliveries", DUE_DELIVERIES, TOWNSHIPS,
                  f"{slot}:deliveries:index"],
            args=[notification["id"], township, pack(notification),
                  outbox_entry, _now_ms(), *triples],
        )
        if seq:
            wake_relay(SERVICE, outbox)
            if deliveries:
                background.wake(DISPATCHER_LOOP)
        return bool(seq)

    def inbox(self, township_code: str, after: int | None, limit: int,
              unacked_only: bool = False) -> tuple[list[dict], str | None]:
        """Up to `limit` notifications after the cursor `after`, in their township's order,
        and the cursor of the next page (None on the last)."""
        slot = township_slot(township_code)
        order = f"{slot}:unacked" if unacked_only else f"{slot}:order"
        low = f"({after}" if after is not None else "-inf"
        seqs = self.redis.zrangebyscore(order, low, "+inf", start=0, num=limit + 1)
        more = len(seqs) > limit
        seqs = seqs[:limit]
        items = self._items(township_code, seqs)
        return items, (seqs[-1] if more else None)

    def _items(self, township_code: str, seqs: list[str]) -> list[dict]:
        if not seqs:
            return []
        slot = township_slot(township_code)
        with self.raw.pipeline(transaction=False) as pipe:
            pipe.hmget(f"{slot}:items", seqs)
            pipe.hmget(f"{slot}:acks", seqs)
            raws, acks = pipe.execute()
        items = []
        for seq, raw, ack in zip(seqs, raws, acks, strict=True):
            if raw:
                items.append(_with_receipt(unpack(raw), seq, ack))
        return items

    def ack(self, township_code: str, notification_id: str, receipt: dict) -> Outcome:
        """Sign for a notification once (`receipt`: acked_at and acked_by): 'ok' with the
        notification and its first receipt, or 'not-found' (the township has no such
        notification)."""
        slot = township_slot(township_code)
        outcome, *found = self._ack(
            keys=[ID_INDEX, f"{slot}:acks", f"{slot}:unacked", f"{slot}:items"],
            args=[notification_id, township_code, json.dumps(receipt)])
        if outcome.decode() != OK:
            return Outcome(outcome.decode())
        seq, ack, item = found
        return Outcome(OK, _with_receipt(unpack(item), seq.decode(), ack))

    def unacked_count(self, township_code: str) -> int:
        return self.redis.zcard(f"{township_slot(township_code)}:unacked")

    def townships(self) -> list[str]:
        return sorted(self.redis.smembers(TOWNSHIPS))

    # --- webhooks ----------------------------------------------------------------------------

    def webhooks(self, township_code: str) -> list[dict]:
        """A township's webhooks as they stand (with their health), oldest first (one round
        trip)."""
        slot = township_slot(township_code)
        found = self._webhooks(keys=[f"{slot}:webhooks"], args=_health_key_around(slot))
        return sorted((json.loads(raw) for raw in found), key=lambda w: w["created_at"])

    def save_webhook(self, township_code: str, webhook: dict, request: IdempotentRequest,
                     scope: str) -> Outcome:
        """Store a new webhook, or find the one `request`'s Idempotency-Key made (`scope`:
        whose keys these are): 'ok' or 'replay' with the webhook as it stands; 'reused' (the
        key came with another body); 'gone' with the id of the webhook the key made, removed
        since."""
        slot = township_slot(township_code)
        outcome, *found = self._save_webhook(
            keys=[f"{slot}:webhooks", TOWNSHIPS, request.redis_key(slot, f"webhook:{scope}")],
            args=[webhook["id"], json.dumps(webhook, ensure_ascii=False), township_code,
                  *_health_key_around(slot), *request.args()])
        if outcome == OK:
            return Outcome(OK, webhook)  # the one just stored, as it was given
        if outcome == REPLAY:
            return Outcome(REPLAY, json.loads(found[0]))
        return Outcome(outcome, detail=found[0] if found else None)

    def delete_webhook(self, township_code: str, webhook_id: str) -> bool:
        return bool(self.redis.hdel(f"{township_slot(township_code)}:webhooks", webhook_id))

    # --- deliveries --------------------------------------------------------------------------

    def deliveries(self, township_code: str, webhook_id: str) -> list[dict] | None:
        """A webhook's deliveries in the order they were made (without their attempts), or
        None when the township has no such webhook."""
        slot = township_slot(township_code)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hexists(f"{slot}:webhooks", webhook_id)
            pipe.zrange(f"{slot}:deliveries:index", 0, -1)
            exists, ids = pipe.execute()
        if not exists:
            return None
        raws = self.redis.hmget(f"{slot}:deliveries", ids) if ids else []
        return [d for d in (json.loads(raw) for raw in raws if raw)
                if d["webhook_id"] == webhook_id]

    def attempts(self, township_code: str, delivery_ids: list[str]) -> dict[str, list[dict]]:
        """Every attempt of each delivery, oldest first (one round trip)."""
        slot = township_slot(township_code)
        with self.redis.pipeline(transaction=False) as pipe:
            for delivery_id in delivery_ids:
                pipe.lrange(_attempts_key(slot, delivery_id), 0, -1)
            found = pipe.execute() if delivery_ids else []
        return {delivery_id: [json.loads(raw) for raw in raws]
                for delivery_id, raws in zip(delivery_ids, found, strict=True)}

    def claim_due(self, lease_ms: int, limit: int, per_webhook: int,
                  in_flight: dict[str, int]) -> list[Claim]:
        """Up to `limit` due deliveries, leased for `lease_ms`, none for a webhook that already
        has `per_webhook` attempts in flight (`in_flight`: attempts per webhook id)."""
        busy = [value for webhook_id, count in in_flight.items() if count
                for value in (webhook_id, count)]
        members = self._claim_due(keys=[DUE_DELIVERIES], args=[
            _now_ms(), lease_ms, limit, per_webhook, CLAIM_LOOK, SKIPPED_WAIT_MS, *busy])
        return [Claim.of(member) for member in members]

    def attempt_context(self, township_code: str, delivery_id: str) -> AttemptContext | None:
        """The delivery, its webhook as it stands (with its health) and its notification, in
        one round trip."""
        slot = township_slot(township_code)
        found = self._attempt_context(
            keys=[f"{slot}:deliveries", f"{slot}:webhooks", ID_INDEX, f"{slot}:items"],
            args=[delivery_id, *_health_key_around(slot)])
        if not found:
            return None
        delivery, webhook, item = found
        return AttemptContext(json.loads(delivery), json.loads(webhook) if webhook else None,
                              unpack(item) if item else None)

    def record_attempt(self, township_code: str, delivery: dict, attempt: dict,
                       next_due_ms: int | None, verdict: str = "", webhook_note: str = "", *,
                       claimed_as: str) -> None:
        """The attempt, the delivery's new state, when (if ever) to try again, and what it
        tells about the webhook (`verdict`: succeeded, failed, gone, or '' for nothing, with
        `webhook_note`), in one step. `claimed_as`: the delivery's member in the due queue
        when it was claimed from it ('' when it was not)."""
        slot = township_slot(township_code)
        self._record_attempt(
            keys=[_attempts_key(slot, delivery["id"]), f"{slot}:deliveries", DUE_DELIVERIES,
                  _health_key(slot, delivery["webhook_id"])],
            args=[json.dumps(attempt), delivery["id"], json.dumps(delivery),
                  due_member(township_code, delivery["id"], delivery["webhook_id"]),
                  claimed_as, "" if next_due_ms is None else next_due_ms, verdict,
                  attempt["at"], webhook_note])

    def retry(self, township_code: str, webhook_id: str, delivery_id: str,
              now: str) -> Outcome:
        """Make a finished delivery due again now (`now`: its next_attempt_at): 'ok' with the
        delivery and its attempts; 'no-webhook', 'no-delivery' (none of this webhook),
        'webhook-disabled' with why (or None), 'pending' (it already waits for an attempt)."""
        slot = township_slot(township_code)
        outcome, *found = self._retry_delivery(
            keys=[f"{slot}:webhooks", f"{slot}:deliveries", DUE_DELIVERIES,
                  _attempts_key(slot, delivery_id), _health_key(slot, webhook_id)],
            args=[webhook_id, delivery_id, due_member(township_code, delivery_id, webhook_id),
                  _now_ms(), now])
        if outcome == "webhook-disabled":
            return Outcome(outcome, detail=found[0] or None)
        if outcome != OK:
            return Outcome(outcome)
        raw, attempts = found
        return Outcome(outcome, {**json.loads(raw),
                                 "attempts": [json.loads(a) for a in attempts]})

    def drop_due(self, member: str) -> None:
        self.redis.zrem(DUE_DELIVERIES, member)


def _with_receipt(item: dict, seq, ack) -> dict:
    receipt = json.loads(ack) if ack else {}
    return {**item, "cursor": str(seq), "acked_at": receipt.get("acked_at"),
            "acked_by": receipt.get("acked_by")}
