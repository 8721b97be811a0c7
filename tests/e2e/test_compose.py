"""docker-compose.yml, tested without Docker (which these machines cannot run).

The file's promises are checked as data (one image, healthy dependencies, durable Redis, broker
definitions equal to services/common/messaging/topology.py), then each Guabang service is
started with compose's own command and environment, pointed at the local RabbitMQ and Redis,
and must report healthy over HTTP.
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

import httpx
import pytest
import yaml

from services.common.config import Settings
from services.common.messaging import topology
from services.runner import SERVICES
from tests.support.infra import amqp_uri_for
from tests.support.system import ROOT, ServiceProcess, free_port, wait_until

pytestmark = pytest.mark.e2e

COMPOSE = ROOT / "docker-compose.yml"
DEFINITIONS = ROOT / "deploy" / "rabbitmq" / "definitions.json"
INFRASTRUCTURE = ("rabbitmq", "redis")
DOMAIN_SERVICES = tuple(name for name in SERVICES if name != "gateway")
GATEWAY_PORT = 8000  # inside its container
REDIS_DB = 13  # a database this test may flush
ADMIN_TOKEN = "compose-test-admin-token"
SECRETS_KEY = "kQk2Y0l4dG9yeS1mb3ItdGVzdHMtb25seS0xMjM0NTY="
# `guabang` as the image installs it: the console script of the interpreter running the tests.
GUABANG = Path(sys.executable).parent / "guabang"
# CONTRACT §5: department systems publish commitments here. topology.py does not declare it.


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def definitions() -> dict:
    return json.loads(DEFINITIONS.read_text())


def words(command: str | list) -> list[str]:
    """A command in either of compose's forms (a string or a list) as a list of words."""
    return shlex.split(command) if isinstance(command, str) else [str(word) for word in command]


