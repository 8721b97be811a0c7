"""The fault suite: a steady stream of requests while every service is killed in turn, the
broker and Redis are restarted, and a service starts only after events for it were published;
then, for every accepted request, count what was stored, what was published and what each
township received on each channel (ENGINEERING, "faults").

Everything runs on a RabbitMQ node and a Redis server of the suite's own (tests/faults/infra),
never on the machine's shared ones. `run_suite(requests)` does it all and returns the counts;
tests/faults/test_faults.py asserts on them, `make faults` runs a large one.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import signal
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from tests.faults.infra import PrivateInfra
from tests.faults.load import (
    AMQP_COMMITMENT,
    ASSIGNMENT,
    HTTP_COMMITMENT,
    Client,
    Pacer,
    Tally,
    Target,
)
from tests.faults.observers import QueueTap
from tests.support.channels import StreamReader, WebhookReceiver
from tests.support.system import ROOT, System, department_amqp_uri, wait_until

REQUESTS_ENV = "GUABANG_FAULTS_REQUESTS"
BOUNDED_REQUESTS = 300
RESULTS_ENV = "GUABANG_FAULTS_RESULTS"
BOUNDED_RESULTS = "faults-results-bounded.json"
KEEP_ENV = "GUABANG_FAULTS_KEEP"  # set: keep the temp dir and the service logs, to look into
# Set: a service process that exits by itself (restarted by the supervisor) fails the run too.
# Off by default: deployment restarts such a process (compose's `restart: unless-stopped`)
# and the counts show whether anything was lost; the report lists every such exit.
STRICT_ENV = "GUABANG_FAULTS_STRICT"

COUNTY = "619998"  # a county code no real county has
TOWNSHIPS = {f"{COUNTY}101": "双流镇", f"{COUNTY}102": "金中镇"}
VILLAGES = {f"{township}{n}": township for township in TOWNSHIPS for n in (201, 202, 203)}
HTTP_DEPARTMENT, AMQP_DEPARTMENT, CADRE_DEPARTMENT = "faults-http", "faults-amqp", \
    "faults-cadres"
NOTIFIED_TYPES = {"resources.commitment_created", "assignment.assignment_started"}

CLIENTS = 6
WARMUP = 5.0  # seconds of load before the first fault
SLOT = 10.0  # seconds from one fault to the next, when the fault and recovery take less
COOLDOWN = 5.0  # seconds of load after the last fault
CALM = 3.0  # at least this long between one fault's recovery and the next fault
# Each fault lands inside a burst of requests, so it catches work in flight in every service
# (the steady pace alone leaves the system idle most of the time).
BURST = 16  # requests let go at once just before a fault
BURST_LEAD = 0.3  # seconds from the burst to the fault
KILLED_FOR = 1.5  # seconds a SIGKILLed service stays down
# Seconds a killed server stays down before it is started again (RabbitMQ then takes ~8 s to
# boot). Redis stays down long enough for event handlers to fail and go through their retries.
SERVER_DOWN_FOR = {"RabbitMQ": 1.0, "Redis": 3.0}
LATE_BY = 6.0  # seconds notifications stays stopped while events for it are published
DRAIN_LIMIT = 180.0  # seconds to wait for every channel to catch up (webhook leases are 35 s)
QUIET_FOR = 5.0  # the counts must not change for this long to be final

SERVICE_ENV = {
    # A handler that failed during a fault is retried later; these delays outlast any fault
    # here (the longest, a broker restart, is about 10 s), so no message is parked for one.
    "GUABANG_HANDLER_RETRY_DELAYS": "1,2,5,10,20,30",
    # The receivers here always answer 2xx; an attempt fails only when a fault hits it.
    "GUABANG_WEBHOOK_RETRY_SCHEDULE": "1,2,5,10,30",
    # A delivery whose dispatcher was killed is sent again when its lease (the timeout + 30 s)
    # runs out; a short timeout keeps that wait short.
    "GUABANG_WEBHOOK_TIMEOUT": "5",
}


# --- the timeline ---------------------------------------------------------------------------

class Timeline:
    def __init__(self):
        self.t0 = time.monotonic()
        self.entries: list[dict] = []

    def at(self, moment: float) -> float:
        return round(moment - self.t0, 1)

    def note(self, text: str) -> None:
        self.entries.append({"t": self.at(time.monotonic()), "event": text})
        print(f"faults: t={self.at(time.monotonic()):6.1f}s {text}", flush=True)


@dataclass
class FaultRecord:
    name: str
    round: int
    started: float = 0.0  # seconds into the stream
    recovered: float = 0.0  # /health all ok again
    requests_in_flight: int = 0  # requests started before recovery and finished after start
    accepted_while_down: int | None = None  # for a late start: accepted while it was stopped
    detail: str = ""
    # what the clients were told while it lasted (and until the next fault): why they retried
    client_retries: dict = field(default_factory=dict)


class Supervisor(threading.Thread):
    """Restarts a service process that exited by itself, as `restart: unless-stopped` does in
    docker-compose.yml. Each such restart goes in the timeline: it is a finding, even though
    deployment would absorb it. The fault injector holds `lock` while it stops and starts
    services, so an intended stop is never mistaken for a crash."""

    def __init__(self, system: System, timeline: Timeline):
        super().__init__(daemon=True, name="faults-supervisor")
        self.system = system
        self.timeline = timeline
        self.lock = threading.RLock()
        self.restarts: list[dict] = []
        self._running = True

    def run(self) -> None:
        while self._running:
            time.sleep(0.5)
            with self.lock:
                for name, process in list(self.system.processes.items()):
                    code = process.process.poll()
                    if code is not None and self._running:
                        tail = process.output()[-1500:]
                        self.restarts.append({"service": name, "exit_code": code,
                                              "t": self.timeline.at(time.monotonic()),
                                              "log_tail": tail})
                        self.timeline.note(f"{name} exited by itself (code {code}); "
                                           "the supervisor restarts it")
                        self.system.processes.pop(name)
                        self.system.start(name)

    def stop(self) -> None:
        self._running = False


class FaultSystem(System):
    """System, keeping every process it ever started, for their logs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.all_processes = []

    def start(self, *names: str) -> FaultSystem:
        super().start(*names)
        for name in names or list(self.processes):
            self.all_processes.append(self.processes[name])
        return self

    def remove_logs(self) -> None:
        for process in self.all_processes:
            Path(process.log.name).unlink(missing_ok=True)

    def log_paths(self) -> list[str]:
        return [f"{p.name}: {p.log.name}" for p in self.all_processes]


