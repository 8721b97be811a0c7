"""Department clients: closed loop (each client sends its next commitment as soon as the last
is answered) and open loop (commitments sent on a fixed schedule, whatever the answers).

A commitment is "sent" at the moment it was meant to go: its scheduled time in the open loop,
so a sender that was held up by a slow system still counts the wait (no coordinated omission).
Every send is stamped with time.monotonic(), the clock the sink stamps receipts with.
"""
from __future__ import annotations

import http.client
import itertools
import json
import queue
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

REPLY_TIMEOUT = 30.0


@dataclass
class Department:
    code: str
    api_key: str | None = None
    amqp_uri: str | None = None  # with the department's own broker account in it
    account: str | None = None


@dataclass
class Target:
    """A path under load: where to send, and as whom."""

    path: str  # "real" or "baseline"
    port: int
    http_path: str
    departments: list[Department]
    villages: list[tuple[str, str]]  # (village code, township code)
    send_township: bool = False  # the baseline is told the township; the real one looks it up
    channels: tuple[str, ...] = ("amqp", "webhook")  # where the townships hear of it


@dataclass(slots=True)
class Sent:
    phase: str
    ingress: str  # "http" or "amqp"
    sent: float  # when the commitment was meant to go (time.monotonic())
    started: float  # when it went
    finished: float
    status: int  # 201, another HTTP-like status, or 0: no answer
    id: str | None
    error: str | None = None


@dataclass
class Tally:
    records: list[Sent] = field(default_factory=list)  # list.append is atomic

    def accepted(self) -> int:
        return sum(1 for r in self.records if r.status == 201)


