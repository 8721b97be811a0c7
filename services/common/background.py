"""A loop that runs beside a service's workers for as long as the service runs (the outbox
relay, the webhook dispatcher): started with the container, stopped gracefully with it."""
from __future__ import annotations

import logging

import eventlet
from eventlet.event import Event
from nameko.extensions import DependencyProvider

log = logging.getLogger(__name__)

_bells: dict[str, Event] = {}


def ring(bell: str) -> None:
    """Wake this process's loop waiting on `bell` (new work is there: saves a poll)."""
    event = _bells.get(bell)
    if event is not None and not event.ready():
        event.send(True)


class BackgroundLoop(DependencyProvider):
    """Calls `step()` until the service stops. `step` returns True when it did work (call it
    again at once) and False when idle (then `idle()` waits). A failing step is logged and
    retried after `failure_pause` seconds, after `recover()`; the loop itself never dies."""

    failure_pause = 1.0
    idle_wait = 0.1  # seconds an idle loop waits for its bell before looking again
    bell: str | None = None  # the name work is announced under, if any

    def start(self):
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._loop)

    def stop(self):
        self._running = False
        self.wake()
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.wait()

    def kill(self):
        self._running = False
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.kill()

    def get_dependency(self, worker_ctx):
        return self

    def _loop(self):
        while self._running:
            if self.bell is not None:
                # from here on a ring is kept for idle(): work announced while this step runs
                # is not left waiting for the next look
                _bells[self.bell] = Event()
            try:
                busy = self.step()
            except Exception:
                log.exception("%s failed; retrying", type(self).__name__)
                self.recover()
                eventlet.sleep(self.failure_pause)
                continue
            if not busy:
                self.idle()

    def step(self) -> bool:
        raise NotImplementedError

    def idle(self) -> None:
        """Wait for the bell, or `idle_wait` seconds, whichever comes first."""
        if self.bell is None:
            eventlet.sleep(self.idle_wait)
            return
        with eventlet.Timeout(self.idle_wait, False):
            _bells[self.bell].wait()

    def wake(self) -> None:
        """Cut an idle wait short (on stop)."""
        if self.bell is not None:
            ring(self.bell)

    def recover(self) -> None:
        """Undo what a failed step may have left broken (a connection, say)."""