# --- the faults -----------------------------------------------------------------------------

def kill_service(system: System, supervisor: Supervisor, name: str) -> str:
    with supervisor.lock:
        system.stop(name, sig=signal.SIGKILL)
        time.sleep(KILLED_FOR)
        system.start(name)
    return f"SIGKILL, started again after {KILLED_FOR}s"


def restart_server(server, what: str) -> str:
    started = time.monotonic()
    server.kill()
    time.sleep(SERVER_DOWN_FOR[what])
    server.start()
    return f"SIGKILL to {what}, started again on the same data dir; answering again after " \
           f"{time.monotonic() - started:.1f}s"


def start_late(system: System, supervisor: Supervisor, name: str) -> tuple[str, float, float]:
    with supervisor.lock:
        system.stop(name)  # SIGTERM: a clean stop, then events for it pile up in its queues
        down_at = time.monotonic()
        time.sleep(LATE_BY)
        up_at = time.monotonic()
        system.start(name)
    return f"SIGTERM, started again {LATE_BY}s later", down_at, up_at


FAULT_NAMES = ("kill assignment", "kill resources", "kill notifications", "kill gateway",
               "restart RabbitMQ", "restart Redis", "notifications starts late")


def fault_plan(system: System, supervisor: Supervisor, infra: PrivateInfra) -> list:
    """One round, in FAULT_NAMES order: (name, action); an action returns a detail for the
    timeline (and, for a late start, when the service was down)."""
    actions = {
        **{f"kill {name}": (lambda name=name: kill_service(system, supervisor, name))
           for name in ("assignment", "resources", "notifications", "gateway")},
        "restart RabbitMQ": lambda: restart_server(infra.rabbit, "RabbitMQ"),
        "restart Redis": lambda: restart_server(infra.redis, "Redis"),
        "notifications starts late": lambda: start_late(system, supervisor, "notifications"),
    }
    return [(name, actions[name]) for name in FAULT_NAMES]


