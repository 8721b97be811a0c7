"""Bounded RPC between services: a stopped or stuck service gives 503 quickly, never a hang,
and a request that waited out its caller expires in the queue instead of running later."""
from __future__ import annotations

import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy

from services.common.config import settings_of
from services.common.problems import Problem


class BoundedRpcProxy(RpcProxy):
    def setup(self):
        self.timeout = settings_of(self.container).rpc_timeout
        self.options["expiration"] = self.timeout
        # a request is answered within the bound or not at all: the reply is its confirmation,
        # and a request that expires in seconds needs no disk (no confirm, transient)
        self.options["use_confirms"] = False
        self.options["delivery_mode"] = 1
        super().setup()

    def get_dependency(self, worker_ctx):
        return BoundedService(super().get_dependency(worker_ctx), self.target_service,
                              self.timeout)


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
            raise Problem(503, "service-unavailable",
                          f"the {self._name} service did not answer within {timeout}s") from None
        except UnknownService:
            raise Problem(503, "service-unavailable",
                          f"the {self._name} service is not running") from None
