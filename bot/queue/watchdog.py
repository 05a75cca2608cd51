"""A worker's watchdog: a thread that ends the process when the worker is hung, so that its
supervisor (systemd Restart=always, docker's restart policy) starts a fresh one.

Two kinds of hang. The generation thread has been on one batch far longer than a job may
take (a deadlock in torch or CUDA): the event loop is fine and would go on taking jobs it can
never do. Or the event loop itself has stopped turning. Nothing is lost by exiting: the jobs
the worker held stop being heartbeated, go idle, and another worker takes them over; a job
that hangs every worker is dead-lettered after ISADEI_MAX_DELIVERIES.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger("isadei.worker")

EXIT_HUNG = 75  # EX_TEMPFAIL: "try again", what a supervisor should do


def exit_now(reason: str) -> None:
    """Log why and leave at once: a hung thread would keep a normal exit waiting forever."""
    logger.critical("worker hung (%s): exiting for the supervisor to restart it", reason)
    logging.shutdown()
    os._exit(EXIT_HUNG)


@dataclass
class Watchdog:
    generate_limit_s: float  # one batched generation may take this long
    loop_limit_s: float  # the event loop must tick at least this often
    on_hang: Callable[[str], None] = exit_now
    generating_since: float | None = None
    last_tick: float = field(default_factory=time.monotonic)
    stopped: threading.Event = field(default_factory=threading.Event)

    def tick(self) -> None:
        """The event loop is turning (called from the heartbeat loop)."""
        self.last_tick = time.monotonic()

    def generating(self, busy: bool) -> None:
        """A batch starts (True) or ends (False) in the generation thread."""
        self.generating_since = time.monotonic() if busy else None

    def hang(self) -> str | None:
        """Why the worker is hung, or None."""
        now, since = time.monotonic(), self.generating_since
        if since is not None and now - since > self.generate_limit_s:
            return f"one generation has run {now - since:.0f} s"
        if now - self.last_tick > self.loop_limit_s:
            return f"the event loop has not turned for {now - self.last_tick:.0f} s"
        return None

    def start(self) -> Watchdog:
        threading.Thread(target=self.watch, name="watchdog", daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopped.set()

    def watch(self) -> None:
        period = max(0.1, min(1.0, self.generate_limit_s / 4, self.loop_limit_s / 4))
        while not self.stopped.wait(period):
            reason = self.hang()
            if reason is not None:
                self.on_hang(reason)
                return