def run_faults(system: System, plan: list, pacer: Pacer, tally: Tally, timeline: Timeline,
               rounds: int) -> list[FaultRecord]:
    """Each fault of the plan in turn, `rounds` times, each inside a burst of requests; waits
    for /health to be all ok after each, then for the rest of its slot."""
    total = len(plan) * rounds
    records: list[FaultRecord] = []
    time.sleep(WARMUP)
    for number in range(total):
        name, action = plan[number % len(plan)]
        # Re-plan the pace: the rest of the budget, less this and later faults' bursts, spread
        # over what is left of the schedule (a slow fault has eaten into it).
        pacer.pace((total - number) * SLOT + COOLDOWN, reserved=(total - number) * BURST)
        record = FaultRecord(name=name, round=number // len(plan) + 1)
        slot_start = time.monotonic()
        pacer.burst(BURST)
        time.sleep(BURST_LEAD)
        record.started = timeline.at(time.monotonic())
        timeline.note(f"fault: {name}")
        outcome = action()
        if isinstance(outcome, tuple):
            outcome, down_at, up_at = outcome
            record.accepted_while_down = sum(1 for a in list(tally.accepted)
                                             if down_at <= a.finished <= up_at)
        record.detail = outcome
        system.wait_healthy(timeout=120)
        record.recovered = timeline.at(time.monotonic())
        timeline.note(f"recovered from {name}: {outcome}")
        records.append(record)
        time.sleep(max(CALM, slot_start + SLOT - time.monotonic()))
    return records


# --- setting up the county ------------------------------------------------------------------

def ok(response: httpx.Response, *statuses: int) -> dict:
    assert response.status_code in (statuses or (200, 201)), \
        f"{response.request.method} {response.request.url}: {response.status_code} " \
        f"{response.text}"
    return response.json()


@dataclass
class County:
    keys: dict[str, str] = field(default_factory=dict)  # principal -> API key
    webhooks: dict[str, dict] = field(default_factory=dict)  # township -> webhook
    department_amqp_uri: str = ""


def set_up_county(system: System, receivers: dict[str, WebhookReceiver]) -> County:
    county = County()
    with system.client() as admin:
        for code, name in TOWNSHIPS.items():
            ok(admin.put(f"/v1/townships/{code}", json={"name": name, "county_code": COUNTY}))
        for number, (code, township) in enumerate(sorted(VILLAGES.items())):
            ok(admin.put(f"/v1/villages/{code}", json={
                "name": f"试点{number + 1}村", "township_code": township, "hardship": 3}))
        for code in (HTTP_DEPARTMENT, AMQP_DEPARTMENT, CADRE_DEPARTMENT):
            ok(admin.put(f"/v1/departments/{code}", json={"name": f"县{code}局",
                                                          "level": "county"}))
        for code in (HTTP_DEPARTMENT, AMQP_DEPARTMENT):  # plenty: a 409 should never come
            ok(admin.post(f"/v1/departments/{code}/pool",
                          json={"kind": "cement", "unit": "吨", "quantity": "10000000"}))
        for principal in (f"department:{HTTP_DEPARTMENT}", f"department:{CADRE_DEPARTMENT}",
                          *(f"township:{code}" for code in TOWNSHIPS)):
            county.keys[principal] = ok(admin.post("/v1/api-keys",
                                                   json={"principal": principal}))["key"]
    for code in TOWNSHIPS:
        with system.client(county.keys[f"township:{code}"]) as township:
            county.webhooks[code] = ok(township.post(f"/v1/townships/{code}/webhooks", json={
                "url": receivers[code].url, "types": ["*"]}))
    county.department_amqp_uri = department_amqp_uri(system, AMQP_DEPARTMENT)
    return county


# --- the townships' ends --------------------------------------------------------------------

class Watchers:
    """Every consumer the suite runs: its own tap on guabang.events, and for each township an
    AMQP queue, a live stream and a webhook receiver (the inbox is read at the end)."""

    def __init__(self, amqp_uri: str):
        self.events = QueueTap(amqp_uri, "faults.events-tap", "guabang.events", "#")
        self.queues = {code: QueueTap(amqp_uri, f"township-{code}-faults",
                                      "guabang.notifications", f"township.{code}.#")
                       for code in TOWNSHIPS}
        self.receivers = {code: WebhookReceiver() for code in TOWNSHIPS}
        self.streams: dict[str, StreamReader] = {}

    def start_streams(self, base_url: str, county: County) -> None:
        self.streams = {code: StreamReader(base_url, code, county.keys[f"township:{code}"])
                        for code in TOWNSHIPS}

    def close(self) -> None:
        for closeable in (self.events, *self.queues.values(), *self.receivers.values(),
                          *self.streams.values()):
            try:
                closeable.close()
            except Exception:  # closing one must not keep the others open
                pass


def request_of(event_type: str, data: dict) -> str | None:
    """The request an event or notification comes from, by the mark the request left on what
    it made (see load.Accepted.request), so a second record made by one request shows as a
    duplicate, not as a stranger."""
    if event_type == "resources.commitment_created":
        return data.get("note")
    if event_type == "assignment.assignment_started":
        return data.get("cadre_name")
    return None


def notification_of(item: dict) -> tuple[str, str | None, str, str]:
    """(notification id, the request it comes from, township, type)."""
    return item["id"], request_of(item["type"], item["data"]), item["township_code"], \
        item["type"]


def read_all(client: httpx.Client, path: str, params: dict | None = None) -> list[dict]:
    """Every item of a paged list, retried if a page fails (the system is still settling)."""
    items, cursor = [], None
    while True:
        query = {**(params or {}), "limit": 500, **({"after": cursor} if cursor else {})}
        body = wait_until(lambda query=query: _page(client, path, query), 60, 0.5,
                          f"GET {path}")
        items += body["items"]
        cursor = body["next"]
        if not cursor:
            return items


def _page(client: httpx.Client, path: str, query: dict) -> dict | None:
    try:
        response = client.get(path, params=query)
    except httpx.TransportError:
        return None
    return response.json() if response.status_code == 200 else None


def signed_by(secret: str, receipt: dict) -> bool:
    """CONTRACT's webhook signature: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`
    keyed by the secret's bytes after `whsec_`, base64-decoded. Checked here rather than
    with the standardwebhooks library, which also refuses timestamps over five minutes old,
    and a long run reads its first receipts later than that."""
    headers = {name.lower(): value for name, value in receipt["headers"].items()}
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode() \
        + receipt["body"]
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, given)
               for given in headers.get("webhook-signature", "").split())


