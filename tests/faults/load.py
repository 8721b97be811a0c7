"""The stream of requests: commitments over HTTP, commitments over AMQP ingress, and
assignments (a cadre registered, then assigned), sent by a few client threads at a steady
pace, each retried as a careful client would until the system gives a final answer."""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
from kombu import Connection, Queue

HTTP_COMMITMENT, AMQP_COMMITMENT, ASSIGNMENT = "http-commitment", "amqp-commitment", "assignment"
# Out of every 10 requests: 4 over HTTP, 3 over AMQP, 3 assignments.
MIX = (HTTP_COMMITMENT,) * 4 + (AMQP_COMMITMENT,) * 3 + (ASSIGNMENT,) * 3

GIVE_UP_AFTER = 240.0  # seconds: a request still unanswered by then is reported, not hidden
REPLY_TIMEOUT = 8.0  # seconds an AMQP sender waits for its reply before publishing again


class GaveUp(Exception):
    pass


def cadre_name(number: int) -> str:
    """Unique per request: it marks the cadre, its assignment, their events and notifications."""
    return f"干部{number:05d}"


@dataclass
class Accepted:
    kind: str
    key: str  # the Idempotency-Key or message_id it was sent with
    # What marks everything this request made, whatever id the system gave it: a commitment's
    # note (its key), an assignment's cadre name. A retry that made a second record shows as
    # two records with one mark.
    request: str
    id: str  # the commitment's or assignment's id, as the system answered
    village: str
    township: str
    finished: float
    retries: int
    cadre_id: str | None = None


@dataclass
class Tally:
    """Everything the clients did. Updated from every client thread without a lock: under the
    test session's eventlet patch they are green threads, which never switch mid-update."""

    sent: Counter = field(default_factory=Counter)
    accepted: list[Accepted] = field(default_factory=list)
    retries: Counter = field(default_factory=Counter)  # attempts beyond the first, per kind
    retry_reasons: Counter = field(default_factory=Counter)
    retry_log: list[tuple[float, str]] = field(default_factory=list)  # (when, why)
    refused: list[dict] = field(default_factory=list)  # a final answer other than success
    gave_up: list[dict] = field(default_factory=list)
    stale_replies: int = 0  # AMQP replies to a message already answered (it was re-published)
    spans: list[tuple[float, float]] = field(default_factory=list)  # every request, start/end

    def retried(self, kind: str, reason: str) -> None:
        self.retries[kind] += 1
        self.retry_reasons[reason] += 1
        self.retry_log.append((time.monotonic(), f"{kind}: {reason}"))


class Pacer:
    """Hands out the request budget at a steady rate, so the stream is still flowing when the
    last fault comes; the fault schedule re-plans the rate as it goes."""

    def __init__(self, total: int, seconds: float):
        self.total = total
        self.issued = 0
        self.lock = threading.Lock()
        self.next_at = time.monotonic()
        self._burst_until = 0
        self.pace(seconds)

    def pace(self, seconds_left: float, reserved: int = 0) -> None:
        """Spread what is left of the budget, less `reserved` (kept for bursts to come), over
        `seconds_left`."""
        with self.lock:
            remaining = max(1, self.total - self.issued - reserved)
            self.interval = max(0.0, seconds_left) / remaining

    def burst(self, count: int) -> None:
        """Let `count` requests go at once (as fast as the clients can send them), then go on
        at the planned pace: a fault injected just after lands on work in flight."""
        with self.lock:
            self.next_at = time.monotonic()
            self._burst_until = min(self.total, self.issued + count)

    def take(self) -> int | None:
        with self.lock:
            if self.issued >= self.total:
                return None
            number = self.issued
            self.issued += 1
            slot = max(time.monotonic(), self.next_at)
            if number + 1 >= self._burst_until:
                self.next_at = slot + self.interval
        time.sleep(max(0.0, slot - time.monotonic()))
        return number


