"""A loop that runs beside a service's workers for as long as the service runs (the outbox
relay, the webhook dispatcher): started with the container, stopped gracefully with it."""
from __future__ import annotations

import logging

import eventlet
from eventlet.event import Event
from nameko.extensions import DependencyProvider

log = logging.getLogger(__name__)

_wakeups: dict[str, Event] = {}  # per loop name, the event its idle wait is on


def wake(loop_name: str) -> None:
    """Wake this process's loop named `loop_name` (new work is there: saves a poll)."""
    event = _wakeups.get(loop_name)
    if event is not None and not event.ready():
        event.send(True)


class BackgroundLoop(DependencyProvider):
    """Calls `step()` until the service stops. `step` returns True when it did work (call it
    again at once) and False when idle (then `idle()` waits). A failing step is logged and
    retried after `failure_pause` seconds, after `recover()`; the loop itself never dies."""

    failure_pause = 1.0
    idle_wait = 0.1  # seconds an idle loop waits for a wake-up before looking again
    wakes_on: str | None = None  # the loop name work is announced under (`wake`), if any

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
            if self.wakes_on is not None:
                # from here on a wake-up is kept for idle(): work announced while this step runs
                # is not left waiting for the next look
                _wakeups[self.wakes_on] = Event()
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
        """Wait for a wake-up, or `idle_wait` seconds, whichever comes first."""
        if self.wakes_on is None:
            eventlet.sleep(self.idle_wait)
            return
        with eventlet.Timeout(self.idle_wait, False):
            _wakeups[self.wakes_on].wait()

    def wake(self) -> None:
        """Cut an idle wait short (on stop)."""
        if self.wakes_on is not None:
            wake(self.wakes_on)

    def recover(self) -> None:
        """Undo what a failed step may have left broken (a connection, say)."""