class HttpSender:
    """One keep-alive HTTP/1.1 connection (the stdlib client: cheap, so the bench measures the
    server rather than itself)."""

    def __init__(self, port: int, path: str, api_key: str | None):
        self.port, self.path = port, path
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self.connection: http.client.HTTPConnection | None = None

    def commit(self, body: bytes, key: str) -> tuple[int, str | None, str | None]:
        headers = {**self.headers, "Idempotency-Key": key}
        for attempt in (1, 2):  # a kept-alive connection the server closed: open a new one
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection("127.0.0.1", self.port,
                                                                 timeout=REPLY_TIMEOUT)
                self.connection.request("POST", self.path, body, headers)
                response = self.connection.getresponse()
                data = response.read()
                if response.status == 201:
                    return 201, json.loads(data)["id"], None
                return response.status, None, data[:300].decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt == 2:
                    return 0, None, f"{type(exc).__name__}: {exc}"[:300]
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class AmqpSender:
    """A department system on the AMQP ingress, as examples/department_client.py is: its own
    broker account, publisher confirms, a reply queue of its own, one request in flight."""

    def __init__(self, department: Department):
        from kombu import Connection, Consumer, Producer, Queue

        self.account = department.account
        self.connection = Connection(department.amqp_uri,
                                     transport_options={"confirm_publish": True})
        channel = self.connection.channel()
        self.reply_to = f"{self.account}.bench-{uuid.uuid4().hex[:12]}"
        self.replies: dict[str, bytes] = {}
        self.consumer = Consumer(channel, queues=[Queue(self.reply_to, exclusive=True,
                                                        auto_delete=True)],
                                 no_ack=True, on_message=self._on_reply)
        self.consumer.consume()
        self.producer = Producer(channel)

    def _on_reply(self, message) -> None:
        self.replies[message.properties.get("correlation_id")] = message.body

    def commit(self, body: bytes, key: str) -> tuple[int, str | None, str | None]:
        correlation_id = uuid.uuid4().hex
        try:
            self.producer.publish(body, exchange="guabang.ingress",
                                  routing_key="commitment.create", delivery_mode=2,
                                  content_type="application/json", content_encoding="utf-8",
                                  user_id=self.account, message_id=key, reply_to=self.reply_to,
                                  correlation_id=correlation_id)
            deadline = time.monotonic() + REPLY_TIMEOUT
            while correlation_id not in self.replies:  # it may have come during the confirm
                self.connection.drain_events(timeout=max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            return 0, None, "no reply within 30 s"
        except Exception as exc:
            return 0, None, f"{type(exc).__name__}: {exc}"[:300]
        reply = json.loads(self.replies.pop(correlation_id))
        if reply.get("status") == 201:
            return 201, reply["body"]["id"], None
        return reply.get("status", 0), None, json.dumps(reply.get("body"))[:300]

    def close(self) -> None:
        try:
            self.consumer.cancel()
            self.connection.release()
        except Exception:  # closing at the end of a run; nothing to save
            pass


def ingress_of(n: int, share: float) -> str:
    """Spread a share evenly: request n goes over AMQP when the running share steps up."""
    return "amqp" if int((n + 1) * share) > int(n * share) else "http"


class Client:
    """One department's system: a department, its HTTP connection and (lazily) its AMQP one."""

    def __init__(self, target: Target, number: int):
        self.target = target
        self.department = target.departments[number % len(target.departments)]
        self.random = random.Random(number)
        self.http = HttpSender(target.port, target.http_path, self.department.api_key)
        self.amqp: AmqpSender | None = None

    def body(self) -> bytes:
        village, township = self.random.choice(self.target.villages)
        request = {"department_code": self.department.code, "village_code": village,
                   "kind": "cement", "unit": "吨", "quantity": "1"}
        if self.target.send_township:
            request["township_code"] = township
        return json.dumps(request, ensure_ascii=False).encode()

    def send(self, phase: str, ingress: str, sent: float) -> Sent:
        body, key = self.body(), uuid.uuid4().hex
        started = time.monotonic()
        if ingress == "amqp":
            if self.amqp is None:
                self.amqp = AmqpSender(self.department)
            status, ident, error = self.amqp.commit(body, key)
        else:
            status, ident, error = self.http.commit(body, key)
        return Sent(phase, ingress, sent, started, time.monotonic(), status, ident, error)

    def close(self) -> None:
        self.http.close()
        if self.amqp is not None:
            self.amqp.close()


class ClientPool:
    """Clients kept across phases, so connections are opened once (in the warm-up)."""

    def __init__(self, target: Target):
        self.target = target
        self.clients: list[Client] = []

    def get(self, count: int) -> list[Client]:
        while len(self.clients) < count:
            self.clients.append(Client(self.target, len(self.clients)))
        return self.clients[:count]

    def connect(self, count: int, amqp: bool) -> None:
        """Open every connection before measuring: none is opened inside a phase."""
        for client in self.get(count):
            if amqp and client.amqp is None:
                client.amqp = AmqpSender(client.department)

    def close(self) -> None:
        for client in self.clients:
            client.close()


def closed_loop(pool: ClientPool, tally: Tally, phase: str, clients: int, start: float,
                duration: float, share: float) -> None:
    """From `start`, every client sends as fast as it is answered, for `duration` seconds."""
    end = start + duration
    if start > time.monotonic():
        time.sleep(start - time.monotonic())

    def run(client: Client, offset: int):
        for n in itertools.count(offset * 7):
            now = time.monotonic()
            if now >= end:
                return
            tally.records.append(client.send(phase, ingress_of(n, share), now))

    threads = [threading.Thread(target=run, args=(client, i), daemon=True)
               for i, client in enumerate(pool.get(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + REPLY_TIMEOUT + 5)


def open_loop(pool: ClientPool, tally: Tally, phase: str, rate: float, start: float,
              duration: float, share: float, workers: int, grace: float = 5.0) -> int:
    """From `start`, `rate` commitments a second, evenly spaced, for `duration` seconds, sent
    by up to `workers` senders. Returns how many were not sent: a commitment whose sender had
    not got to it `grace` seconds after the phase ended is dropped, and counted."""
    end = start + duration
    total = max(1, int(rate * duration))
    schedule: queue.SimpleQueue = queue.SimpleQueue()
    for n in range(total):
        schedule.put((start + n / rate, ingress_of(n, share)))
    unsent = [0]
    lock = threading.Lock()

    def run(client: Client):
        while True:
            try:
                due, ingress = schedule.get_nowait()
            except queue.Empty:
                return
            now = time.monotonic()
            if now > end + grace:
                with lock:
                    unsent[0] += 1
                continue
            if due > now:
                time.sleep(due - now)
            tally.records.append(client.send(phase, ingress, due))

    threads = [threading.Thread(target=run, args=(client,), daemon=True)
               for client in pool.get(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + grace + REPLY_TIMEOUT + 5)
    return unsent[0]
