"""Starting services: `guabang run` (named services in one process) and `guabang start`
(every service in its own process, as `make run` does)."""
from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

SERVICES = ("assignment", "resources", "notifications", "gateway")


class ExpectedProblemsWithoutTrace(logging.Filter):
    """A client's 4xx is an answer, not a fault: log its line without the stack trace."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("(expected)"):
            record.exc_info = None
            record.exc_text = None
        return True


def service_classes(names):
    from services.assignment.service import AssignmentService
    from services.gateway.service import GatewayService
    from services.notifications.service import NotificationsService
    from services.resources.service import ResourcesService

    known = {
        "assignment": AssignmentService,
        "resources": ResourcesService,
        "notifications": NotificationsService,
        "gateway": GatewayService,
    }
    return [known[name] for name in names]


def patch_for_nameko() -> None:
    """eventlet's monkey patch: call it first, before the process makes sockets or threads."""
    import warnings

    # eventlet warns on import that it is in maintenance; nameko 2 has no other concurrency.
    warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()  # nameko needs it before sockets and threads are made


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level,
                        format="%(asctime)s %(levelname)s [%(name)s] %(message)s")


def run_until_signal(runner, on_started=lambda: None) -> bool:
    """Start a nameko ServiceRunner and wait: True once SIGINT or SIGTERM came, False if one of
    its containers died first."""
    import eventlet

    stopping = eventlet.event.Event()

    def on_signal(signum, frame):
        if not stopping.ready():
            stopping.send(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runner.start()
    on_started()
    waiter = eventlet.spawn(runner.wait)
    while not stopping.ready() and not waiter.dead:
        eventlet.sleep(0.2)
    return stopping.ready()


def stop_within(runner, seconds: float = 10) -> None:
    """Stop the runner's containers, letting running workers finish; kill them past `seconds`."""
    import eventlet

    with eventlet.Timeout(seconds, False):
        runner.stop()
        return
    runner.kill()


def run_in_process(names: list[str]) -> int:
    """Run the named services in this process until SIGINT or SIGTERM."""
    patch_for_nameko()

    from nameko.runners import ServiceRunner

    from services.common.config import Settings
    from services.common.preflight import problems_with

    settings = Settings.from_env()
    configure_logging(settings.log_level)
    logging.getLogger("nameko.containers").addFilter(ExpectedProblemsWithoutTrace())
    found = problems_with(settings)
    if found:
        print("\n".join(found), file=sys.stderr)
        return 2
    runner = ServiceRunner(settings.nameko_config())
    for cls in service_classes(names):
        runner.add_service(cls)

    def announce():
        print(f"guabang: running {', '.join(names)}", flush=True)
        if "gateway" in names:
            print(f"guabang: HTTP on http://{settings.http_host}:{settings.http_port}",
                  flush=True)

    if not run_until_signal(runner, announce):
        # a container died (nameko stops a service whose extension failed, e.g. when the
        # broker went away mid-reply): say so in the exit code, so a supervisor restarts it
        print("guabang: a service stopped unexpectedly", file=sys.stderr, flush=True)
        runner.kill()
        return 1
    stop_within(runner)
    return 0


LOCAL_STATE = Path(".guabang")


def local_secrets_key() -> str:
    """The key that seals webhook secrets, kept in .guabang/ so that a restart can still open
    them (production sets GUABANG_SECRETS_KEY instead)."""
    from services.common.storage.secrets_box import SecretsBox

    path = LOCAL_STATE / "secrets.key"
    if not path.exists():
        LOCAL_STATE.mkdir(mode=0o700, exist_ok=True)
        path.write_text(SecretsBox.new_key())
        path.chmod(0o600)
    return path.read_text().strip()


def start_all(names: list[str] | None = None) -> int:
    """Each service in its own process, in the foreground; Ctrl-C stops them all."""
    from services.common.config import Settings
    from services.common.preflight import problems_with

    names = names or list(SERVICES)
    env = dict(os.environ)
    settings = Settings.from_env(env)
    found = problems_with(settings)
    if found:
        print("guabang cannot start:\n" + "\n".join(found), file=sys.stderr)
        return 2
    if not env.get("GUABANG_SECRETS_KEY"):
        env["GUABANG_SECRETS_KEY"] = local_secrets_key()
    if not env.get("GUABANG_ADMIN_TOKEN"):
        env["GUABANG_ADMIN_TOKEN"] = "gba_" + secrets.token_urlsafe(24)
        print("guabang: GUABANG_ADMIN_TOKEN was not set; this run's admin key is\n\n"
              f"    export ADMIN={env['GUABANG_ADMIN_TOKEN']}\n", flush=True)
    else:
        print("guabang: the admin key is the GUABANG_ADMIN_TOKEN you set", flush=True)
    children = {
        name: subprocess.Popen([sys.executable, "-m", "services.cli", "run", name], env=env)
        for name in names
    }

    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    restarts: dict[str, list[float]] = {name: [] for name in names}
    while not stopping:
        for name, child in list(children.items()):
            if child.poll() is None:
                continue
            # a service that stops on its own is started again (the broker restarting can
            # take one down), unless it keeps failing: then everything stops, loudly
            recent = [t for t in restarts[name] if time.monotonic() - t < 60]
            if child.returncode == 2 or len(recent) >= 5:
                print(f"guabang: {name} exited with {child.returncode} and keeps failing; "
                      "stopping the others", file=sys.stderr, flush=True)
                exit_code = child.returncode or 1
                stopping = True
                break
            print(f"guabang: {name} exited with {child.returncode}; starting it again",
                  file=sys.stderr, flush=True)
            time.sleep(1.0)
            restarts[name] = [*recent, time.monotonic()]
            children[name] = subprocess.Popen(
                [sys.executable, "-m", "services.cli", "run", name], env=env)
        time.sleep(0.2)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return exit_code
