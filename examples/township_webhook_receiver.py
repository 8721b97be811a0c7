#!/usr/bin/env python3
"""Receive a township's notifications by webhook, as a township system does (docs/notifications.md).

A small HTTP server, standard library only. For each POST it:

1. checks the `webhook-signature` header: `v1,<base64 HMAC-SHA256>` of
   "{webhook-id}.{webhook-timestamp}.{body}", keyed by the secret's part after `whsec_`,
   base64-decoded (the secret is shown once, when the webhook is created);
2. refuses a `webhook-timestamp` more than 5 minutes away from now (a replayed request);
3. drops a notification it has already handled: `webhook-id` is the notification's id, and
   Guabang sends it again whenever it is not sure we got it;
4. prints the notification's `title_zh` and answers 204 No Content.

A forged or stale request gets 401 and is not printed.

    python examples/township_webhook_receiver.py --port 8600 --secret whsec_...

The secret may instead come from the environment variable GUABANG_WEBHOOK_SECRET. Register the
address this server is reachable at (e.g. https://receiver.example/guabang behind your proxy)
with POST /v1/townships/{code}/webhooks.

This example remembers handled ids in memory only; a real system keeps them with the data it
stores (a unique key on the notification id), because Guabang may retry a day later.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE = 5 * 60  # seconds: older (or later) timestamps are refused
REMEMBER = 100_000  # handled ids kept in memory


def expected_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verify(secret: str, headers, body: bytes, now: float | None = None) -> str | None:
    """None when the request is genuine and fresh, else why it is refused."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    try:
        age = (time.time() if now is None else now) - int(timestamp)
    except ValueError:
        return "webhook-timestamp is not a number"
    if abs(age) > TOLERANCE:
        return f"webhook-timestamp is {int(age)} s away from now"
    expected = expected_signature(secret, msg_id, timestamp, body)
    # the header may hold several space-separated signatures (e.g. while a secret is rotated)
    if not any(hmac.compare_digest(expected, given) for given in signatures.split()):
        return "bad signature"
    return None


class Receiver:
    def __init__(self, secret: str):
        self.secret = secret
        self.handled: OrderedDict[str, None] = OrderedDict()
        self.lock = threading.Lock()

    def claim(self, msg_id: str) -> bool:
        """True the first time an id is seen (two copies arriving at once: only one wins)."""
        with self.lock:
            if msg_id in self.handled:
                return False
            self.handled[msg_id] = None
            while len(self.handled) > REMEMBER:
                self.handled.popitem(last=False)
            return True

    def forget(self, msg_id: str) -> None:
        with self.lock:
            self.handled.pop(msg_id, None)

    def handle(self, notification: dict) -> None:
        # Your system's work goes here; keep it quick (Guabang waits at most 10 s for the
        # answer), or queue it and answer at once. Deliveries arrive in parallel: one
        # request per thread, so whole lines are written under the lock.
        with self.lock:
            sys.stdout.write(notification["title_zh"] + "\n")
            sys.stdout.flush()


def make_handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            refused = verify(receiver.secret, self.headers, body)
            if refused:
                print(f"refused a delivery: {refused}", file=sys.stderr, flush=True)
                return self.answer(401)
            try:
                notification = json.loads(body)
            except ValueError:
                return self.answer(400)
            msg_id = self.headers["webhook-id"]
            if receiver.claim(msg_id):  # else a duplicate: already handled, say so again
                try:
                    receiver.handle(notification)
                except Exception as exc:
                    receiver.forget(msg_id)  # not handled: let Guabang send it again later
                    print(f"could not handle {msg_id}: {exc!r}", file=sys.stderr, flush=True)
                    return self.answer(500)
            return self.answer(204)

        def answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass  # one line per notification on stdout is enough

    return Handler


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Receive Guabang webhook deliveries, verify them and print their titles.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    parser.add_argument("--port", type=int, default=8600, help="port (default 8600)")
    parser.add_argument("--secret", default=os.environ.get("GUABANG_WEBHOOK_SECRET"),
                        help="the webhook's secret, whsec_... "
                             "(default: $GUABANG_WEBHOOK_SECRET)")
    args = parser.parse_args(argv)
    if not args.secret or not args.secret.startswith("whsec_"):
        parser.error("--secret (or GUABANG_WEBHOOK_SECRET) must be the whsec_... secret "
                     "shown when the webhook was created")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(Receiver(args.secret)))
    print(f"listening on http://{args.host}:{server.server_port}/", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