def complete_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


class Channels:
    """Reads every channel into (notification id, request, township, type) records."""

    def __init__(self, system: System, county: County, watchers: Watchers):
        self.system = system
        self.county = county
        self.watchers = watchers

    def township_client(self, code: str) -> httpx.Client:
        return self.system.client(self.county.keys[f"township:{code}"])

    def inbox(self, code: str) -> list[tuple]:
        with self.township_client(code) as client:
            return [notification_of(i) for i in
                    read_all(client, f"/v1/townships/{code}/notifications")]

    def stream(self, code: str) -> list[tuple]:
        return [notification_of(e["data"]) for e in list(self.watchers.streams[code].events)]

    def webhook(self, code: str) -> list[tuple]:
        """The deliveries a receiver would accept: those whose signature checks out."""
        return [notification_of(json.loads(r["body"]))
                for r in list(self.watchers.receivers[code].received)
                if signed_by(self.county.webhooks[code]["secret"], r)]

    def webhook_receipts(self, code: str) -> dict:
        """Every POST the receiver got: signed right, torn (a sender killed mid-request
        leaves a cut body, which fails the signature; the delivery is sent again when its
        lease runs out) or a complete body signed wrong (a bug)."""
        secret = self.county.webhooks[code]["secret"]
        receipts = list(self.watchers.receivers[code].received)
        unsigned = [r for r in receipts if not signed_by(secret, r)]
        return {"raw": len(receipts), "verified": len(receipts) - len(unsigned),
                "torn": sum(1 for r in unsigned if not complete_json(r["body"])),
                "bad_signature": sum(1 for r in unsigned if complete_json(r["body"]))}

    def amqp(self, code: str) -> list[tuple]:
        return [notification_of(m["body"]) for m in list(self.watchers.queues[code].received)]

    def events(self) -> list[tuple[str, str, str]]:
        """(event id, request, type) for every delivery of an event the townships hear of."""
        return [(m["body"]["event_id"], request_of(m["body"]["type"], m["body"]["data"]),
                 m["body"]["type"])
                for m in list(self.watchers.events.received)
                if m["body"]["type"] in NOTIFIED_TYPES]

    def deliveries(self, code: str) -> Counter:
        """The township's webhook deliveries by status, as its delivery log shows them."""
        webhook = self.county.webhooks[code]
        with self.township_client(code) as client:
            items = read_all(client, f"/v1/townships/{code}/webhooks/{webhook['id']}/deliveries")
        return Counter(d["status"] for d in items)

    def raw_counts(self) -> tuple:
        w = self.watchers
        return (len(w.events.received),
                *(len(w.queues[c].received) for c in TOWNSHIPS),
                *(len(w.streams[c].events) for c in TOWNSHIPS),
                *(len(w.receivers[c].received) for c in TOWNSHIPS))


def expected_by_township(tally: Tally) -> dict[str, set[str]]:
    expected = {code: set() for code in TOWNSHIPS}
    for accepted in tally.accepted:
        expected[accepted.township].add(accepted.request)
    return expected