def post_until_answered(client: httpx.Client, path: str, body: dict, key: str, kind: str,
                        tally: Tally) -> tuple[httpx.Response, int]:
    """POST with one Idempotency-Key until the system answers for real. A connection error,
    a timeout, a 5xx or a 429 says nothing about whether the request was done, so the only
    safe move is to send it again with the same key; the first answer comes back."""
    deadline = time.monotonic() + GIVE_UP_AFTER
    retries, pause = 0, 0.2
    while True:
        try:
            response = client.post(path, json=body, headers={"Idempotency-Key": key})
            if response.status_code < 500 and response.status_code != 429:
                return response, retries
            reason = f"HTTP {response.status_code}"
        except httpx.TransportError as exc:
            reason = type(exc).__name__
        if time.monotonic() > deadline:
            raise GaveUp(f"POST {path} {key}: still {reason} after {GIVE_UP_AFTER:.0f}s")
        retries += 1
        tally.retried(kind, reason)
        time.sleep(pause)
        pause = min(pause * 2, 2.0)


class DepartmentSystem:
    """A department's own system committing over AMQP (CONTRACT §5): publishes to
    `guabang.ingress` with confirms, `message_id` as its idempotency key, and waits for the
    answer on a queue of its own; no answer in time (the broker restarting, say) means
    publishing the same message again."""

    def __init__(self, amqp_uri: str, account: str, reply_queue: str):
        self.amqp_uri = amqp_uri
        self.account = account
        # Durable: an answer sent while this sender reconnects waits for it.
        self.replies = Queue(reply_queue, durable=True)
        self.connection: Connection | None = None

    def _connect(self) -> None:
        if self.connection is None:
            self.connection = Connection(self.amqp_uri, connect_timeout=3,
                                         transport_options={"confirm_publish": True})
            self.channel = self.connection.channel()
            self.bound = self.replies(self.channel)
            self.bound.declare()
            self.producer = self.connection.Producer(self.channel)

    def _disconnect(self) -> None:
        if self.connection is not None:
            try:
                self.connection.release()
            except Exception:  # it is broken already; we only want it gone
                pass
            self.connection = None

    def commit(self, body: dict, message_id: str, tally: Tally) -> tuple[dict, int]:
        deadline = time.monotonic() + GIVE_UP_AFTER
        retries = 0
        while True:
            try:
                self._connect()
                # With confirm_publish, publish returns once the broker has the message.
                self.producer.publish(
                    json.dumps(body, ensure_ascii=False), exchange="guabang.ingress",
                    routing_key="commitment.create", user_id=self.account,
                    message_id=message_id, correlation_id=message_id,
                    reply_to=self.replies.name, content_type="application/json",
                    content_encoding="utf-8", delivery_mode=2)
                reply = self._await_reply(message_id, tally)
                if reply is not None:
                    return reply, retries
                reason = "no reply in time"
            except Exception as exc:  # connection refused or lost, publish not confirmed
                reason = f"AMQP {type(exc).__name__}"
                self._disconnect()
                time.sleep(0.5)
            if time.monotonic() > deadline:
                raise GaveUp(f"AMQP commitment {message_id}: still {reason}")
            retries += 1
            tally.retried(AMQP_COMMITMENT, reason)

    def _await_reply(self, message_id: str, tally: Tally) -> dict | None:
        deadline = time.monotonic() + REPLY_TIMEOUT
        while time.monotonic() < deadline:
            message = self.bound.get(no_ack=True)
            if message is None:
                time.sleep(0.02)
            elif message.properties.get("correlation_id") == message_id:
                return json.loads(message.body)
            else:
                tally.stale_replies += 1  # the answer to an earlier, re-published message
        return None

    def close(self) -> None:
        self._disconnect()


@dataclass
class Target:
    """Who the requests act as, and where they go."""

    villages: dict[str, str]  # village code -> its township code
    http_department: str
    amqp_department: str
    cadre_department: str
    keys: dict[str, str]  # department code -> its API key
    department_amqp_uri: str  # the AMQP department's own broker account
    run: str  # a prefix that makes this run's keys unique


