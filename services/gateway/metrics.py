"""Request counts and latencies in the Prometheus text format."""
from nameko.extensions import DependencyProvider
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("guabang_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("guabang_http_request_seconds", "Time to answer a request",
                                 ["method", "route"], registry=self.registry)

    def observe(self, spec, status: int, seconds: float) -> None:
        self.requests.labels(spec.method, spec.path, str(status)).inc()
        self.latency.labels(spec.method, spec.path).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsProvider(DependencyProvider):
    def setup(self):
        self.metrics = Metrics()

    def get_dependency(self, worker_ctx):
        return self.metrics