def drain(channels: Channels, tally: Tally, timeline: Timeline) -> bool:
    """Wait until every accepted request shows on every channel and every webhook delivery is
    delivered, then until the raw counts stop changing; bounded, so a loss ends in a report."""
    expected = expected_by_township(tally)
    everything = set().union(*expected.values())
    deadline = time.monotonic() + DRAIN_LIMIT

    def caught_up() -> bool:
        if not everything <= {request for _, request, _ in channels.events()}:
            return False
        for code, ids in expected.items():
            for read in (channels.stream, channels.webhook, channels.amqp):
                if not ids <= {request for _, request, _, _ in read(code)}:
                    return False
        for code, ids in expected.items():
            if not ids <= {request for _, request, _, _ in channels.inbox(code)}:
                return False
            if set(channels.deliveries(code)) - {"delivered"}:
                return False
        return True

    complete = False
    while time.monotonic() < deadline:
        if caught_up():
            complete = True
            break
        time.sleep(2.0)
    timeline.note("every channel caught up" if complete else
                  f"drain limit ({DRAIN_LIMIT:.0f}s) reached with channels behind")
    counts, quiet_since = channels.raw_counts(), time.monotonic()
    while time.monotonic() - quiet_since < QUIET_FOR and time.monotonic() < deadline + 30:
        time.sleep(0.5)
        now = channels.raw_counts()
        if now != counts:
            counts, quiet_since = now, time.monotonic()
    return complete


# --- counting -------------------------------------------------------------------------------

def notification_row(channel: str, township: str, records: list[tuple],
                     expected: set[str]) -> dict:
    """lost: an accepted request with no notification here; duplicated: one with two
    different notification ids; redelivered: the same notification id again (at-least-once
    delivery, absorbed by a receiver that dedupes on the id); unexpected: a notification for
    no accepted request of this township."""
    own = [r for r in records if r[2] == township and r[3] in NOTIFIED_TYPES]
    foreign = len(records) - len(own)  # another township's, or of a type no request made
    ids_by_request: dict[str, set[str]] = defaultdict(set)
    copies = Counter()
    for notification_id, request, _, _ in own:
        ids_by_request[request].add(notification_id)
        copies[notification_id] += 1
    return {
        "channel": channel, "township": township, "expected": len(expected),
        "received": len(copies),
        "lost": len(expected - ids_by_request.keys()),
        "duplicated": sum(1 for s in expected if len(ids_by_request.get(s, ())) > 1),
        "redelivered": sum(n - 1 for n in copies.values()),
        "unexpected": len(ids_by_request.keys() - expected) + foreign,
    }


def stored_row(what: str, listed: list[tuple[str, str]], accepted: dict[str, str]) -> dict:
    """`listed`: (request, id) of every stored record; `accepted`: request -> the id its
    client was given. lost: the id a client was given is not stored; duplicated: a request
    with two stored records; redelivered: a record listed twice (paging); unexpected: a
    record of no accepted request."""
    ids_by_request: dict[str, set[str]] = defaultdict(set)
    for request, record_id in listed:
        ids_by_request[request].add(record_id)
    distinct = {record_id for _, record_id in listed}
    return {"channel": f"stored: {what}", "township": "-", "expected": len(accepted),
            "received": len(distinct),
            "lost": sum(1 for r, i in accepted.items() if i not in ids_by_request.get(r, ())),
            "duplicated": sum(1 for r in accepted if len(ids_by_request.get(r, ())) > 1),
            "redelivered": len(listed) - len(distinct),
            "unexpected": len(ids_by_request.keys() - accepted.keys())}


def events_row(events: list[tuple[str, str, str]], expected: set[str]) -> dict:
    """Exactly one event per accepted request: duplicated is a request announced by two
    different event ids; redelivered, the same event id again (the relay re-publishes what it
    published but had not yet removed when it was killed; consumers absorb it)."""
    ids_by_request: dict[str, set[str]] = defaultdict(set)
    copies = Counter()
    for event_id, request, _ in events:
        ids_by_request[request].add(event_id)
        copies[event_id] += 1
    return {"channel": "events (guabang.events)", "township": "-", "expected": len(expected),
            "received": len(copies), "lost": len(expected - ids_by_request.keys()),
            "duplicated": sum(1 for s in expected if len(ids_by_request.get(s, ())) > 1),
            "redelivered": sum(n - 1 for n in copies.values()),
            "unexpected": len(ids_by_request.keys() - expected)}


