"""`isadei worker`: takes jobs from the Redis stream, composes them in batches, renders them in
a pool of processes, and hands the files back to the bot.

    XREADGROUP ─▶ waiting ─▶ batch (≤ max_batch songs, ≤ batch_wait_ms to fill it)
      ─▶ generate: one batched sampling run (a thread; the GPU when there is one)
      ─▶ render: spawned processes (FluidSynth, ffmpeg, engraving), while the next batch generates
      ─▶ files to Redis (a hash with a TTL) or to the shared folder
      ─▶ result (taskiq's result backend) ─▶ XACK

The bot kicks jobs through taskiq (bot/queue/client.py). This loop reads the stream itself
(bot/queue/stream.py) instead of `taskiq worker`: it must see several jobs at once to batch
them, and take only as many as it can start (taskiq's listen reads 100 at a time and reclaims
a dead worker's jobs only when new ones arrive). One worker process per GPU: one model.

Nothing is lost. A job is acknowledged only after its result is stored. While a worker holds
a job it touches the job's stream entry every heartbeat (XCLAIM to itself), so the entry never
looks idle; when a worker dies its entries go idle, and after idle_timeout another worker takes
them (XAUTOCLAIM). A job delivered more than max_deliveries times (it keeps killing workers) is
not run again: it gets an error result and a dead-letter record. Jobs are idempotent by job id:
finished files are reused, and the bot sends each part of a song once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

from taskiq.result import TaskiqResult

from bot import metrics
from bot.queue import wire
from bot.queue.engine import REAL, Engine, generate_each
from bot.queue.keys import REDIS_ERRORS, unavailable
from bot.queue.stream import WorkerStream
from bot.queue.watchdog import Watchdog, exit_now
from bot.settings import Settings
from composer.request import SongRequest
from composer.song import COMPOSING, RENDERING

logger = logging.getLogger("isadei.worker")
PRUNE_S = 30.0  # how often a worker forgets the names of gone workers


@dataclass
class Item:
    """One delivery of a job that this worker holds (taken, not yet acknowledged)."""

    entry: str  # the stream entry id
    data: bytes  # the taskiq message as it came (to hand it back unchanged)
    task_id: str
    job_id: str
    request: dict[str, Any]
    seed: int
    final: bool  # the bot's last attempt: a failure goes to the dead letters
    deliveries: int = 1
    taken: float = field(default_factory=time.monotonic)
    timings: dict[str, float] = field(default_factory=dict)
    batch_size: int = 0
    done: bool = False


class Worker:
    def __init__(
        self, settings: Settings, engine: Engine = REAL, on_hang: Callable[[str], None] = exit_now
    ):
        if settings.embedded:
            raise ValueError("a worker needs ISADEI_REDIS_URL")
        self.settings, self.engine = settings, engine
        self.name = settings.worker_name or f"{socket.gethostname()}-{os.getpid()}"
        self.scratch = settings.data_dir / "worker" / self.name
        self.stream = WorkerStream(settings, self.name, self.scratch)
        self.held: dict[str, Item] = {}  # by stream entry
        self.waiting: asyncio.Queue[Item | None] = asyncio.Queue()
        # One batch generating and one rendering: more would only wait here, not in the queue.
        self.capacity = max(2, 2 * settings.max_batch)
        self.room = asyncio.Event()
        self.stopping = asyncio.Event()
        self.stopped = asyncio.Event()
        self.device = "?"
        self.batches = self.jobs_done = 0
        self.generator = ThreadPoolExecutor(1, thread_name_prefix="generate")  # one model
        self.pool: ProcessPoolExecutor | None = None
        self.tasks: set[asyncio.Task] = set()
        # Hung: one generation past twice a job's time (the bot's own backstop), or an event
        # loop that stopped turning. Either way: exit, and let the supervisor restart us.
        self.watchdog = Watchdog(
            generate_limit_s=2 * settings.job_timeout_s,
            loop_limit_s=max(60.0, 10 * settings.heartbeat_s),
            on_hang=self.hung(on_hang),
        )

    # -- life --

    def stop(self) -> None:
        """SIGTERM: take nothing new; finish the batch in hand; hand back the rest."""
        if not self.stopping.is_set():
            logger.info("stopping: finishing %d job(s) in hand", len(self.held))
            self.stopping.set()
            self.waiting.put_nowait(None)  # wakes the batch loop

    async def run(self) -> None:
        """Load the model, start the render pool, and work until stop()."""
        self.device = await asyncio.to_thread(self.engine.load, self.settings.device)
        self.pool = self.new_pool()
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir(parents=True, exist_ok=True)
        await self.stream.join_group()
        self.watchdog.start()
        logger.info(
            "worker %s up on %s: batches of up to %d, %d render process(es), stream %s",
            self.name,
            self.device,
            self.settings.max_batch,
            self.settings.render_processes,
            self.stream.keys.stream,
        )
        loops = [self.take_loop(), self.batch_loop(), self.heartbeat_loop()]
        tasks = [asyncio.create_task(loop) for loop in loops]
        await self.stopping.wait()
        tasks[0].cancel()  # take nothing new
        await asyncio.gather(tasks[1], return_exceptions=True)  # the batch being generated
        deadline = time.monotonic() + self.settings.shutdown_grace_s
        while self.held and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # renders finishing, results being stored
        for item in list(self.held.values()):
            await self.hand_back(item)  # past the grace time: another worker does it
        for task in [*tasks, *self.tasks]:
            task.cancel()
        # Never hang on the way out (systemd or docker would kill us anyway), and close even
        # when a cancelled task lingers: closing ends the render processes and takes our
        # heartbeat down, so the bot and other workers see at once that we are gone.
        try:
            await asyncio.wait_for(asyncio.gather(*tasks, *self.tasks, return_exceptions=True), 10)
        except TimeoutError:
            logger.error("tasks did not stop in time; closing anyway")
        try:
            await asyncio.wait_for(self.close(), 10)
        except TimeoutError:
            logger.error("shutdown took too long; leaving anyway")
        self.watchdog.stop()
        self.stopped.set()

    def hung(self, on_hang: Callable[[str], None]) -> Callable[[str], None]:
        """What the watchdog calls: stop the render processes, then on_hang (exit)."""

        def react(reason: str) -> None:
            for process in list((getattr(self.pool, "_processes", None) or {}).values()):
                process.terminate()
            on_hang(reason)

        return react

    async def close(self) -> None:
        if self.pool is not None:
            processes = list((getattr(self.pool, "_processes", None) or {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()  # a render still running after the grace time
        self.generator.shutdown(wait=False, cancel_futures=True)
        await self.stream.close()
        shutil.rmtree(self.scratch, ignore_errors=True)
        logger.info("worker %s stopped after %d job(s)", self.name, self.jobs_done)

    def new_pool(self) -> ProcessPoolExecutor:
        """Render processes are spawned, not forked: a forked child cannot use CUDA again."""
        return ProcessPoolExecutor(
            max_workers=max(1, self.settings.render_processes),
            mp_context=get_context("spawn"),
            initializer=self.engine.warm,
        )

    # -- taking jobs --

    async def take_loop(self) -> None:
        """Take new jobs, and jobs of vanished workers, while there is room."""
        reclaim_every = max(0.5, min(self.settings.idle_timeout_s / 2, 5.0))
        last_reclaim = 0.0
        while not self.stopping.is_set():
            room = self.capacity - len(self.held)
            if room <= 0:
                self.room.clear()
                await self.room.wait()
                continue
            reclaim = time.monotonic() - last_reclaim >= reclaim_every
            if reclaim:
                last_reclaim = time.monotonic()
            for entry, data in await self.stream.read(room, reclaim, set(self.held)):
                await self.take(entry, data)

    async def take(self, entry: str, data: bytes) -> None:
        """Hold one delivered job: reuse its files if they exist, else queue it for a batch."""
        try:  # whoever can write to Redis can write this: check every part
            message = self.stream.message(data)
            job_id, request, seed = message.args[:3]
            job_id = wire.job_id(job_id)
            if not isinstance(request, dict) or not isinstance(seed, int):
                raise wire.Untrusted("request or seed of the wrong type")
            SongRequest.from_json(request)  # raises on what the composer cannot read
            item = Item(
                entry,
                data,
                wire.task_id_of(message.task_id, job_id),
                job_id,
                dict(request),
                seed,
                final=str(message.labels.get("final")).lower() == "true",
            )
        except Exception as error:  # not one of ours: record it, never retry it
            logger.error("unreadable job %s: %r", entry, error)
            await self.stream.dead_letter({"entry": entry, "error": f"unreadable: {error!r}"})
            await self.stream.with_redis(lambda: self.stream.ack(entry))
            return
        self.held[entry] = item
        metrics.in_hand.set(len(self.held))
        try:
            item.deliveries = await self.stream.delivered(item.task_id)
            cancelled = await self.stream.cancelled(item.job_id)
            reused = None if cancelled else await self.stream.stored(item.job_id)
        except REDIS_ERRORS as error:  # leave it unacknowledged: it comes back
            if not unavailable(error):
                raise
            self.stream.set_ok(False, error)
            self.release(item)
            return
        if item.deliveries > 1:
            logger.info("job=%s delivered again (%d times)", item.job_id, item.deliveries)
        if cancelled:
            await self.finish(item, error="cancelled by the user", status="cancelled")
        elif reused is not None:
            await self.finish(item, value={**reused, "reused": True}, status="reused")
        elif item.deliveries > self.settings.max_deliveries:
            error = f"delivered {item.deliveries} times: each time its worker went away"
            await self.finish(item, error=error, dead=True)
        else:
            self.waiting.put_nowait(item)

    # -- batching, generating, rendering --

    async def batch_loop(self) -> None:
        """Collect jobs for a few milliseconds (up to max_batch), generate them together."""
        loop = asyncio.get_running_loop()
        while True:
            first = await self.waiting.get()
            if first is None or self.stopping.is_set():
                if first is not None:
                    await self.hand_back(first)
                break
            batch, deadline = [first], loop.time() + self.settings.batch_wait_ms / 1000
            while len(batch) < self.settings.max_batch:
                left = deadline - loop.time()
                try:
                    if left <= 0:
                        item = self.waiting.get_nowait()
                    else:
                        item = await asyncio.wait_for(self.waiting.get(), left)
                except (asyncio.QueueEmpty, TimeoutError):
                    break
                if item is None:
                    break
                batch.append(item)
            if self.stopping.is_set():
                for item in batch:
                    await self.hand_back(item)
                break
            try:
                await self.generate([item for item in batch if not item.done])
            except Exception as error:  # the generating thread itself broke: not the songs
                logger.exception("batch failed")
                for item in batch:
                    await self.finish(item, error=f"generating failed: {error!r}")
        while not self.waiting.empty():  # stopping: what was not started goes back at once
            item = self.waiting.get_nowait()
            if item is not None:
                await self.hand_back(item)

    async def generate(self, batch: list[Item]) -> None:
        """One sampling run for the whole batch; renders start as soon as it is done."""
        if not batch:
            return
        started = time.monotonic()
        by_job: dict[str, list[Item]] = {}
        for item in batch:  # the same job twice in a batch (delivered twice): composed once
            by_job.setdefault(item.job_id, []).append(item)
            item.timings["wait"] = started - item.taken
            metrics.worker_stage_seconds.labels("wait").observe(item.timings["wait"])
        await asyncio.gather(*(self.set_stage(item, COMPOSING) for item in batch))
        firsts = [items[0] for items in by_job.values()]
        self.watchdog.generating(True)
        try:
            songs = await asyncio.get_running_loop().run_in_executor(
                self.generator,
                generate_each,
                self.engine.generate,
                [item.request for item in firsts],
                [item.seed for item in firsts],
            )
        finally:
            self.watchdog.generating(False)
        seconds = time.monotonic() - started
        self.batches += 1
        metrics.batch_size.observe(len(firsts))
        metrics.worker_stage_seconds.labels("generate").observe(seconds)
        logger.info("batch %d: %d song(s) generated in %.2f s", self.batches, len(firsts), seconds)
        for first, song in zip(firsts, songs, strict=True):
            items = by_job[first.job_id]
            for item in items:
                item.timings["generate"], item.batch_size = seconds, len(firsts)
            if isinstance(song, BaseException):
                for item in items:
                    await self.finish(item, error=f"composing failed: {song!r}")
            else:
                self.spawn(self.render(items, song))

    async def render(self, items: list[Item], song: Any) -> None:
        """Render one song in the pool, store its files, answer every delivery of its job."""
        items = [item for item in items if not item.done]  # timed out meanwhile
        if not items:
            return
        job_id, started = items[0].job_id, time.monotonic()
        await asyncio.gather(*(self.set_stage(item, RENDERING) for item in items))
        out_dir = self.stream.job_dir(job_id)
        try:
            assert self.pool is not None
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self.pool, self.engine.render, song, str(out_dir))
        except Exception as error:
            if "BrokenProcessPool" in type(error).__name__:  # a render process died
                self.pool = self.new_pool()
            for item in items:
                await self.finish(item, error=f"rendering failed: {error!r}")
            return
        seconds = time.monotonic() - started
        metrics.worker_stage_seconds.labels("render").observe(seconds)
        extra = {"worker": self.name, "device": self.device}
        value = await self.stream.store(job_id, out_dir, extra)
        for item in items:
            item.timings["render"] = seconds
            await self.finish(item, value=value)

    # -- results --

    async def finish(
        self,
        item: Item,
        value: dict[str, Any] | None = None,
        error: str | None = None,
        dead: bool = False,
        status: str | None = None,
    ) -> None:
        """Store the result of a delivery, then acknowledge it (once; the first call wins)."""
        if item.done:
            return
        item.done = True
        total = time.monotonic() - item.taken
        if error is None:
            assert value is not None
            value = {**value, "batch_size": item.batch_size, "worker_timings": item.timings}
            result = TaskiqResult(is_err=False, return_value=value, execution_time=total)
        else:
            result = TaskiqResult(
                is_err=True, return_value=None, execution_time=total, error=RuntimeError(error)
            )
            logger.warning("job=%s task=%s failed: %s", item.job_id, item.task_id, error)
            if dead or (item.final and status != "cancelled"):
                await self.stream.dead_letter(
                    {
                        "job": item.job_id,
                        "task": item.task_id,
                        "error": error,
                        "deliveries": str(item.deliveries),
                        "request": json.dumps(item.request, ensure_ascii=False),
                    }
                )
                metrics.worker_jobs.labels("dead_letter").inc()
        await self.stream.answer(item.task_id, result)
        await self.stream.with_redis(lambda: self.stream.ack(item.entry, item.task_id))
        self.release(item)
        self.jobs_done += 1
        status = status or ("done" if error is None else "failed")
        metrics.worker_jobs.labels(status).inc()
        metrics.worker_stage_seconds.labels("total").observe(total)

    async def hand_back(self, item: Item) -> None:
        """Put a job this worker will not do back on the queue, for the other workers, now."""
        if item.done:
            return
        item.done = True
        try:
            await self.stream.hand_back(item.entry, item.data, item.task_id)
            metrics.worker_jobs.labels("handed_back").inc()
            logger.info("job=%s handed back to the queue", item.job_id)
        except REDIS_ERRORS as error:
            logger.info(
                "job=%s not handed back (%s): it comes back after idle_timeout", item.job_id, error
            )
        self.release(item)

    def release(self, item: Item) -> None:
        self.held.pop(item.entry, None)
        metrics.in_hand.set(len(self.held))
        self.room.set()

    async def set_stage(self, item: Item, stage: str) -> None:
        await self.stream.set_stage(item.task_id, item.job_id, stage)

    # -- health --

    async def heartbeat_loop(self) -> None:
        """Keep held jobs claimed, say we are alive, time out stuck jobs, count the queue,
        forget gone workers; and tell the watchdog the event loop turns."""
        last_prune = 0.0
        while True:
            self.watchdog.tick()
            entries = [entry for entry, item in self.held.items() if not item.done]
            status = {
                "name": self.name,
                "device": self.device,
                "in_hand": len(self.held),
                "batches": self.batches,
                "jobs": self.jobs_done,
                "at": time.time(),
            }
            try:
                await self.stream.heartbeat(entries, status)
                if time.monotonic() - last_prune > PRUNE_S:
                    last_prune = time.monotonic()
                    await self.stream.prune()
                    self.prune_scratch()
            except REDIS_ERRORS as error:
                if unavailable(error):
                    self.stream.set_ok(False, error)
                else:
                    logger.info("heartbeat: %s", error)
            now = time.monotonic()
            for item in list(self.held.values()):
                if not item.done and now - item.taken > self.settings.job_timeout_s:
                    error = f"timed out after {self.settings.job_timeout_s:g} s"
                    self.spawn(self.finish(item, error=error, status="timed_out"))
            await asyncio.sleep(self.settings.heartbeat_s)

    def prune_scratch(self) -> None:
        """Remove the scratch folders of this data folder's workers that died (kill -9 leaves
        them; a restarted worker has a new name): those not touched for a day."""
        for folder in self.scratch.parent.iterdir():
            with contextlib.suppress(OSError):
                if folder != self.scratch and time.time() - folder.stat().st_mtime > 86400:
                    shutil.rmtree(folder, ignore_errors=True)

    def spawn(self, coroutine: Awaitable[Any]) -> None:
        """A background task that is kept referenced, and whose errors are logged."""
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("worker task failed", exc_info=task.exception())


async def serve(worker: Worker) -> None:
    """Run a worker until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.stop)
    await worker.run()


def main(settings: Settings, engine: Engine = REAL) -> None:
    """`isadei worker`: work for the bot through ISADEI_REDIS_URL until SIGTERM."""
    if settings.embedded:
        print(
            "isadei worker: ISADEI_REDIS_URL is not set. Workers take jobs from Redis, e.g.\n"
            "    ISADEI_REDIS_URL=redis://localhost:6379/0 isadei worker\n"
            "(without Redis, `isadei bot` composes in its own process).",
            file=sys.stderr,
        )
        sys.exit(2)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    if settings.metrics_port:
        metrics.serve(settings.metrics_port)
    try:
        asyncio.run(serve(Worker(settings, engine)))
    except Exception as error:
        if type(error).__name__ == "CheckpointError":  # no weights yet: say so plainly
            print(f"isadei worker: {error}", file=sys.stderr)
            sys.exit(2)
        raise