class Client(threading.Thread):
    """One client thread; takes request numbers from the pacer until the budget is spent."""

    def __init__(self, number: int, base_url: str, target: Target, pacer: Pacer,
                 tally: Tally):
        super().__init__(daemon=True, name=f"faults-client-{number}")
        self.number = number
        self.target = target
        self.pacer = pacer
        self.tally = tally
        self.http = {code: httpx.Client(base_url=base_url, timeout=15.0,
                                        headers={"Authorization": f"Bearer {key}"})
                     for code, key in target.keys.items()}
        account = f"dept-{target.amqp_department}"
        self.department_system = DepartmentSystem(target.department_amqp_uri, account,
                                                  f"{account}.faults-replies-{number}")

    def run(self) -> None:
        villages = sorted(self.target.villages)
        while (number := self.pacer.take()) is not None:
            kind = MIX[number % len(MIX)]
            village = villages[number % len(villages)]
            self.tally.sent[kind] += 1
            started = time.monotonic()
            try:
                self.send(kind, number, village)
            except GaveUp as exc:
                self.tally.gave_up.append({"kind": kind, "number": number, "why": str(exc)})
            except Exception as exc:  # an answer the client did not expect: report, go on
                self.tally.gave_up.append({"kind": kind, "number": number,
                                           "why": f"client failed: {exc!r}"})
            self.tally.spans.append((started, time.monotonic()))
        self.close()

    def send(self, kind: str, number: int, village: str) -> None:
        target = self.target
        if kind == ASSIGNMENT:
            self.assign(number, village)
            return
        department = target.http_department if kind == HTTP_COMMITMENT else \
            target.amqp_department
        key = f"{target.run}-{kind}-{number}"
        body = {"department_code": department, "village_code": village, "kind": "cement",
                "unit": "吨", "quantity": "1", "note": key}
        if kind == HTTP_COMMITMENT:
            response, retries = post_until_answered(self.http[department], "/v1/commitments",
                                                    body, key, kind, self.tally)
            status, answer = response.status_code, response.json()
        else:
            reply, retries = self.department_system.commit(body, key, self.tally)
            status, answer = reply["status"], reply["body"]
        if status != 201:
            self.tally.refused.append({"kind": kind, "key": key, "status": status,
                                       "body": answer})
            return
        self.accept(kind, key, key, answer["id"], village, retries)

    def assign(self, number: int, village: str) -> None:
        """A cadre registered, then sent to the village as a member: two requests, each with
        its own Idempotency-Key, each retried until answered."""
        department = self.target.cadre_department
        client = self.http[department]
        key = f"{self.target.run}-cadre-{number}"
        cadre, cadre_retries = post_until_answered(
            client, "/v1/cadres", {"name": cadre_name(number), "department_code": department},
            key, ASSIGNMENT, self.tally)
        if cadre.status_code != 201:
            self.tally.refused.append({"kind": ASSIGNMENT, "key": key,
                                       "status": cadre.status_code, "body": cadre.json()})
            return
        cadre_id = cadre.json()["id"]
        key = f"{self.target.run}-assignment-{number}"
        assigned, retries = post_until_answered(
            client, "/v1/assignments",
            {"cadre_id": cadre_id, "village_code": village, "role": "member",
             "starts_on": "2026-03-01", "ends_on": "2028-02-29"}, key, ASSIGNMENT, self.tally)
        if assigned.status_code != 201:
            self.tally.refused.append({"kind": ASSIGNMENT, "key": key,
                                       "status": assigned.status_code, "body": assigned.json()})
            return
        self.accept(ASSIGNMENT, key, cadre_name(number), assigned.json()["id"], village,
                    cadre_retries + retries, cadre_id=cadre_id)

    def accept(self, kind, key, request, record_id, village, retries, cadre_id=None) -> None:
        self.tally.accepted.append(Accepted(
            kind=kind, key=key, request=request, id=record_id, village=village,
            township=self.target.villages[village], finished=time.monotonic(),
            retries=retries, cadre_id=cadre_id))

    def close(self) -> None:
        for client in self.http.values():
            client.close()
        self.department_system.close()
