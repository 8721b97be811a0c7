"""A township system's end of each channel, for tests: a webhook receiver, an SSE reader and
an AMQP queue of its own."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from kombu import Connection, Exchange, Queue


class WebhookReceiver:
    """An HTTP endpoint that records every delivery and answers from a script of statuses
    per webhook-id (then 200), optionally slowly."""

    def __init__(self, answers: dict[str, list] | None = None, delay: float = 0.0):
        self.answers = answers or {}
        self.delay = delay
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                message_id = self.headers.get("webhook-id")
                receiver.received.append({"headers": dict(self.headers.items()),
                                          "body": body, "at": time.monotonic()})
                if receiver.delay:
                    time.sleep(receiver.delay)
                script = receiver.answers.get(message_id) or receiver.answers.get("*") or []
                answer = script.pop(0) if script else 200
                status, headers = answer if isinstance(answer, tuple) else (answer, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ids(self, ok_only: bool = False) -> list[str]:
        return [r["headers"]["webhook-id"] for r in self.received]

    def close(self):
        self.server.shutdown()


class StreamReader:
    """Reads a township's live stream, reconnecting with Last-Event-ID as a browser would."""

    def __init__(self, base_url: str, township: str, key: str):
        self.url = f"{base_url}/v1/townships/{township}/stream"
        self.key = key
        self.events: list[dict] = []
        self.last_id: str | None = None
        self.connections = 0
        self.keep_alives = 0
        self.refused = False  # the gateway answered 401 or 403 when it came back
        self._running = True
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while self._running:
            headers = {"Authorization": f"Bearer {self.key}"}
            if self.last_id:
                headers["Last-Event-ID"] = self.last_id
            try:
                with httpx.stream("GET", self.url, headers=headers,
                                  timeout=httpx.Timeout(5, read=30)) as response:
                    if response.status_code != 200:
                        self.refused = response.status_code in (401, 403)
                        time.sleep(0.5)
                        continue
                    self.connections += 1
                    event: dict = {}
                    for line in response.iter_lines():
                        if not self._running:
                            return
                        if line.startswith(": keep-alive"):
                            self.keep_alives += 1
                        elif line.startswith("id: "):
                            event["id"] = line[4:]
                        elif line.startswith("data: "):
                            event["data"] = json.loads(line[6:])
                        elif line == "" and "data" in event:
                            self.events.append(event)
                            self.last_id = event["id"]
                            event = {}
            except (httpx.HTTPError, OSError, ValueError):
                # the gateway went away (perhaps mid-event, leaving a cut `data:` line): come
                # back from the last whole event, which the stream sends again after it
                time.sleep(0.5)

    def ids(self) -> list[str]:
        return [e["data"]["id"] for e in self.events]

    def close(self):
        self._running = False


class TownshipQueue:
    """A township's own durable queue bound to guabang.notifications (CONTRACT §5)."""

    def __init__(self, amqp_uri: str, township: str):
        self.connection = Connection(amqp_uri)
        exchange = Exchange("guabang.notifications", type="topic", durable=True, passive=True)
        self.queue = Queue(f"township-{township}-test", exchange=exchange,
                           routing_key=f"township.{township}.#", durable=True)
        self.bound = self.queue(self.connection.channel())
        self.bound.declare()
        self.messages: list = []

    def drain(self) -> list:
        while True:
            message = self.bound.get(no_ack=True)
            if message is None:
                return self.messages
            self.messages.append(message)

    def ids(self) -> list[str]:
        return [json.loads(m.body)["id"] for m in self.drain()]

    def close(self):
        self.connection.release()