def environment_of(service: dict) -> dict[str, str]:
    """A service's environment, in either of compose's forms (a mapping or KEY=value items)."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def mounts_of(service: dict) -> dict[str, str]:
    """A service's volumes in compose's short form, as {path in the container: source}."""
    return {target: source for source, target, *_ in (v.split(":") for v in service["volumes"])}


def container_port(mapping: str | dict) -> int:
    if isinstance(mapping, dict):
        return int(mapping["target"])
    return int(mapping.split(":")[-1].split("/")[0])


def test_compose_runs_every_guabang_service_beside_its_broker_and_store(compose):
    assert set(compose["services"]) == {*INFRASTRUCTURE, *SERVICES}


def test_each_guabang_service_runs_from_the_one_image_once_broker_and_store_are_healthy(compose):
    services = {name: compose["services"][name] for name in SERVICES}
    builds = {(json.dumps(s.get("build")), s.get("image")) for s in services.values()}
    assert len(builds) == 1, f"the Guabang services differ in build or image: {builds}"
    assert services["gateway"]["build"] == "." and (ROOT / "Dockerfile").is_file()
    for name, service in services.items():
        assert words(service["command"]) == ["guabang", "run", name]
        conditions = {dep: spec.get("condition") for dep, spec in service["depends_on"].items()}
        for dependency in INFRASTRUCTURE:
            assert conditions.get(dependency) == "service_healthy", (name, dependency)
        assert service.get("restart") in ("always", "unless-stopped", "on-failure"), name


def test_only_the_gateway_publishes_a_port_and_it_is_the_port_it_listens_on(compose):
    gateway = compose["services"]["gateway"]
    env = environment_of(gateway)
    defaults = Settings()
    assert [container_port(m) for m in gateway["ports"]] == [GATEWAY_PORT]
    assert int(env.get("GUABANG_HTTP_PORT", defaults.http_port)) == GATEWAY_PORT
    # Listening on the container's loopback only would make the published port unreachable.
    assert env.get("GUABANG_HTTP_HOST", defaults.http_host) == "0.0.0.0"
    assert all("ports" not in compose["services"][name] for name in DOMAIN_SERVICES)


def test_compose_refuses_to_start_without_an_admin_token(compose):
    for name in SERVICES:
        token = environment_of(compose["services"][name])["GUABANG_ADMIN_TOKEN"]
        assert re.fullmatch(r"\$\{GUABANG_ADMIN_TOKEN:\?[^}]*\}", token), (name, token)


def test_redis_writes_every_change_to_disk_on_a_named_volume(compose):
    service = compose["services"]["redis"]
    assert service["image"].partition(":")[0] == "redis"
    command = words(service["command"])
    options = set(itertools.pairwise(command))  # each flag beside the value after it
    assert {("--appendonly", "yes"), ("--appendfsync", "always")} <= options
    assert mounts_of(service).get("/data") in compose["volumes"]
    assert words(service["healthcheck"]["test"])[-2:] == ["redis-cli", "ping"]


def test_rabbitmq_has_its_management_api_and_loads_the_definitions_at_boot(compose):
    service = compose["services"]["rabbitmq"]
    image, _, tag = service["image"].partition(":")
    assert image == "rabbitmq" and "management" in tag
    mounts = mounts_of(service)
    config_lines = (ROOT / mounts["/etc/rabbitmq/rabbitmq.conf"]).read_text().splitlines()
    config = dict(map(str.strip, line.split("=", 1))
                  for line in config_lines if line.strip() and not line.lstrip().startswith("#"))
    assert config["definitions.import_backend"] == "local_filesystem"
    assert (ROOT / mounts[config["definitions.local.path"]]).resolve() == DEFINITIONS
    # Durable queues outlive the container only with the node's data on a volume.
    assert mounts.get("/var/lib/rabbitmq") in compose["volumes"]
    assert "ping" in words(service["healthcheck"]["test"])


def test_the_services_broker_account_is_the_one_the_definitions_create(compose, definitions):
    for name in SERVICES:
        uri = urlparse(environment_of(compose["services"][name])["AMQP_URI"])
        vhost = unquote(uri.path[1:]) or "/"  # an empty path means the default vhost
        assert vhost in {v["name"] for v in definitions["vhosts"]}, name
        user = next(u for u in definitions["users"] if u["name"] == uri.username)
        assert user["hashing_algorithm"] == "rabbit_password_hashing_sha256"
        # RabbitMQ's stored form: base64 of a 4-byte salt, then sha256(salt + password).
        stored = base64.b64decode(user["password_hash"])
        salt, digest = stored[:4], stored[4:]
        assert hashlib.sha256(salt + uri.password.encode()).digest() == digest, name
        everything = {"configure": ".*", "write": ".*", "read": ".*"}
        assert {"user": uri.username, "vhost": vhost, **everything} in definitions["permissions"]


def declared_by_topology() -> dict[str, list[dict]]:
    """What services/common/messaging/topology.py declares, in the broker definitions' form."""
    exchanges = [
        {"name": e.name, "vhost": "/", "type": e.type, "durable": e.durable,
         "auto_delete": e.auto_delete, "internal": False, "arguments": e.arguments or {}}
        for e in (topology.EVENTS, topology.NOTIFICATIONS, topology.INGRESS)
    ]
    # The default exchange reaches every queue by its name, so guabang.dlq needs no binding.
    queues = [topology.DEAD_LETTER_QUEUE, topology.INGRESS_COMMITMENTS]
    bindings = [{"source": topology.INGRESS.name, "vhost": "/",
                 "destination": topology.INGRESS_COMMITMENTS.name, "destination_type": "queue",
                 "routing_key": "commitment.create", "arguments": {}}]
    for sub in topology.SUBSCRIPTIONS.values():
        queues += [sub.queue, sub.retry_queue]
        bindings += [
            {"source": topology.EVENTS.name, "vhost": "/", "destination": sub.queue_name,
             "destination_type": "queue", "routing_key": event_type, "arguments": {}}
            for event_type in sub.event_types
        ]
    return {
        "exchanges": exchanges,
        "queues": [
            {"name": q.name, "vhost": "/", "durable": q.durable, "auto_delete": q.auto_delete,
             "arguments": q.queue_arguments or {}}
            for q in queues
        ],
        "bindings": bindings,
    }


