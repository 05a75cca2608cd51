"""The job queue: one taskiq task, "compose job <id> → files", and the broker that carries it.

`make_broker` is the single switch point between the modes. Embedded (ISADEI_REDIS_URL
unset): taskiq's InMemoryBroker runs the task inside the bot's process; the blocking,
CPU-heavy composing runs in a thread pool, so the event loop stays responsive. Distributed:
a Redis stream (taskiq-redis's RedisStreamBroker: acknowledged, redelivered) and a Redis
result backend with a TTL; `isadei worker` processes take the jobs (bot/worker.py).

The bot follows a job through the functions below, the same in both modes: `submit` an
attempt, `poll` it (is it ready, which stage, is it still on the queue at all), `fetch` its
files. In distributed mode each of them raises QueueUnavailable while Redis cannot be
reached; the bot then tells the user it is busy and tries again. A submitted attempt leaves
a marker key next to the stream entry: if Redis restarts without its data, the marker is gone
with the entry, and the bot submits the attempt again. Jobs are idempotent by job id (the
task reuses finished files), so a job submitted or delivered twice is still one song.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.exceptions
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from taskiq import AsyncBroker, InMemoryBroker, TaskiqDepends
from taskiq.depends.progress_tracker import ProgressTracker, TaskState
from taskiq.task import AsyncTaskiqTask

from bot.engine import request_from_json
from bot.results import MANIFEST, read_manifest, scratch_of, unpack, write_result
from bot.settings import Settings

__all__ = ["MANIFEST", "read_manifest", "request_from_json"]

logger = logging.getLogger("isadei.queue")

TASK_NAME = "isadei.compose_job"
MARKER_TTL_S = 7 * 86400  # a queued job may wait long; a week is plenty
# Connection trouble, as redis-py reports it (OSError: refused, reset, unreachable).
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class QueueUnavailable(Exception):
    """Redis cannot be reached right now: the job stays recorded; try again in a moment."""


class LostResult(Exception):
    """The attempt's result is there, its files are not (expired, or lost with Redis)."""


def redis_options() -> dict[str, Any]:
    """Connection settings for every Redis pool: fail fast while Redis is away (the callers
    retry), and keep the socket timeout above XREADGROUP's block time (redis-py 8 pitfall)."""
    return {
        "socket_connect_timeout": 3,
        "socket_timeout": 15,
        "health_check_interval": 10,
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
    }


# Redis names, all under one prefix so that several deployments can share a server.
def stream_name(settings: Settings) -> str:
    return f"{settings.redis_prefix}:jobs"


def group_name(settings: Settings) -> str:
    return f"{settings.redis_prefix}:workers"


def files_key(settings: Settings, job_id: str) -> str:
    return f"{settings.redis_prefix}:files:{job_id}"


def marker_key(settings: Settings, task_id: str) -> str:
    return f"{settings.redis_prefix}:submitted:{task_id}"


def cancel_key(settings: Settings, job_id: str) -> str:
    return f"{settings.redis_prefix}:cancelled:{job_id}"


def make_broker(settings: Settings) -> AsyncBroker:
    """The broker for this configuration: the one place that knows the two modes."""
    if settings.embedded:
        return InMemoryBroker(max_stored_results=1000)
    from taskiq_redis import RedisAsyncResultBackend, RedisStreamBroker

    backend = RedisAsyncResultBackend(
        settings.redis_url,
        result_ex_time=settings.result_ttl_s,
        prefix_str=f"{settings.redis_prefix}:result",
        **redis_options(),
    )
    # consumer_id "0": a group made after jobs were queued (a restarted Redis) still sees them.
    broker = RedisStreamBroker(
        settings.redis_url,
        queue_name=stream_name(settings),
        consumer_group_name=group_name(settings),
        consumer_id="0",
        idle_timeout=int(settings.idle_timeout_s * 1000),
        **redis_options(),
    )
    return broker.with_result_backend(backend)


settings = Settings()
broker = make_broker(settings)
_compose_pool = ThreadPoolExecutor(
    max_workers=max(1, settings.compose_slots), thread_name_prefix="compose"
)
_submitted: set[str] = set()  # embedded mode: what this process put on its in-memory queue


def compose_files(request: dict[str, Any], seed: int, out_dir: Path, on_stage=None) -> dict:
    """Compose and render one song into out_dir (blocking); returns the job's result dict.

    Writes into a scratch folder first and renames it, so out_dir holds a whole song or nothing.
    """
    from composer.pipeline import compose_to_files

    scratch = scratch_of(out_dir)
    rendered = compose_to_files(request_from_json(request), scratch, seed=seed, on_stage=on_stage)
    return write_result(rendered, scratch, out_dir)


