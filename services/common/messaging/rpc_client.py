"""Bounded RPC between services: a stopped or stuck service gives 503 quickly, never a hang,
and a request that waited out its caller expires in the queue instead of running later."""
from __future__ import annotations

import eventlet
from nameko.amqp.publish import Publisher
from nameko.exceptions import UnknownService
from nameko.rpc import MethodProxy, RpcProxy, ServiceProxy

from services.common.config import settings_of
from services.common.contract.problems import unavailable
from services.common.messaging.rpc_server import BROKER_GONE


class RequestPublisher(Publisher):
    """Publishes RPC requests as not `mandatory`: nameko always asks for that, to learn from
    the broker's return that no service has the queue, but reads the return only while
    waiting for a confirm. Unconfirmed, a return would arrive unread and fail some later call
    on the same connection."""

    def publish(self, payload, **kwargs):
        return super().publish(payload, **{**kwargs, "mandatory": False})


class _MethodProxy(MethodProxy):
    publisher_cls = RequestPublisher


class _ServiceProxy(ServiceProxy):
    def __getattr__(self, name):
        return _MethodProxy(self.worker_ctx, self.service_name, name, self.reply_listener,
                            **self.options)


class BoundedRpcProxy(RpcProxy):
    def setup(self):
        self.timeout = settings_of(self.container).rpc_timeout
        self.options["expiration"] = self.timeout
        # a request is answered within the bound or not at all: the reply is its confirmation,
        # and a request that expires in seconds needs no disk (no confirm, transient). Without
        # a confirm nameko cannot tell at once that no service has an RPC queue (it would
        # never read the broker's return), so the request is not `mandatory`: a service that
        # never ran is a 503 after the bound, like one that stopped.
        self.options["use_confirms"] = False
        self.options["delivery_mode"] = 1
        super().setup()

    def get_dependency(self, worker_ctx):
        proxy = _ServiceProxy(worker_ctx, self.target_service, self.rpc_reply_listener,
                              **self.options)
        return BoundedService(proxy, self.target_service, self.timeout)


class BoundedService:
    def __init__(self, proxy, name: str, timeout: float):
        self._proxy = proxy
        self._name = name
        self._timeout = timeout

    def __getattr__(self, method: str):
        def call(*args, **kwargs):
            return self.call_within(self._timeout, method, *args, **kwargs)
        return call

    def call_within(self, timeout: float, method: str, *args, **kwargs):
        try:
            with eventlet.Timeout(timeout):
                return getattr(self._proxy, method).call_async(*args, **kwargs).result()
        except eventlet.Timeout:
            raise unavailable(
                f"the {self._name} service did not answer within {timeout}s") from None
        except UnknownService:
            raise unavailable(f"the {self._name} service is not running") from None
        except BROKER_GONE:  # the request could not be published: nothing was asked
            raise unavailable(f"the message broker does not answer; the {self._name} "
                              "service was not asked") from None
