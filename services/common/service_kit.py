"""Dependencies every domain service declares: the broker topology, and a liveness answer."""
import inspect
import logging
from functools import cached_property

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import OperationalError
from nameko.exceptions import IncorrectSignature
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc

from services.common.config import settings_of
from services.common.problems import Problem
from services.common.topology import declare_with

log = logging.getLogger(__name__)

# What publishing, acking or requeueing raises when the broker has gone away.
BROKER_GONE = (OSError, OperationalError, AmqpConnectionError)


class SettingsProvider(DependencyProvider):
    """The Settings the service was started with."""

    def get_dependency(self, worker_ctx):
        return settings_of(self.container)


class DeclareTopology(DependencyProvider):
    """Declares every exchange, queue and binding before the service consumes or publishes."""

    def setup(self):
        declare_with(settings_of(self.container).amqp_uri)


class BrokerProofRpc(Rpc):
    """nameko's @rpc, except that a reply it cannot send (the broker went away during the
    call) ends that call, not the service. nameko lets the publish error escape, and an error
    escaping a worker kills the whole container. The request stays unacked, so the broker
    gives it out again unless it expired; the caller's bounded wait has already answered 503,
    and its retry carries the same Idempotency-Key.

    It also reads the method's signature once, not on every call as nameko does."""

    @cached_property
    def _signature(self) -> inspect.Signature:
        return inspect.signature(getattr(self.container.service_cls, self.method_name))

    def check_signature(self, args, kwargs):
        try:
            self._signature.bind(None, *args, **kwargs)  # None: the unbound method's self
        except TypeError as exc:
            raise IncorrectSignature(str(exc)) from None

    def handle_result(self, message, worker_ctx, result, exc_info):
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except BROKER_GONE as exc:
            log.warning("could not reply to %s, the broker went away (%s)", worker_ctx, exc)
            return result, exc_info


def rpc(method):
    """nameko's @rpc, with a Problem counted as an expected answer (a warning, not an error),
    that survives the broker going away mid-reply."""
    return BrokerProofRpc.decorator(expected_exceptions=(Problem,))(method)
