"""A worker's side of Redis: the job stream it reads and acknowledges, the results and files it
hands back to the bot, the dead letters, its heartbeat. bot/queue/worker.py decides what to do;
this module knows how it is written down.

The files of a finished job go to the folder both sides see (ISADEI_SHARED_DIR) or into one
Redis hash with a TTL; the task's result (taskiq's result backend, JSON) says which.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import redis.exceptions
from redis.asyncio import Redis
from taskiq.depends.progress_tracker import TaskProgress, TaskState
from taskiq.message import TaskiqMessage
from taskiq.result import TaskiqResult

from bot import metrics
from bot.queue import wire
from bot.queue.broker import make_broker
from bot.queue.keys import MARKER_TTL_S, REDIS_ERRORS, RedisKeys, unavailable
from bot.queue.results import MANIFEST, names_of, pack, read_manifest
from bot.settings import Settings

logger = logging.getLogger("isadei.worker")
T = TypeVar("T")
READ_BLOCK_MS = 1000  # XREADGROUP waits this long for new jobs (below the socket timeout)


class WorkerStream:
    def __init__(self, settings: Settings, name: str, scratch: Path):
        self.settings, self.name, self.scratch = settings, name, scratch
        self.keys = RedisKeys(settings.redis_prefix)
        self.broker = make_broker(settings)  # for its message format and result backend
        self.redis = Redis(connection_pool=self.broker.connection_pool)  # type: ignore[attr-defined]
        self.ok = True

    # -- Redis coming and going --

    def set_ok(self, ok: bool, error: object = None) -> None:
        if ok != self.ok:
            if ok:
                logger.info("Redis is back")
            else:
                logger.warning("Redis is unreachable (%s); retrying", error)
        self.ok = ok
        metrics.worker_redis_up.set(1 if ok else 0)

    async def with_redis(self, call: Callable[[], Awaitable[T]]) -> T:
        """Run a Redis call, waiting while Redis is away or refuses for now (out of memory,
        read-only, loading): jobs are not dropped."""
        while True:
            try:
                result = await call()
            except REDIS_ERRORS as error:
                if not unavailable(error):
                    raise
                self.set_ok(False, error)
                await asyncio.sleep(1)
                continue
            self.set_ok(True)
            return result

    async def join_group(self) -> None:
        """Create the consumer group (if it is not there: a fresh or restarted Redis)."""

        async def create() -> None:
            try:
                await self.redis.xgroup_create(
                    self.keys.stream, self.keys.group, id="0", mkstream=True
                )
            except redis.exceptions.ResponseError as error:
                if "BUSYGROUP" not in str(error):  # BUSYGROUP: it is there already
                    raise

        await self.with_redis(create)

    # -- the stream --

    async def read(self, room: int, reclaim: bool, held: set[str]) -> list[tuple[str, bytes]]:
        """Up to `room` entries: first those of vanished workers (when `reclaim`), else new
        ones. [] while Redis is away (after a pause) or after re-creating a lost group."""
        try:
            entries: list = []
            if reclaim:
                claimed = await self.redis.xautoclaim(
                    self.keys.stream,
                    self.keys.group,
                    self.name,
                    min_idle_time=int(self.settings.idle_timeout_s * 1000),
                    start_id="0-0",
                    count=room,
                )
                entries = [e for e in claimed[1] if text(e[0]) not in held]
                if entries:
                    logger.info("took over %d job(s) of a vanished worker", len(entries))
            if not entries:
                read = await self.redis.xreadgroup(
                    self.keys.group,
                    self.name,
                    {self.keys.stream: ">"},
                    count=room,
                    block=READ_BLOCK_MS,
                )
                entries = [e for _, stream_entries in read or [] for e in stream_entries]
            self.set_ok(True)
        except redis.exceptions.ResponseError as error:
            if "NOGROUP" in str(error):
                await self.join_group()  # Redis restarted without its data
                return []
            if not unavailable(error):
                raise
            self.set_ok(False, error)
            await asyncio.sleep(1)
            return []
        except REDIS_ERRORS as error:
            if not unavailable(error):
                raise
            self.set_ok(False, error)
            await asyncio.sleep(1)
            return []
        return [(text(entry), (fields or {}).get(b"data") or b"") for entry, fields in entries]

    def message(self, data: bytes) -> TaskiqMessage:
        """The taskiq message of an entry (raises on anything that is not one of ours)."""
        return self.broker.formatter.loads(data)

    async def delivered(self, tid: str) -> int:
        """Count one more delivery of an attempt; how many there were."""
        count = await self.redis.incr(self.keys.deliveries(tid))
        await self.redis.expire(self.keys.deliveries(tid), MARKER_TTL_S)
        return count

    async def cancelled(self, job_id: str) -> bool:
        return bool(await self.redis.exists(self.keys.cancelled(job_id)))

    async def ack(self, entry: str, tid: str | None = None) -> None:
        """Acknowledge and delete a stream entry (the stream keeps only unfinished jobs), and
        its "submitted" marker: once the result expires, the bot sees the attempt gone and
        submits it again, instead of waiting for a result that will never come."""
        keys = self.keys
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.xack(keys.stream, keys.group, entry).xdel(keys.stream, entry)
                if tid is not None:
                    pipe.delete(keys.submitted(tid))
                await pipe.execute()
        except redis.exceptions.ResponseError as error:
            if unavailable(error):
                raise
            logger.info("entry %s not acknowledged: %s", entry, error)  # a restarted Redis

    async def hand_back(self, entry: str, data: bytes, tid: str) -> None:
        """Put an entry back on the stream as new, for any worker (raises on Redis trouble)."""
        keys = self.keys
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(keys.stream, {b"data": data})
            pipe.xack(keys.stream, keys.group, entry).xdel(keys.stream, entry)
            pipe.decr(keys.deliveries(tid))  # it was not really tried
            await pipe.execute()

    async def dead_letter(self, record: dict[str, str]) -> None:
        """A job that will not be tried again: a record in <prefix>:dead, for a human."""
        record = {**record, "worker": self.name, "at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        logger.error("dead letter: %s", json.dumps(record, ensure_ascii=False))
        await self.with_redis(lambda: self.redis.xadd(self.keys.dead, record, maxlen=10000))

    # -- results and files --

    async def answer(self, tid: str, result: TaskiqResult) -> None:
        """Store an attempt's result, where the bot polls for it."""
        backend = self.broker.result_backend
        await self.with_redis(lambda: backend.set_result(tid, result))

    async def set_stage(self, tid: str, job_id: str, stage: str) -> None:
        """Tell the bot which stage the job is in (cosmetic: a Redis hiccup is ignored)."""
        try:
            progress = TaskProgress(state=TaskState.STARTED, meta=stage)
            await self.broker.result_backend.set_progress(tid, progress)
        except REDIS_ERRORS as error:  # whatever it is: the job goes on
            logger.debug("job=%s: stage not recorded: %r", job_id, error)

    def job_dir(self, job_id: str) -> Path:
        job_id = wire.job_id(job_id)  # it came from Redis: never a path of its own
        if self.settings.shared_dir:
            return self.settings.shared_dir / "songs" / job_id
        return self.scratch / job_id

    async def stored(self, job_id: str) -> dict[str, Any] | None:
        """The result of a job whose files are already stored (done before, by any worker);
        None when they are not, or when what is stored is not ours (it is composed afresh)."""
        try:
            if self.settings.shared_dir:
                manifest = read_manifest(self.job_dir(job_id))
                if manifest is None:
                    return None
                return {**names_of(manifest), "transport": "shared"}
            data = wire.loads(await self.redis.hget(self.keys.files(job_id), MANIFEST), "files")
            if data is None:
                return None
            if not isinstance(data, dict):
                raise wire.Untrusted("a manifest that is not an object")
            return {**names_of(data), "transport": "redis"}
        except wire.Untrusted as error:
            logger.warning("job=%s: stored files not reused: %s", job_id, error)
            return None

    async def store(self, job_id: str, out_dir: Path, extra: dict[str, Any]) -> dict[str, Any]:
        """Make a finished job folder reachable by the bot; the task's result."""
        manifest = read_manifest(out_dir)
        assert manifest is not None, out_dir
        value = {**names_of(manifest), **extra}
        if self.settings.shared_dir:
            return {**value, "transport": "shared"}
        files, key = pack(out_dir), self.keys.files(job_id)

        async def put() -> None:  # one transaction: all the files or none
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(key).hset(key, mapping=files).expire(key, self.settings.result_ttl_s)
                await pipe.execute()

        await self.with_redis(put)
        shutil.rmtree(out_dir, ignore_errors=True)
        return {**value, "transport": "redis"}

    # -- health --

    async def heartbeat(self, entries: list[str], status: dict[str, Any]) -> None:
        """Keep held entries claimed, say we are alive, count the queue (raises on trouble)."""
        keys = self.keys
        if entries:  # JUSTID: resets the idle time without counting a delivery
            await self.redis.xclaim(
                keys.stream, keys.group, self.name, min_idle_time=0, message_ids=entries,
                justid=True,
            )
        ttl = max(1, int(3 * self.settings.heartbeat_s + 1))
        await self.redis.set(keys.worker(self.name), json.dumps(status), ex=ttl)
        length = await self.redis.xlen(keys.stream)
        pending = await self.redis.xpending(keys.stream, keys.group)
        metrics.queue_depth.set(max(0, length - int(pending.get("pending") or 0)))
        self.set_ok(True)

    async def prune(self) -> list[str]:
        """Forget the consumer names of workers that are gone (kill -9 leaves them in the group
        forever): no heartbeat, nothing pending (deleting a name with pending entries would
        lose them), idle longer than idle_timeout. A live worker comes back by reading."""
        keys, gone = self.keys, []
        for consumer in await self.redis.xinfo_consumers(keys.stream, keys.group):
            name = text(consumer.get("name"))
            idle_s = int(consumer.get("idle") or 0) / 1000
            if name == self.name or int(consumer.get("pending") or 0) > 0:
                continue
            if idle_s < self.settings.idle_timeout_s or await self.redis.exists(keys.worker(name)):
                continue
            await self.redis.xgroup_delconsumer(keys.stream, keys.group, name)
            gone.append(name)
        if gone:
            logger.info("forgot %d gone worker(s): %s", len(gone), ", ".join(gone))
        return gone

    async def close(self) -> None:
        with contextlib.suppress(*REDIS_ERRORS):
            await self.redis.delete(self.keys.worker(self.name))
        await self.broker.shutdown()  # and its result backend


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