def stored_rows(system: System, tally: Tally) -> list[dict]:
    """What the system stored, read back through the API as the admin, per request."""
    accepted = tally.accepted
    assignments = [a for a in accepted if a.kind == ASSIGNMENT]
    rows = []
    with system.client() as admin:
        for kind, department in ((HTTP_COMMITMENT, HTTP_DEPARTMENT),
                                 (AMQP_COMMITMENT, AMQP_DEPARTMENT)):
            listed = [(c["note"], c["id"]) for c in read_all(admin, "/v1/commitments",
                                                             {"department": department})]
            rows.append(stored_row(f"commitments ({kind.split('-')[0].upper()})", listed,
                                   {a.request: a.id for a in accepted if a.kind == kind}))
        cadres = [(c["name"], c["id"]) for c in read_all(admin, "/v1/cadres",
                                                         {"department": CADRE_DEPARTMENT})]
        rows.append(stored_row("cadres", cadres, {a.request: a.cadre_id for a in assignments}))
        team = [(a["cadre_name"], a["id"]) for village in sorted(VILLAGES)
                for a in read_all(admin, f"/v1/villages/{village}/team")]
        rows.append(stored_row("assignments", team, {a.request: a.id for a in assignments}))
    return rows


def count(system: System, channels: Channels, tally: Tally) -> list[dict]:
    expected = expected_by_township(tally)
    rows = stored_rows(system, tally)
    rows.append(events_row(channels.events(), set().union(*expected.values())))
    for name, read in (("inbox", channels.inbox), ("stream (SSE)", channels.stream),
                       ("webhook", channels.webhook), ("AMQP queue", channels.amqp)):
        for code in TOWNSHIPS:
            rows.append(notification_row(name, code, read(code), expected[code]))
    return rows


def amqp_message_ids_match(watchers: Watchers) -> int:
    """Township AMQP messages whose message_id is not the notification id (CONTRACT §5)."""
    return sum(1 for queue in watchers.queues.values() for m in queue.received
               if m["message_id"] != m["body"]["id"])


# --- the report -----------------------------------------------------------------------------

COLUMNS = ("channel", "township", "expected", "received", "lost", "duplicated", "redelivered",
           "unexpected")


def table(rows: list[dict]) -> str:
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in COLUMNS}
    line = " | ".join(c.ljust(widths[c]) for c in COLUMNS)
    rule = "-+-".join("-" * widths[c] for c in COLUMNS)
    body = [" | ".join(str(r[c]).ljust(widths[c]) if c in ("channel", "township")
                       else str(r[c]).rjust(widths[c]) for c in COLUMNS) for r in rows]
    return "\n".join([line, rule, *body])


def totals(tally: Tally) -> dict:
    kinds = (HTTP_COMMITMENT, AMQP_COMMITMENT, ASSIGNMENT)
    return {
        "sent": sum(tally.sent.values()),
        "accepted": len(tally.accepted),
        "retried": sum(1 for a in tally.accepted if a.retries),
        "retry_attempts": sum(tally.retries.values()),
        "refused": len(tally.refused),
        "gave_up": len(tally.gave_up),
        "by_kind": {kind: {"sent": tally.sent[kind],
                           "accepted": sum(1 for a in tally.accepted if a.kind == kind),
                           "retried": sum(1 for a in tally.accepted
                                          if a.kind == kind and a.retries),
                           "retry_attempts": tally.retries[kind]} for kind in kinds},
        "retry_reasons": dict(tally.retry_reasons.most_common()),
        "stale_amqp_replies": tally.stale_replies,
    }


def report(results: dict) -> str:
    t = results["totals"]
    lines = [
        "",
        f"Guabang fault suite: {t['sent']} requests, {results['rounds']} round(s) of "
        f"{len(results['faults']) // max(1, results['rounds'])} faults, "
        f"{results['seconds']['total']:.0f}s",
        "",
        table(results["rows"]),
        "",
        f"requests: sent {t['sent']}, accepted {t['accepted']}, retried {t['retried']} "
        f"({t['retry_attempts']} retry attempts), refused {t['refused']}, "
        f"gave up {t['gave_up']}",
    ]
    for kind, k in t["by_kind"].items():
        lines.append(f"  {kind:16} sent {k['sent']:5}  accepted {k['accepted']:5}  "
                     f"retried {k['retried']:4} ({k['retry_attempts']} attempts)")
    lines.append(f"  retry reasons: {t['retry_reasons']}")
    lines.append(f"  AMQP replies to re-published messages (ignored by the sender): "
                 f"{t['stale_amqp_replies']}")
    lines.append(f"webhook deliveries by status: {results['webhook_deliveries']}")
    lines.append(f"webhook receipts (raw POSTs): {results['webhook_receipts']}")
    lines.append(f"parked in guabang.dlq: {results['dead_letters']}")
    lines.append("faults:")
    for f in results["faults"]:
        extra = (f", {f['accepted_while_down']} requests accepted while it was stopped"
                 if f["accepted_while_down"] is not None else "")
        lines.append(f"  t={f['started']:6.1f}s  {f['name']:26} recovered t={f['recovered']:6.1f}s"
                     f"  {f['requests_in_flight']:4} requests in flight{extra}  ({f['detail']})")
        if f["client_retries"]:
            lines.append(f"{'':13}client retries: {f['client_retries']}")
    if results["supervisor_restarts"]:
        lines.append("services that exited by themselves (restarted by the supervisor):")
        for r in results["supervisor_restarts"]:
            lines.append(f"  t={r['t']:6.1f}s  {r['service']} exit code {r['exit_code']}")
    lines.append("timeline:")
    lines += [f"  t={e['t']:6.1f}s  {e['event']}" for e in results["timeline"]]
    return "\n".join(lines)


