"""The bot's side of the queue: put an attempt of a job on it, follow it, fetch its files.

The bot follows a job through these calls, the same in both modes: `submit` an attempt,
`poll` it (is it ready, which stage, is it still on the queue at all), `fetch` its files. In
distributed mode each of them raises QueueUnavailable while Redis cannot be reached; the bot
then tells the user it is busy and tries again. A submitted attempt leaves a marker key next
to the stream entry: if Redis restarts without its data, the marker is gone with the entry,
and the bot submits the attempt again. Jobs are idempotent by job id (the task reuses finished
files), so a job submitted or delivered twice is still one song.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from redis.asyncio import Redis
from taskiq.kicker import AsyncKicker
from taskiq.task import AsyncTaskiqTask

from bot.queue.broker import make_broker
from bot.queue.keys import MARKER_TTL_S, REDIS_ERRORS, TASK_NAME, RedisKeys, task_id
from bot.queue.results import read_manifest, unpack
from bot.settings import Settings

logger = logging.getLogger("isadei.queue")
T = TypeVar("T")
# What a worker adds to a result, besides the files: kept for the job's record and logs.
WORKER_FIELDS = ("worker", "device", "batch_size", "worker_timings", "reused")


class QueueUnavailable(Exception):
    """Redis cannot be reached right now: the job stays recorded; try again in a moment."""


class LostResult(Exception):
    """The attempt's result is there, its files are not (expired, or lost with Redis)."""


@dataclass
class Progress:
    ready: bool  # its result is there
    stage: str | None  # "composing", "rendering": what the composer last said
    queued: bool  # on the queue (False: never submitted, or lost with a restarted Redis)


class QueueClient:
    """The queue as the bot sees it; one per process, made from the settings."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.keys = RedisKeys(settings.redis_prefix)
        self.broker = make_broker(settings)
        self.submitted: set[str] = set()  # embedded: what this process put on its queue

    @property
    def redis(self) -> Redis:
        return Redis(connection_pool=self.broker.connection_pool)  # type: ignore[attr-defined]

    async def start(self) -> None:
        """Start the broker. Redis being away now is not fatal: the runners wait for it."""
        try:
            await self.broker.startup()
        except REDIS_ERRORS as error:
            logger.warning("Redis is not reachable yet (%s); jobs wait for it", error)

    async def shutdown(self) -> None:
        await self.broker.shutdown()

    async def ping(self) -> bool:
        """Is Redis reachable (distributed mode)?"""
        try:
            return bool(await self.redis.ping())
        except REDIS_ERRORS:
            return False

    async def submit(
        self, job_id: str, request: dict[str, Any], seed: int, attempt: int, final: bool = False
    ) -> AsyncTaskiqTask:
        """Put an attempt of a job on the queue, and note that it is there."""
        tid = task_id(job_id, attempt)
        kicker = AsyncKicker(TASK_NAME, self.broker, {"final": final}).with_task_id(tid)

        async def kick() -> AsyncTaskiqTask:
            task = await kicker.kiq(job_id, request, seed)
            if self.settings.embedded:
                self.submitted.add(tid)
            else:  # after the entry: a crash in between means "not there", so it is sent again
                await self.redis.set(self.keys.submitted(tid), 1, ex=MARKER_TTL_S)
            return task

        return await reachable(kick)

    async def poll(self, tid: str) -> Progress:
        """Where an attempt is; QueueUnavailable while Redis is away."""
        backend = self.broker.result_backend

        async def look() -> Progress:
            if await backend.is_result_ready(tid):
                return Progress(ready=True, stage=None, queued=True)
            progress = await backend.get_progress(tid)
            stage = progress.meta if progress and isinstance(progress.meta, str) else None
            if stage is not None:
                return Progress(ready=False, stage=stage, queued=True)
            if self.settings.embedded:
                return Progress(ready=False, stage=None, queued=tid in self.submitted)
            marked = bool(await self.redis.exists(self.keys.submitted(tid)))
            return Progress(ready=False, stage=None, queued=marked)

        return await reachable(look)

    async def fetch(self, tid: str, job_id: str) -> tuple[dict[str, Any] | None, str | None]:
        """The outcome of a finished attempt: (result with local file paths, None) or (None,
        error). A result whose files travelled through Redis is written to songs_dir/<job> here.
        """

        async def get() -> tuple[dict[str, Any] | None, str | None]:
            result = await self.broker.result_backend.get_result(tid)
            if result.is_err:
                return None, repr(result.error)
            value = dict(result.return_value)
            transport = value.get("transport")
            if transport == "redis":
                files = await self.redis.hgetall(self.keys.files(job_id))
                local = unpack(files, self.settings.songs_dir / job_id) if files else None
            elif transport == "shared":
                local = read_manifest(Path(value["dir"]))
            else:  # embedded: the task wrote the files here
                return value, None
            if local is None:
                raise LostResult(tid)
            return {**local, **{k: v for k, v in value.items() if k in WORKER_FIELDS}}, None

        return await reachable(get)

    async def forget(self, tid: str) -> None:
        """Drop what is known of an attempt, so that submitting it again starts afresh."""
        self.submitted.discard(tid)
        if self.settings.embedded:
            return
        keys = self.keys
        await reachable(lambda: self.redis.delete(keys.result(tid), keys.progress(tid),
                                                  keys.submitted(tid)))

    async def cancel(self, job_id: str) -> None:
        """Tell the workers not to compose a job the user cancelled (best effort)."""
        if self.settings.embedded:
            return
        try:
            await self.redis.set(self.keys.cancelled(job_id), 1, ex=self.settings.result_ttl_s)
        except REDIS_ERRORS as error:
            logger.info("job=%s: cancel not recorded in Redis: %s", job_id, error)


async def reachable(call: Callable[[], Awaitable[T]]) -> T:
    """Run a Redis call; connection trouble becomes QueueUnavailable."""
    try:
        return await call()
    except REDIS_ERRORS as error:
        raise QueueUnavailable(str(error) or type(error).__name__) from error
