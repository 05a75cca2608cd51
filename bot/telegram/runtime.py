"""What the handlers and the job runners share, kept in application.bot_data["rt"]."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from telegram.ext import Application

from bot.queue.client import QueueClient
from bot.settings import Settings
from bot.telegram.guard import RefusalThrottle
from bot.telegram.jobs import JobStore


@dataclass
class Runtime:
    settings: Settings
    store: JobStore
    queue: QueueClient
    running: set[str] = field(default_factory=set)  # jobs holding a compose slot
    runners: dict[str, asyncio.Task] = field(default_factory=dict)
    status_texts: dict[str, str] = field(default_factory=dict)  # last text shown per job
    refusals: RefusalThrottle = field(default_factory=RefusalThrottle)  # one a minute
    cleaned_at: float | None = None  # when retention last ran (monotonic)
    background: set[asyncio.Task] = field(default_factory=set)  # kept referenced
    last_update: float = field(default_factory=time.monotonic)  # when an update last came


def runtime(app: Application) -> Runtime:
    return app.bot_data["rt"]
