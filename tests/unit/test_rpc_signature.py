"""An RPC called with arguments its method does not take is refused before it runs."""
import pytest
from nameko.exceptions import IncorrectSignature

from services.common.messaging.rpc_server import BrokerProofRpc


class Service:
    def commit(self, body, idempotency_key=None):
        raise AssertionError("never called by the check")


def entrypoint():
    made = BrokerProofRpc()
    made.container = type("Container", (), {"service_cls": Service})()
    made.method_name = "commit"
    return made


def test_a_call_that_fits_the_method_passes():
    check = entrypoint().check_signature
    check(({"amount": "1"},), {})
    check(({"amount": "1"}, "key-1"), {})
    check((), {"body": {}, "idempotency_key": None})


@pytest.mark.parametrize("args, kwargs", [((), {}), ((1, 2, 3), {}), ((1,), {"colour": 2})])
def test_a_call_that_does_not_fit_is_refused(args, kwargs):
    with pytest.raises(IncorrectSignature):
        entrypoint().check_signature(args, kwargs)
