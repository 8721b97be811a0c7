#!/usr/bin/env python3
"""Read a township's notifications from its own RabbitMQ queue (docs/notifications.md).

Guabang publishes every notification to the durable topic exchange `guabang.notifications`
with the routing key `township.<code>.<type>`. This program declares a durable queue of your
own, binds it with `township.<code>.#`, and prints the `title_zh` of each message, then acks
it, so the message leaves the queue (this is not a receipt, 签收: that is only made with
POST /v1/townships/{code}/notifications/{id}/ack). The queue outlives the program, so what
arrives while it is not running waits there.

    python examples/township_queue.py --amqp-uri amqp://township-520121101:PASSWORD@host:5672/ \
        --township 520121101 --queue township-520121101.notifications

Messages are persistent; each one's body is the notification JSON and its `message_id` is
the notification id. RabbitMQ may deliver a message twice (after a lost connection, say), so
the program drops a message_id it has already handled (in memory here; a real system keeps
handled ids in its database).

It stops after --count messages (exit 0), or when --timeout seconds pass without reaching
that count (exit 1); without either it runs until Ctrl-C. A refused login, permission or
missing queue ends it with exit 2. With --passive it declares and binds nothing: it only reads
a queue the county operator made for you.

Needs only kombu.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from amqp.exceptions import AccessRefused, NotFound
from kombu import Connection, Consumer, Exchange, Queue
from kombu.exceptions import OperationalError

EXCHANGE = "guabang.notifications"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Consume a township's Guabang notifications from its own queue.")
    parser.add_argument("--amqp-uri", default=os.environ.get("AMQP_URI"),
                        help="the broker, with your township's account and the virtual host, "
                             "e.g. amqp://township-520121101:PASSWORD@host:5672/ "
                             "(default: $AMQP_URI)")
    parser.add_argument("--township", required=True, help="your township's 9-digit code")
    parser.add_argument("--queue", required=True,
                        help="your queue's name, e.g. township-520121101.notifications")
    parser.add_argument("--passive", action="store_true",
                        help="do not declare or bind: the queue already exists")
    parser.add_argument("--count", type=int, default=None,
                        help="exit after this many notifications (default: run until Ctrl-C)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="stop after this many seconds (exit 1 if --count was not reached)")
    args = parser.parse_args(argv)
    if not args.amqp_uri:
        parser.error("--amqp-uri (or AMQP_URI) is required")
    if not (len(args.township) == 9 and args.township.isdigit()):
        parser.error("--township must be 9 digits")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # passive: the exchange is Guabang's; only check that it exists (needs no permission)
    exchange = Exchange(EXCHANGE, type="topic", durable=True, passive=True)
    queue = Queue(args.queue, exchange=exchange, routing_key=f"township.{args.township}.#",
                  durable=True, no_declare=args.passive)
    seen: set[str] = set()
    handled = 0

    def on_message(message):
        nonlocal handled
        msg_id = message.properties.get("message_id")
        if msg_id not in seen:
            notification = json.loads(message.body)  # the raw bytes: UTF-8 JSON
            print(notification["title_zh"], flush=True)
            seen.add(msg_id)
            handled += 1
        message.ack()  # only after handling: a crash before this gets it delivered again

    deadline = time.monotonic() + args.timeout if args.timeout else None
    with Connection(args.amqp_uri) as connection:
        if args.passive:  # only check that the queue is there (needs no configure permission)
            queue(connection.default_channel).queue_declare(passive=True)
        with Consumer(connection, queues=[queue], on_message=on_message, prefetch_count=10):
            # the queue is declared and bound now: from here on nothing for us is dropped
            print(f"consuming {args.queue} (township.{args.township}.#)", file=sys.stderr,
                  flush=True)
            while args.count is None or handled < args.count:
                if deadline is not None and time.monotonic() > deadline:
                    if args.count is None:
                        return 0
                    print(f"timed out after {args.timeout} s with {handled} of {args.count}",
                          file=sys.stderr, flush=True)
                    return 1
                try:
                    connection.drain_events(timeout=1)
                except TimeoutError:  # a quiet second: look at the clock again
                    pass
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
    except (AccessRefused, NotFound) as refused:  # permissions, or no such queue / exchange
        print(f"the broker refused: {refused}", file=sys.stderr)
        sys.exit(2)
    except (OperationalError, OSError) as down:
        print(f"cannot reach the broker: {down}", file=sys.stderr)
        sys.exit(2)
