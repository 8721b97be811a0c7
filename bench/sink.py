"""The townships' end of the bench, in a process of its own so that the load generator never
delays a receipt: one AMQP queue per township (bound to its routing keys) and one webhook
receiver (HTTP/1.1, keep-alive, answers 204 at once, checks no signature).

Each receipt is stamped with time.monotonic(), the same system-wide clock the load generator
stamps sends with, and keyed by the commitment id inside the message (`data.id` of a Guabang
notification, `id` of a baseline message). Counts per channel are shared with the parent so
it can wait for the townships to catch up between phases.
"""
from __future__ import annotations

import asyncio
import json
import multiprocessing
import threading
import time
from dataclasses import dataclass

CHANNELS = ("amqp", "webhook")


@dataclass
class SinkSpec:
    amqp_uri: str
    exchange: str
    exchange_type: str
    passive: bool  # the real system declared it; the baseline's is declared here too
    bindings: list[tuple[str, str]]  # (queue, routing key)
    id_field: str  # "notification": data.id of commitment_created; "plain": id
    webhook: bool


def commitment_id(body: bytes, id_field: str) -> str | None:
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if id_field == "plain":
        return message.get("id")
    if message.get("type") != "resources.commitment_created":
        return None
    return (message.get("data") or {}).get("id")


class Receipts:
    """First arrival of each id on one channel; one writer (its channel's thread) each."""

    def __init__(self, counter, index: int):
        self.first: dict[str, float] = {}
        self.duplicates = 0
        self.counter = counter
        self.index = index

    def add(self, ident: str | None, at: float) -> None:
        if ident is None:
            return  # no commitment id in it (another event type, or not JSON)
        if ident in self.first:
            self.duplicates += 1
        else:
            self.first[ident] = at
            self.counter[self.index] += 1


def _consume_amqp(spec: SinkSpec, receipts: Receipts, running: threading.Event,
                  ready: threading.Event, failure: list) -> None:
    from kombu import Connection, Consumer, Exchange, Queue

    try:
        with Connection(spec.amqp_uri) as connection:
            channel = connection.channel()
            exchange = Exchange(spec.exchange, type=spec.exchange_type, durable=True,
                                passive=spec.passive)
            exchange(channel).declare()
            # durable, as docs/notifications.md tells townships (persistent messages in a
            # durable queue are written to disk: part of the cost); the vhost goes at the end
            queues = [Queue(name, exchange=exchange, routing_key=key, durable=True)
                      for name, key in spec.bindings]

            def on_message(message):
                receipts.add(commitment_id(message.body, spec.id_field), time.monotonic())

            with Consumer(channel, queues=queues, no_ack=True, on_message=on_message):
                ready.set()
                while running.is_set():
                    try:
                        connection.drain_events(timeout=0.5)
                    except TimeoutError:
                        continue
    except Exception as exc:  # told to the parent, which stops the run
        failure.append(f"{type(exc).__name__}: {exc}")
        ready.set()


async def _serve_webhooks(receipts: Receipts, id_field: str, started: asyncio.Future,
                          stopped: asyncio.Event) -> None:
    """Answer webhook deliveries until `stopped`; `started` gets the listening port."""
    writers: set[asyncio.StreamWriter] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                body = await reader.readexactly(length) if length else b""
                receipts.add(commitment_id(body, id_field), time.monotonic())
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
                ValueError, asyncio.CancelledError):
            pass
        finally:
            writers.discard(writer)
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=256)
    started.set_result(server.sockets[0].getsockname()[1])
    await stopped.wait()
    server.close()
    for writer in list(writers):
        writer.close()
    await asyncio.sleep(0.1)


def sink_main(spec: SinkSpec, pipe, counter) -> None:
    """Runs in the sink process until the parent sends "stop"; then sends back the receipts."""
    receipts = {name: Receipts(counter, i) for i, name in enumerate(CHANNELS)}
    running, ready, failure = threading.Event(), threading.Event(), []
    running.set()
    consumer = threading.Thread(target=_consume_amqp, daemon=True,
                                args=(spec, receipts["amqp"], running, ready, failure))
    consumer.start()

    async def main():
        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()
        started = loop.create_future()
        server = None
        if spec.webhook:
            server = asyncio.create_task(
                _serve_webhooks(receipts["webhook"], spec.id_field, started, stopped))
            port = await started
            webhook_url = f"http://127.0.0.1:{port}/township-hook"
        else:
            webhook_url = None
        await loop.run_in_executor(None, ready.wait, 30)
        pipe.send({"webhook_url": webhook_url, "failure": failure[0] if failure else None})
        await loop.run_in_executor(None, pipe.recv)  # "stop"
        stopped.set()
        if server is not None:
            await server

    asyncio.run(main())
    running.clear()
    consumer.join(5)
    pipe.send({name: {"first": r.first, "duplicates": r.duplicates}
               for name, r in receipts.items()})


class Sink:
    """The parent's handle on the sink process."""

    def __init__(self, spec: SinkSpec):
        context = multiprocessing.get_context("spawn")
        self.counter = context.Array("q", len(CHANNELS), lock=False)
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=sink_main, args=(spec, child, self.counter),
                                       name="bench-sink", daemon=True)
        self.process.start()
        if not self.pipe.poll(60):
            raise RuntimeError("the sink did not start within 60 s")
        hello = self.pipe.recv()
        if hello["failure"]:
            raise RuntimeError(f"the sink could not consume: {hello['failure']}")
        self.webhook_url = hello["webhook_url"]

    @property
    def pid(self) -> int:
        return self.process.pid

    def counts(self) -> dict[str, int]:
        return {name: self.counter[i] for i, name in enumerate(CHANNELS)}

    def stop(self) -> dict:
        self.pipe.send("stop")
        if not self.pipe.poll(30):
            self.process.kill()
            raise RuntimeError("the sink did not hand back its receipts")
        receipts = self.pipe.recv()
        self.process.join(10)
        return receipts
