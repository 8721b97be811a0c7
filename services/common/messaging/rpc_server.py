"""The RPC entrypoint every service answers with (`@rpc`): no confirm per reply, a Problem
counted as an expected answer, and a broker gone mid-reply ends that call, not the service."""
import functools
import inspect
import logging
from functools import cached_property

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import OperationalError
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.exceptions import IncorrectSignature
from nameko.rpc import Responder, Rpc, RpcConsumer, get_rpc_exchange

from services.common.contract.problems import Problem, unavailable
from services.common.storage.redis_store import STORE_DOWN

log = logging.getLogger(__name__)

# What publishing, acking or requeueing raises when the broker has gone away.
BROKER_GONE = (OSError, OperationalError, AmqpConnectionError)


class ReplyPublisher(Publisher):
    """An RPC reply needs no publisher confirm and no disk: the caller waits for it within a
    bound, and a reply that never comes is a 503 it retries with the same Idempotency-Key.
    A confirm per reply (nameko's default) was the largest single cost of answering a call."""

    use_confirms = False
    delivery_mode = 1  # transient


class Replier(Responder):
    publisher_cls = ReplyPublisher


class ReplyingRpcConsumer(RpcConsumer):
    """nameko's RPC consumer, replying with `ReplyPublisher`, and surviving the broker going
    away mid-reply: nameko lets that publish error escape, and an error escaping a worker kills
    the whole container. Here it ends that call only. The request stays unacked, so the broker
    gives it out again unless it expired; the caller's bounded wait has already answered 503,
    and its retry carries the same Idempotency-Key."""

    def handle_result(self, message, result, exc_info):
        config = self.container.config
        replier = Replier(config[AMQP_URI_CONFIG_KEY], get_rpc_exchange(config),
                          config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
                          ssl=config.get(AMQP_SSL_CONFIG_KEY),
                          login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        try:
            result, exc_info = replier.send_response(result, exc_info)
            self.queue_consumer.ack_message(message)
        except BROKER_GONE as exc:
            log.warning("could not reply to a call of %s, the broker went away (%s)",
                        self.container.service_name, exc)
        return result, exc_info


class BrokerProofRpc(Rpc):
    """nameko's @rpc, answering through `ReplyingRpcConsumer` (no confirm per reply; a reply
    the broker could not take ends that call, not the service), and reading the method's
    signature once, not on every call as nameko does."""

    rpc_consumer = ReplyingRpcConsumer()

    @cached_property
    def _signature(self) -> inspect.Signature:
        return inspect.signature(getattr(self.container.service_cls, self.method_name))

    def check_signature(self, args, kwargs):
        try:
            self._signature.bind(None, *args, **kwargs)  # None: the unbound method's self
        except TypeError as exc:
            raise IncorrectSignature(str(exc)) from None


def rpc(method):
    """nameko's @rpc, with a Problem counted as an expected answer (a warning, not an error),
    that survives the broker going away mid-reply. The one place where a service's Redis not
    answering becomes 503 `service-unavailable` (else a RemoteError, a 500 at the gateway)."""

    @functools.wraps(method)
    def answer(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except STORE_DOWN as exc:
            log.warning("%s.%s: Redis does not answer (%s)", self.name, method.__name__, exc)
            raise unavailable(f"the {self.name} service's Redis does not answer; "
                              "retry later") from None

    return BrokerProofRpc.decorator(expected_exceptions=(Problem,))(answer)