def problems(results: dict) -> list[str]:
    """Everything that makes the run a failure, in words; empty when the system held."""
    found = []
    for row in results["rows"]:
        for column in ("lost", "duplicated", "unexpected"):
            if row[column]:
                found.append(f"{row['channel']} {row['township']}: {column} = {row[column]}")
    t = results["totals"]
    if t["accepted"] != t["sent"]:
        found.append(f"{t['sent']} requests sent but {t['accepted']} accepted "
                     f"(refused: {results['refused']}, gave up: {results['gave_up']})")
    injected = Counter(f["name"] for f in results["faults"])
    for name in results["planned_faults"]:
        if injected[name] != results["rounds"]:
            found.append(f"fault '{name}' injected {injected[name]} times, not "
                         f"{results['rounds']}")
    for fault in results["faults"]:
        if not fault["requests_in_flight"]:
            found.append(f"no request was in flight during '{fault['name']}'")
        if fault["accepted_while_down"] == 0:
            found.append(f"nothing was accepted while '{fault['name']}' kept it stopped")
    for code, receipts in results["webhook_receipts"].items():
        if receipts["bad_signature"]:
            found.append(f"{receipts['bad_signature']} webhook deliveries to {code} with a "
                         "complete body and a wrong signature")
    if results["dead_letters"]:
        found.append(f"{results['dead_letters']} messages parked in guabang.dlq")
    if results["amqp_message_id_mismatches"]:
        found.append(f"{results['amqp_message_id_mismatches']} township AMQP messages whose "
                     "message_id is not the notification id")
    if not results["caught_up"]:
        found.append("the channels never caught up within the drain limit")
    if results["strict"]:
        found += [f"{r['service']} exited by itself (code {r['exit_code']}) at t={r['t']}s"
                  for r in results["supervisor_restarts"]]
    return found


# --- the whole run --------------------------------------------------------------------------

def requests_wanted() -> int:
    return int(os.environ.get(REQUESTS_ENV, BOUNDED_REQUESTS))


