"""Dependencies every domain service declares: the broker topology, and a liveness answer."""
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc as nameko_rpc

from services.common.config import settings_of
from services.common.problems import Problem
from services.common.topology import declare_with


class SettingsProvider(DependencyProvider):
    """The Settings the service was started with."""

    def get_dependency(self, worker_ctx):
        return settings_of(self.container)


class DeclareTopology(DependencyProvider):
    """Declares every exchange, queue and binding before the service consumes or publishes."""

    def setup(self):
        declare_with(settings_of(self.container).amqp_uri)


def rpc(method):
    """nameko's @rpc, with a Problem counted as an expected answer (a warning, not an error)."""
    return nameko_rpc(expected_exceptions=(Problem,))(method)