@broker.task(task_name=TASK_NAME)
async def compose_job(
    job_id: str,
    request: dict[str, Any],
    seed: int,
    progress: ProgressTracker[str] = TaskiqDepends(),  # noqa: B008 (taskiq idiom)
) -> Any:  # the result dict (Any: taskiq then leaves failed results alone)
    """Compose job <id> → files (idempotent: a job's finished files are reused).

    Embedded mode runs this; in distributed mode `isadei worker` runs the same task by name.
    """
    out_dir = Settings().songs_dir / job_id
    done = read_manifest(out_dir)
    if done is not None:
        done["reused"] = True
        return done
    loop = asyncio.get_running_loop()

    def on_stage(stage: str) -> None:  # called from the composing thread
        asyncio.run_coroutine_threadsafe(progress.set_progress(TaskState.STARTED, stage), loop)

    return await loop.run_in_executor(
        _compose_pool, compose_files, request, seed, out_dir, on_stage
    )


def task_id(job_id: str, attempt: int) -> str:
    """The task id names the job and the attempt: "j0123456789.0"."""
    return f"{job_id}.{attempt}"


def _redis() -> Redis:
    return Redis(connection_pool=broker.connection_pool)  # type: ignore[attr-defined]


async def start() -> None:
    """Start the broker. Redis being away now is not fatal: the runners wait for it."""
    try:
        await broker.startup()
    except REDIS_ERRORS as error:
        logger.warning("Redis is not reachable yet (%s); jobs wait for it", error)


async def ping() -> bool:
    """Is Redis reachable (distributed mode)?"""
    try:
        return bool(await _redis().ping())
    except REDIS_ERRORS:
        return False


async def submit(
    job_id: str, request: dict[str, Any], seed: int, attempt: int, final: bool = False
) -> AsyncTaskiqTask:
    """Put an attempt of a job on the queue, and note that it is there."""
    tid = task_id(job_id, attempt)
    kicker = compose_job.kicker().with_broker(broker).with_task_id(tid)
    try:
        task = await kicker.with_labels(final=final).kiq(job_id, request, seed)
        if settings.embedded:
            _submitted.add(tid)
        else:  # after the entry: a crash in between means "not there", so it is sent again
            await _redis().set(marker_key(settings, tid), 1, ex=MARKER_TTL_S)
    except REDIS_ERRORS as error:
        raise QueueUnavailable(str(error) or type(error).__name__) from error
    return task


@dataclass
class Progress:
    ready: bool  # its result is there
    stage: str | None  # "composing", "rendering": what the composer last said
    queued: bool  # on the queue (False: never submitted, or lost with a restarted Redis)


async def poll(tid: str) -> Progress:
    """Where an attempt is; QueueUnavailable while Redis is away."""
    backend = broker.result_backend
    try:
        if await backend.is_result_ready(tid):
            return Progress(ready=True, stage=None, queued=True)
        progress = await backend.get_progress(tid)
        stage = progress.meta if progress and isinstance(progress.meta, str) else None
        if stage is not None:
            return Progress(ready=False, stage=stage, queued=True)
        if settings.embedded:
            return Progress(ready=False, stage=None, queued=tid in _submitted)
        return Progress(False, None, bool(await _redis().exists(marker_key(settings, tid))))
    except REDIS_ERRORS as error:
        raise QueueUnavailable(str(error) or type(error).__name__) from error


async def fetch(tid: str, job_id: str) -> tuple[dict[str, Any] | None, str | None]:
    """The outcome of a finished attempt: (result with local file paths, None) or (None, error).

    A result whose files travelled through Redis is written to songs_dir/<job> here.
    """
    try:
        result = await broker.result_backend.get_result(tid)
        if result.is_err:
            return None, repr(result.error)
        value = dict(result.return_value)
        transport = value.get("transport")
        if transport == "redis":
            files = await _redis().hgetall(files_key(settings, job_id))
            local = unpack(files, settings.songs_dir / job_id) if files else None
        elif transport == "shared":
            local = read_manifest(Path(value["dir"]))
        else:  # embedded: the task wrote the files here
            return value, None
    except REDIS_ERRORS as error:
        raise QueueUnavailable(str(error) or type(error).__name__) from error
    if local is None:
        raise LostResult(tid)
    extra_keys = ("worker", "device", "batch_size", "worker_timings", "reused")
    extra = {k: v for k, v in value.items() if k in extra_keys}
    return {**local, **extra}, None


async def forget(tid: str) -> None:
    """Drop what is known of an attempt, so that submitting it again starts afresh."""
    _submitted.discard(tid)
    if settings.embedded:
        return
    name = f"{settings.redis_prefix}:result:{tid}"
    try:
        await _redis().delete(name, name + "__progress", marker_key(settings, tid))
    except REDIS_ERRORS as error:
        raise QueueUnavailable(str(error) or type(error).__name__) from error


async def cancel(job_id: str) -> None:
    """Tell the workers not to compose a job the user cancelled (best effort)."""
    if settings.embedded:
        return
    try:
        await _redis().set(cancel_key(settings, job_id), 1, ex=settings.result_ttl_s)
    except REDIS_ERRORS as error:
        logger.info("job=%s: cancel not recorded in Redis: %s", job_id, error)
