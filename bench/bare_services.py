"""The bare baseline's three services: the same hops as the real path with no logic and no
Redis. HTTP → gateway --RPC--> worker --event--> notifier --publish--> `bench.baseline` (topic).

Imported only in a baseline process, after eventlet's monkey patch (bench/baseline.py).
"""
from __future__ import annotations

import json
import uuid

from kombu import Exchange
from nameko.events import EventDispatcher, event_handler
from nameko.messaging import Publisher
from nameko.rpc import RpcProxy, rpc
from nameko.web.handlers import http
from werkzeug.wrappers import Response

EXCHANGE = Exchange("bench.baseline", type="topic", durable=True)


class BareGateway:
    name = "bench_gateway"
    worker = RpcProxy("bench_worker")

    @http("POST", "/commit")
    def commit(self, request):
        answer = self.worker.commit(json.loads(request.get_data()))
        return Response(json.dumps(answer), status=201, mimetype="application/json")


class BareWorker:
    name = "bench_worker"
    dispatch = EventDispatcher()

    @rpc
    def commit(self, body: dict) -> dict:
        commitment = {"id": uuid.uuid4().hex, **body}
        self.dispatch("committed", commitment)
        return {"id": commitment["id"]}


class BareNotifier:
    name = "bench_notifier"
    publish = Publisher(exchange=EXCHANGE)

    @event_handler("bench_worker", "committed")
    def on_committed(self, commitment: dict) -> None:
        self.publish(commitment, routing_key=f"township.{commitment['township_code']}.committed")


SERVICES = {"gateway": BareGateway, "worker": BareWorker, "notifier": BareNotifier}