def test_the_broker_definitions_declare_exactly_the_topology_of_topology_py(definitions):
    for kind, expected in declared_by_topology().items():
        fields = expected[0].keys()
        declared = {json.dumps({f: item.get(f) for f in fields}, sort_keys=True)
                    for item in definitions[kind]}
        assert declared == {json.dumps(item, sort_keys=True) for item in expected}, kind
        assert len(definitions[kind]) == len(declared), f"{kind} declared twice"


def load_topology(broker_admin, vhost: str, definitions: dict) -> None:
    """Declare the definitions' exchanges, queues and bindings in `vhost`, as the compose broker
    does at boot; a service declaring anything differently then fails to start."""
    body = {kind: [{k: v for k, v in item.items() if k != "vhost"} for item in definitions[kind]]
            for kind in ("exchanges", "queues", "bindings")}
    httpx.post(f"{broker_admin.base}/api/definitions/{quote(vhost, safe='')}", json=body,
               auth=broker_admin.auth, timeout=10).raise_for_status()


def start_like_compose(name: str, service: dict, vhost: str, redis_url: str,
                       http_port: int) -> ServiceProcess:
    """Start a compose service with its own command and environment, on this machine."""
    env = environment_of(service)
    # The containers reach the broker and the store by their compose service names.
    assert urlparse(env["AMQP_URI"]).hostname == "rabbitmq", name
    assert urlparse(env["REDIS_URL"]).hostname == "redis", name
    env.update(
        AMQP_URI=amqp_uri_for(vhost),
        REDIS_URL=redis_url,
        GUABANG_ADMIN_TOKEN=ADMIN_TOKEN,
        GUABANG_SECRETS_KEY=SECRETS_KEY,
        # Each container has its own network; here each process gets its own port instead.
        GUABANG_HTTP_PORT=str(http_port),
        # What the image's environment would add; nothing else of this shell's leaks in.
        PATH=os.environ["PATH"],
    )
    command = words(service["command"])
    assert command[0] == "guabang", name
    return ServiceProcess([str(GUABANG), *command[1:]], env, name)


def test_each_guabang_service_starts_from_compose_and_the_gateway_reports_all_healthy(
        compose, definitions, broker_admin, vhost, redis_server):
    load_topology(broker_admin, vhost, definitions)
    redis_url = redis_server.flushed_url(REDIS_DB)
    ports = {name: free_port() for name in SERVICES}
    health_url = f"http://127.0.0.1:{ports['gateway']}/health"

    # The gateway's healthcheck, pointed at this machine's port instead of the container's.
    probe = words(compose["services"]["gateway"]["healthcheck"]["test"])
    assert probe[:3] == ["CMD", "python", "-c"] and f"127.0.0.1:{GATEWAY_PORT}/health" in probe[3]
    probe_script = probe[3].replace(f":{GATEWAY_PORT}/", f":{ports['gateway']}/")

    def gateway_healthcheck() -> int:
        return subprocess.run([sys.executable, "-c", probe_script], capture_output=True,
                              timeout=15).returncode

    assert gateway_healthcheck() != 0, "the healthcheck passes with no gateway running"

    processes: dict[str, ServiceProcess] = {}

    def logs() -> str:
        return "\n".join(f"--- {name} ---\n{p.output()[-4000:]}" for name, p in processes.items())

    def healthy() -> httpx.Response | None:
        exited = [name for name, p in processes.items() if p.process.poll() is not None]
        assert not exited, f"{exited} exited:\n{logs()}"
        try:
            response = httpx.get(health_url, timeout=3)
        except httpx.HTTPError:
            return None
        return response if response.status_code == 200 else None

    try:
        for name in SERVICES:
            processes[name] = start_like_compose(name, compose["services"][name], vhost,
                                                 redis_url, ports[name])
        try:
            response = wait_until(healthy, timeout=60, interval=0.3, what="GET /health → 200")
        except AssertionError as error:
            raise AssertionError(f"{error}\n{logs()}") from None
        assert response.json() == {"status": "ok",
                                   "services": {name: "ok" for name in DOMAIN_SERVICES}}
        assert gateway_healthcheck() == 0
    finally:
        for process in processes.values():
            process.stop()
