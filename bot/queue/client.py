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
from typing import Any, TypeVar

from redis.asyncio import Redis
from taskiq.kicker import AsyncKicker
from taskiq.task import AsyncTaskiqTask

from bot.queue import wire
from bot.queue.broker import make_broker
from bot.queue.keys import (
    MARKER_TTL_S,
    REDIS_ERRORS,
    TASK_NAME,
    RedisKeys,
    task_id,
    unavailable,
)
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
    audio: str | None = None  # embedded: the MP3's file name, once it is ready (before the rest)


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
            if not unavailable(error):
                raise
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
        if self.settings.embedded:
            return await self.poll_here(tid)

        async def look() -> Progress:
            keys = self.keys
            ready, progress, marked = await self.redis.mget(
                keys.result(tid), keys.progress(tid), keys.submitted(tid)
            )
            if ready is not None:
                return Progress(ready=True, stage=None, queued=True)
            stage = wire.stage(progress)
            # No marker: never submitted, lost with Redis, or done and its result expired.
            return Progress(ready=False, stage=stage, queued=stage is not None or bool(marked))

        return await reachable(look)

    async def poll_here(self, tid: str) -> Progress:
        """Embedded mode: the in-memory backend of this process."""
        backend = self.broker.result_backend
        if await backend.is_result_ready(tid):
            return Progress(ready=True, stage=None, queued=True)
        progress = await backend.get_progress(tid)
        meta = progress.meta if progress else None
        audio = None
        if isinstance(meta, dict):  # {"stage": ..., "audio": name}: the MP3 is ready
            meta, audio = meta.get("stage"), wire.file_name(str(meta.get("audio")))
        stage = meta if isinstance(meta, str) else None
        queued = stage is not None or tid in self.submitted
        return Progress(ready=False, stage=stage, queued=queued, audio=audio)

    async def fetch(self, tid: str, job_id: str) -> tuple[dict[str, Any] | None, str | None]:
        """The outcome of a finished attempt: (result with local file paths, None) or (None,
        error). A result whose files travelled through Redis is written to songs_dir/<job> here.
        """

        if self.settings.embedded:  # the task wrote the files here, in this process
            result = await self.broker.result_backend.get_result(tid)
            if result.is_err:
                return None, repr(result.error)
            return dict(result.return_value), None

        async def get() -> tuple[dict[str, Any] | None, str | None]:
            raw = await self.redis.get(self.keys.result(tid))
            if raw is None:
                raise LostResult(tid)
            try:
                return await self.localise(wire.outcome(raw), tid, job_id)
            except wire.Untrusted as error:  # someone else wrote it: fail this attempt
                logger.error("job=%s: untrusted result of %s: %s", job_id, tid, error)
                return None, f"untrusted result: {error}"

        return await reachable(get)

    async def localise(
        self, outcome: tuple[dict[str, Any] | None, str | None], tid: str, job_id: str
    ) -> tuple[dict[str, Any] | None, str | None]:
        """A worker's result with its files made local: fetched from Redis into songs_dir/<job>,
        or found in the shared folder (at the path the bot computes, never one it is sent)."""
        value, error = outcome
        if value is None:
            return None, error
        job_id = wire.job_id(job_id)
        transport = value.get("transport")
        if transport == "redis":
            files = await self.redis.hgetall(self.keys.files(job_id))
            local = unpack(files, self.settings.songs_dir / job_id) if files else None
        elif transport == "shared" and self.settings.shared_dir:
            local = read_manifest(self.settings.shared_dir / "songs" / job_id)
        else:
            raise wire.Untrusted(f"unknown transport {str(transport)[:40]!r}")
        if local is None:
            raise LostResult(tid)
        return {**local, **{k: v for k, v in value.items() if k in WORKER_FIELDS}}, None

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
            await self.redis.set(self.keys.cancelled(job_id), 1, ex=MARKER_TTL_S)
        except REDIS_ERRORS as error:
            logger.info("job=%s: cancel not recorded in Redis: %s", job_id, error)


async def reachable(call: Callable[[], Awaitable[T]]) -> T:
    """Run a Redis call; Redis being away or refusing for now (out of memory, read-only...)
    becomes QueueUnavailable: the job waits, the user hears "busy". Our own mistakes raise."""
    try:
        return await call()
    except Exception as error:  # a Redis error, or taskiq's SendTaskError wrapping one
        if not unavailable(error):
            raise
        root = error
        while root.__cause__ is not None:  # Redis's own words, not taskiq's wrapper's
            root = root.__cause__
        raise QueueUnavailable(str(root) or type(root).__name__) from error
