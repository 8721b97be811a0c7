#!/usr/bin/env python3
"""Follow a township's notifications live over server-sent events (docs/notifications.md).

Connects to GET /v1/townships/{code}/stream with the township's API key and prints the
`title_zh` of each notification. When the connection drops (the gateway restarts, the network
fails) it connects again with `Last-Event-ID` set to the last event's `id:`, so the stream
continues right after it: nothing is missed and nothing comes twice.

    python examples/township_stream.py --base-url http://127.0.0.1:8000 \
        --township 520121101 --key gbk_...

Without a cursor the stream starts from the township's first notification. --state-file keeps
the last id in a file, so the next run carries on where this one stopped; --after starts after
a cursor you already have (an inbox item's `cursor`).

It stops after --count notifications (exit 0), or when --timeout seconds pass without reaching
that count (exit 1); without either it runs until Ctrl-C. A refused key, another township's
code or a bad cursor (401, 403, 404, 422) ends it with exit 2: trying again would not help.

Needs only httpx.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import httpx


class Done(Exception):
    """--count reached, or --timeout without --count: exit 0."""


class GaveUp(Exception):
    """--timeout passed before --count was reached: exit 1."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Print a township's Guabang notifications live.")
    parser.add_argument("--base-url", default=os.environ.get("GUABANG_URL",
                                                             "http://127.0.0.1:8000"),
                        help="the gateway (default: $GUABANG_URL or http://127.0.0.1:8000)")
    parser.add_argument("--township", required=True, help="your township's 9-digit code")
    parser.add_argument("--key", default=os.environ.get("GUABANG_API_KEY"),
                        help="the township's API key (default: $GUABANG_API_KEY)")
    parser.add_argument("--after", help="start after this cursor (default: from the first)")
    parser.add_argument("--state-file", type=Path,
                        help="read the last event id from this file, and keep it there")
    parser.add_argument("--count", type=int, default=None,
                        help="exit after this many notifications (default: run until Ctrl-C)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="stop after this many seconds (exit 1 if --count was not reached)")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("--key (or GUABANG_API_KEY) is required")
    return args


class Stream:
    def __init__(self, args: argparse.Namespace):
        self.url = f"{args.base_url.rstrip('/')}/v1/townships/{args.township}/stream"
        self.key = args.key
        self.state_file = args.state_file
        self.last_id = args.after
        if self.state_file and self.state_file.exists():
            self.last_id = self.state_file.read_text().strip() or self.last_id
        self.count = args.count
        self.deadline = time.monotonic() + args.timeout if args.timeout else None
        self.printed = 0
        self.retry = 2.0  # seconds; the server's `retry:` field replaces it

    def run(self) -> int:
        while True:
            try:
                self.check_deadline()
                self.connect_once()
            except Done:
                return 0
            except GaveUp:
                return 1
            except PermissionError as refused:
                print(refused, file=sys.stderr, flush=True)
                return 2
            except (httpx.HTTPError, OSError) as exc:
                if self.deadline is not None and time.monotonic() > self.deadline:
                    continue  # the read was cut short by --timeout: stop, do not reconnect
                print(f"connection lost ({type(exc).__name__}); reconnecting after "
                      f"{self.last_id or 'the start'}", file=sys.stderr, flush=True)
            time.sleep(self.retry)

    def check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            if self.count is None:
                raise Done()
            print(f"timed out with {self.printed} of {self.count}", file=sys.stderr, flush=True)
            raise GaveUp()

    def connect_once(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}", "Accept": "text/event-stream"}
        if self.last_id:
            headers["Last-Event-ID"] = self.last_id
        # keep-alive comments come every ~10 s: a read silent for 30 s means a dead connection
        read = 30.0
        if self.deadline is not None:  # never wait for a line past the deadline
            read = max(0.5, min(read, self.deadline - time.monotonic()))
        timeout = httpx.Timeout(10.0, read=read)
        with httpx.stream("GET", self.url, headers=headers, timeout=timeout) as response:
            if response.status_code in (401, 403, 404, 422):
                response.read()
                raise PermissionError(f"refused: HTTP {response.status_code} "
                                      f"{response.text[:300]}")
            if response.status_code != 200:
                raise httpx.HTTPError(f"HTTP {response.status_code}")
            print(f"connected to {self.url} after {self.last_id or 'the start'}",
                  file=sys.stderr, flush=True)
            event_id, data = None, []
            for line in response.iter_lines():
                self.check_deadline()
                if line == "":  # a blank line ends an event
                    if data:
                        self.on_event(event_id, "\n".join(data))
                    event_id, data = None, []
                    continue
                if line.startswith(":"):
                    continue  # a comment: ": connected", ": keep-alive"
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "id":
                    event_id = value
                elif field == "data":
                    data.append(value)
                elif field == "retry" and value.isdigit():
                    self.retry = int(value) / 1000

    def on_event(self, event_id: str | None, data: str) -> None:
        notification = json.loads(data)
        print(notification["title_zh"], flush=True)
        self.printed += 1
        if event_id:
            self.last_id = event_id
            if self.state_file:
                self.state_file.write_text(event_id)
        if self.count is not None and self.printed >= self.count:
            raise Done()


def main(argv: list[str] | None = None) -> int:
    stream = Stream(parse_args(argv))
    try:
        return stream.run()
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
