#!/usr/bin/env python3
"""Commit resources to a village over AMQP, as a department system does (CONTRACT §5).

One commitment is published to the exchange `guabang.ingress` with the routing key
`commitment.create`; the resources service answers on our reply queue with
{"status": <http-like code>, "body": <the commitment, or a problem>}. The program prints that
reply as JSON and exits 0 when the status is 201 (committed), 1 otherwise (refused, no reply
within --timeout, or no connection).

    python examples/department_client.py \
        --amqp-uri amqp://127.0.0.1:5672/ --department agri \
        --village 520121101201 --kind fertilizer --unit 吨 --quantity 2.5 \
        --idempotency-key agri-2026-0042

The broker account is `dept-<department>`, made by the county operator with
`guabang broker add-department <department>`; its password comes from --password or from the
environment variable GUABANG_BROKER_PASSWORD. Sending the same --idempotency-key again (after
a timeout, say) answers the first commitment again instead of making a second one.

Needs only kombu (`pip install kombu`). See docs/department-systems.md.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from urllib.parse import quote, urlparse, urlunparse

from kombu import Connection, Consumer, Queue

INGRESS_EXCHANGE = "guabang.ingress"
ROUTING_KEY = "commitment.create"
DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Publish one commitment to Guabang over AMQP and print the reply.")
    parser.add_argument("--amqp-uri", required=True,
                        help="the broker and virtual host, e.g. amqp://guabang.example:5672/ "
                             "(user and password are added from --department and --password)")
    parser.add_argument("--department", required=True, help="your department code, e.g. agri")
    parser.add_argument("--password", default=os.environ.get("GUABANG_BROKER_PASSWORD"),
                        help="the broker account's password (default: $GUABANG_BROKER_PASSWORD)")
    parser.add_argument("--village", required=True, help="the village's 12-digit code")
    parser.add_argument("--kind", required=True, help="e.g. fertilizer, tea-seedlings, funds")
    parser.add_argument("--unit", required=True, help="e.g. 吨, 株, 元")
    parser.add_argument("--quantity", required=True,
                        help='a decimal string with at most 2 places, e.g. "2.5"')
    parser.add_argument("--idempotency-key", required=True,
                        help="your own id for this commitment; the same key on a retry "
                             "answers the first commitment (sent as the message_id)")
    parser.add_argument("--need-id", help="the village need this commitment serves")
    parser.add_argument("--note", help="free text, up to 2000 characters")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds to wait for the reply (default 10)")
    parser.add_argument("--direct-reply-to", action="store_true",
                        help="receive the reply through RabbitMQ's direct reply-to instead of "
                             "a reply queue of our own")
    args = parser.parse_args(argv)
    if not args.password:
        parser.error("give --password or set GUABANG_BROKER_PASSWORD")
    return args


def broker_url(amqp_uri: str, account: str, password: str) -> str:
    """The URI with our account's credentials in it (any credentials in it are replaced)."""
    parts = urlparse(amqp_uri)
    host = parts.hostname or "127.0.0.1"
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    netloc = f"{quote(account, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunparse(parts._replace(netloc=netloc))


def commitment_request(args: argparse.Namespace) -> dict:
    """The same JSON as the body of POST /v1/commitments."""
    request = {"department_code": args.department, "village_code": args.village,
               "kind": args.kind, "unit": args.unit, "quantity": args.quantity}
    if args.need_id:
        request["need_id"] = args.need_id
    if args.note:
        request["note"] = args.note
    return request


def commit(args: argparse.Namespace) -> dict | None:
    """Publish the commitment and wait for its reply; None if none came in time."""
    account = f"dept-{args.department}"
    correlation_id = uuid.uuid4().hex
    replies: list[dict] = []
    returned: list[str] = []

    def on_reply(message):
        # Only our answer: a reply queue of our own could in principle hold a stray message.
        if message.properties.get("correlation_id") == correlation_id:
            replies.append(json.loads(message.body))

    def on_return(exception, exchange, routing_key, message):
        returned.append(str(exception))

    # confirm_publish: publish() returns only once the broker has taken the message.
    with Connection(broker_url(args.amqp_uri, account, args.password),
                    transport_options={"confirm_publish": True}) as connection:
        channel = connection.channel()
        if args.direct_reply_to:
            reply_queue = Queue(DIRECT_REPLY_TO, no_ack=True)
            reply_to = DIRECT_REPLY_TO
        else:
            # Our account may declare and read only queues named dept-<code>.*; exclusive and
            # auto-delete, so the queue goes away with this connection.
            reply_to = f"{account}.reply-{uuid.uuid4().hex[:12]}"
            reply_queue = Queue(reply_to, exclusive=True, auto_delete=True)
        # Consume before publishing: the reply can come back within milliseconds (and direct
        # reply-to requires it).
        with Consumer(channel, queues=[reply_queue], no_ack=True, on_message=on_reply):
            producer = connection.Producer(channel, on_return=on_return)
            producer.publish(
                json.dumps(commitment_request(args), ensure_ascii=False).encode("utf-8"),
                exchange=INGRESS_EXCHANGE,
                routing_key=ROUTING_KEY,
                mandatory=True,                 # a message no queue takes comes back to us
                delivery_mode=2,                # persistent
                content_type="application/json",
                content_encoding="utf-8",
                user_id=account,                # RabbitMQ checks it is the account we are
                message_id=args.idempotency_key,
                reply_to=reply_to,
                correlation_id=correlation_id,
            )
            if returned:
                raise RuntimeError(f"the broker could not route the message ({returned[0]}); "
                                   "is Guabang's resources service set up on this vhost?")
            # The reply may already have arrived while publish() waited for the broker's
            # confirm (on_reply has then run): look before waiting.
            deadline = time.monotonic() + args.timeout
            while not replies:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                try:
                    connection.drain_events(timeout=remaining)
                except TimeoutError:  # socket.timeout is TimeoutError since Python 3.10
                    return None
    return replies[0]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        reply = commit(args)
    except Exception as exc:  # no connection, access refused, unroutable: say so, exit 1
        print(f"could not send the commitment: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if reply is None:
        print(f"no reply within {args.timeout:g} s; the message may still be handled. Send it "
              f"again with the same --idempotency-key to learn its outcome.", file=sys.stderr)
        return 1
    print(json.dumps(reply, ensure_ascii=False, indent=2))
    return 0 if reply.get("status") == 201 else 1


if __name__ == "__main__":
    sys.exit(main())