def rounds_for(requests: int) -> int:
    """One round of every fault for a bounded run; a large run repeats them (a round per
    thousand requests), so each fault meets the system in more states."""
    return max(1, requests // 1000)


def attribute(faults: list[FaultRecord], tally: Tally, timeline: Timeline) -> None:
    """Per fault: the requests in flight from its start to its recovery, and the clients'
    retries from its start until the next fault (a retry's cause can outlast /health)."""
    for number, record in enumerate(faults):
        start, end = timeline.t0 + record.started, timeline.t0 + record.recovered
        until = timeline.t0 + faults[number + 1].started if number + 1 < len(faults) \
            else float("inf")
        record.requests_in_flight = sum(1 for begun, ended in list(tally.spans)
                                        if begun <= end and ended >= start)
        record.client_retries = dict(Counter(why for when, why in list(tally.retry_log)
                                             if start <= when < until).most_common())
    before = timeline.t0 + faults[0].started if faults else float("inf")
    unexplained = [why for when, why in tally.retry_log if when < before]
    if unexplained:
        timeline.note(f"retries before the first fault: {dict(Counter(unexplained))}")


def start_system(infra: PrivateInfra) -> FaultSystem:
    """The four services, each its own `guabang run` process, on the suite's broker and Redis."""
    system = FaultSystem(infra.rabbit.amqp_uri, infra.redis.url,
                         admin_token=f"faults-{secrets.token_hex(8)}",
                         extra_env={**SERVICE_ENV,
                                    "RABBITMQ_MANAGEMENT_URL": infra.rabbit.management_url})
    system.start()
    system.wait_healthy(timeout=90)
    return system


def stream_with_faults(system: FaultSystem, infra: PrivateInfra, county: County,
                       supervisor: Supervisor, timeline: Timeline, requests: int,
                       rounds: int) -> tuple[Tally, list[FaultRecord]]:
    """The clients send the whole budget while the faults are injected; returns when both
    are done."""
    plan = fault_plan(system, supervisor, infra)
    tally = Tally()
    pacer = Pacer(requests, WARMUP + len(plan) * rounds * SLOT + COOLDOWN)
    target = Target(villages=VILLAGES, http_department=HTTP_DEPARTMENT,
                    amqp_department=AMQP_DEPARTMENT, cadre_department=CADRE_DEPARTMENT,
                    keys={code: county.keys[f"department:{code}"]
                          for code in (HTTP_DEPARTMENT, CADRE_DEPARTMENT)},
                    department_amqp_uri=county.department_amqp_uri, run=secrets.token_hex(3))
    clients = [Client(n, system.base_url, target, pacer, tally) for n in range(CLIENTS)]
    timeline.note(f"stream starts: {requests} requests from {CLIENTS} clients")
    for client in clients:
        client.start()
    faults = run_faults(system, plan, pacer, tally, timeline, rounds)
    timeline.note("last fault done; the stream runs on to its end")
    for client in clients:
        client.join()
    timeline.note("stream done; draining")
    attribute(faults, tally, timeline)
    return tally, faults


def results_of(**parts) -> dict:
    """The run's counts and story, as printed and as written to the results file."""
    tally, channels, infra = parts["tally"], parts["channels"], parts["infra"]
    results = {
        "requests": parts["requests"],
        "rounds": parts["rounds"],
        "strict": bool(os.environ.get(STRICT_ENV)),
        "clients": CLIENTS,
        "caught_up": parts["caught_up"],
        "seconds": parts["seconds"],
        "totals": totals(tally),
        "rows": parts["rows"],
        "planned_faults": list(FAULT_NAMES),
        "faults": [asdict(f) for f in parts["faults"]],
        "supervisor_restarts": parts["supervisor"].restarts,
        "webhook_deliveries": {code: dict(channels.deliveries(code)) for code in TOWNSHIPS},
        "webhook_receipts": {code: channels.webhook_receipts(code) for code in TOWNSHIPS},
        "dead_letters": infra.rabbit.queue_depth("guabang.dlq"),
        "amqp_message_id_mismatches": amqp_message_ids_match(channels.watchers),
        "refused": tally.refused[:20],
        "gave_up": tally.gave_up[:20],
        "timeline": parts["timeline"].entries,
    }
    results["problems"] = problems(results)
    return results


def run_suite(requests: int, results_path: Path | None = None) -> dict:
    """Everything, start to end; the private broker and Redis are gone afterwards, whatever
    happened (GUABANG_FAULTS_KEEP=1 keeps their files and the service logs)."""
    began = time.monotonic()
    rounds = rounds_for(requests)
    keep = bool(os.environ.get(KEEP_ENV))
    infra = PrivateInfra(keep=keep)
    system = watchers = supervisor = None
    passed = False
    try:
        infra.start()
        system = start_system(infra)
        watchers = Watchers(infra.rabbit.amqp_uri)
        county = set_up_county(system, watchers.receivers)
        watchers.start_streams(system.base_url, county)
        for tap in (watchers.events, *watchers.queues.values()):
            tap.wait_connected()
        ready = time.monotonic()

        timeline = Timeline()
        supervisor = Supervisor(system, timeline)
        supervisor.start()
        tally, faults = stream_with_faults(system, infra, county, supervisor, timeline,
                                           requests, rounds)
        stream_done = time.monotonic()
        channels = Channels(system, county, watchers)
        caught_up = drain(channels, tally, timeline)
        supervisor.stop()
        rows = count(system, channels, tally)
        seconds = {"setup": round(ready - began, 1), "stream": round(stream_done - ready, 1),
                   "drain": round(time.monotonic() - stream_done, 1),
                   "total": round(time.monotonic() - began, 1)}
        results = results_of(requests=requests, rounds=rounds, caught_up=caught_up,
                             seconds=seconds, tally=tally, rows=rows, faults=faults,
                             supervisor=supervisor, channels=channels, infra=infra,
                             timeline=timeline)
        path = results_path or ROOT / os.environ.get(RESULTS_ENV, BOUNDED_RESULTS)
        path.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
        print(report(results), flush=True)
        print(f"\nfaults: counts written to {path}", flush=True)
        passed = not results["problems"]
        return results
    finally:
        if supervisor is not None:
            supervisor.stop()
        if watchers is not None:
            watchers.close()
        if system is not None:
            if keep or not passed:
                print("faults: service logs kept:\n  " + "\n  ".join(system.log_paths()),
                      file=sys.stderr, flush=True)
            system.stop()
            if passed and not keep:
                system.remove_logs()
        infra.close()
