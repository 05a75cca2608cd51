"""The job queue: one taskiq task, "compose job <id> → files", and the broker that runs it.

`make_broker` is the single switch point between the modes. Embedded (ISADEI_REDIS_URL
unset): taskiq's InMemoryBroker runs the task inside the bot's process; the blocking,
CPU-heavy composing runs in a thread pool, so the event loop stays responsive. Distributed
(a later issue): a Redis stream broker, the same task run by `isadei worker`.

The bot, not the broker, decides how many jobs run at once and in which order (bot/app.py):
the queue itself stays a plain pipe, the same in both modes. The task is idempotent by job
id: if the files of that job were already written, they are returned as they are.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path
from typing import Any

from taskiq import AsyncBroker, InMemoryBroker, TaskiqDepends
from taskiq.depends.progress_tracker import ProgressTracker, TaskState
from taskiq.task import AsyncTaskiqTask

from bot.settings import Settings

MANIFEST = "job-result.json"  # written last: its presence means the job's files are complete


def make_broker(settings: Settings) -> AsyncBroker:
    """The broker for this configuration: the one place that knows the two modes."""
    if settings.embedded:
        return InMemoryBroker(max_stored_results=1000)
    # Distributed mode (its own issue): taskiq_redis.RedisStreamBroker(settings.redis_url,
    # idle_timeout above the longest job) with RedisAsyncResultBackend, and `isadei worker`.
    raise SystemExit(
        "isadei: ISADEI_REDIS_URL is set, but the distributed mode (Redis + `isadei worker`) "
        "is not built yet; unset it to run everything in one process."
    )


settings = Settings()
broker = make_broker(settings)
_compose_pool = ThreadPoolExecutor(
    max_workers=max(1, settings.compose_slots), thread_name_prefix="compose"
)


def request_from_json(data: dict[str, Any]):
    """A SongRequest from SongRequest.to_json() (+ "text")."""
    from composer.request import SongRequest

    names = {f.name for f in fields(SongRequest)}
    return SongRequest(**{k: v for k, v in data.items() if k in names})


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    """The result of a finished job from its files, or None if they are not all there."""
    try:
        result = json.loads((out_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    for name in ("mp3", "midi", "png", "json", "ogg"):
        if result.get(name):
            result[name] = str(out_dir / result[name])
            if not Path(result[name]).exists():
                return None
    return result


def compose_files(request: dict[str, Any], seed: int, out_dir: Path, on_stage=None) -> dict:
    """Compose and render one song into out_dir (blocking); returns the job's result dict.

    Writes into a scratch folder first and renames it, so out_dir holds a whole song or nothing.
    """
    from composer.pipeline import compose_to_files

    scratch = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    rendered = compose_to_files(request_from_json(request), scratch, seed=seed, on_stage=on_stage)
    try:
        info = json.loads(Path(rendered.json).read_text())
    except (OSError, ValueError):
        info = {}
    names = {
        name: Path(path).name if path else None
        for name, path in (
            ("mp3", rendered.mp3),
            ("midi", rendered.midi),
            ("png", rendered.png),
            ("json", rendered.json),
            ("ogg", rendered.ogg),
        )
    }
    result = {
        **names,
        "duration_seconds": float(rendered.duration_seconds),
        "timings": dict(getattr(rendered, "timings", {}) or {}),
        "info": info,
    }
    (scratch / MANIFEST).write_text(json.dumps(result, ensure_ascii=False, default=str))
    shutil.rmtree(out_dir, ignore_errors=True)
    scratch.rename(out_dir)
    manifest = read_manifest(out_dir)
    assert manifest is not None, out_dir
    return manifest


@broker.task(task_name="isadei.compose_job")
async def compose_job(
    job_id: str,
    request: dict[str, Any],
    seed: int,
    progress: ProgressTracker[str] = TaskiqDepends(),  # noqa: B008 (taskiq idiom)
) -> Any:  # the result dict (Any: taskiq then leaves failed results alone)
    """Compose job <id> → files (idempotent: a job's finished files are reused)."""
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


async def submit(job_id: str, request: dict[str, Any], seed: int, attempt: int) -> AsyncTaskiqTask:
    """Put a job on the queue; the task id names the job and the attempt."""
    kicker = compose_job.kicker().with_task_id(f"{job_id}.{attempt}")
    return await kicker.kiq(job_id, request, seed)


async def stage_of(task: AsyncTaskiqTask) -> str | None:
    """The stage the composer last reported for this task ("composing", "rendering")."""
    progress = await task.get_progress()
    return progress.meta if progress and isinstance(progress.meta, str) else None
