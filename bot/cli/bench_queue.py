"""`isadei bench --queue`: songs per minute and latency (p50/p95) through the job queue, for 1,
10 and 100 concurrent requests: embedded (one process) vs Redis with 1 and 2 workers.

Each measurement is a fresh "driver" process that submits the requests all at once through
bot/queue/client.py, exactly as the bot does, and waits for every song's files (from Redis, in
distributed mode). Latency = submitted → files on the bot's disk. Songs are short folk songs
(20 s) so the whole run stays bounded; --quick uses 1, 4 and 16 requests. A Redis server and
the workers are started here, on 127.0.0.1, and stopped at the end.

Without trained weights (weights/ empty) the composer runs a randomly initialised network of
the same size: the same work per token, so the timings hold, the music does not.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.cli.redis_server import RedisServer

REPO = Path(__file__).resolve().parents[2]
LEVELS, QUICK_LEVELS = (1, 10, 100), (1, 4, 16)
SONG = {"style": "folk", "length_seconds": 20, "text": "a folk song, 20 seconds"}
TORCH_THREADS = "1"  # a shared CPU: one thread per process composes faster than many


def bench_queue(quick: bool = False, out: Path | None = None) -> dict[str, Any]:
    """Run every configuration; returns (and writes, when `out` is given) the numbers."""
    from composer.model import DEFAULT_WEIGHTS

    levels = QUICK_LEVELS if quick else LEVELS
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        "model": "trained" if DEFAULT_WEIGHTS.exists() else "random-init, same size (speed only)",
        "song": SONG,
        "levels": list(levels),
        "torch_threads": int(TORCH_THREADS),
        "latency": "seconds from submit to the song's files on the bot's disk",
        "configs": {},
    }
    with tempfile.TemporaryDirectory(prefix="isadei-bench-") as tmp:
        base = Path(tmp)
        print("embedded (one process, one compose slot)…", flush=True)
        results["configs"]["embedded"] = measure(base, levels, redis_url=None)
        redis = RedisServer(base).start()
        try:
            url = redis.url
            for count in (1, 2):
                print(f"redis, {count} worker(s)…", flush=True)
                workers = [start_worker(base, url, f"bench-w{i}") for i in range(count)]
                try:
                    results["configs"][f"redis_{count}_worker"] = measure(base, levels, url)
                finally:
                    for worker in workers:
                        stop(worker)
        finally:
            redis.stop()
    results["machine"]["load_average_at_end"] = os.getloadavg()  # a shared CPU shows here
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return results


def machine() -> dict[str, Any]:
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "gpu": gpu or "none: no GPU in this session, everything ran on the CPU",
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def measure(base: Path, levels: tuple[int, ...], redis_url: str | None) -> dict[str, Any]:
    """One driver process per level (a fresh, warmed-up client each time)."""
    numbers = {}
    for n in levels:
        env = {
            **os.environ,
            "ISADEI_DATA_DIR": str(base / f"driver-{secrets.token_hex(3)}"),
            "ISADEI_COMPOSE_SLOTS": "1",
            "ISADEI_TORCH_THREADS": TORCH_THREADS,
        }
        env.pop("ISADEI_REDIS_URL", None)
        if redis_url:
            env["ISADEI_REDIS_URL"] = redis_url
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli.bench_queue", "drive", str(n)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"driver failed: {done.stderr[-3000:]}")
        numbers[str(n)] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  {n:>3} concurrent: {numbers[str(n)]}", flush=True)
    return numbers


def start_worker(base: Path, url: str, name: str) -> subprocess.Popen:
    """`isadei worker` (with a random network when there are no weights), ready to work."""
    log = base / f"{name}.log"
    env = {
        **os.environ,
        "ISADEI_REDIS_URL": url,
        "ISADEI_DATA_DIR": str(base / name),
        "ISADEI_WORKER_NAME": name,
        "ISADEI_TORCH_THREADS": TORCH_THREADS,
    }
    with open(log, "ab") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.bench_queue", "worker"],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=sink,
        )
    deadline = time.monotonic() + 180
    while f"worker {name} up" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"worker {name} did not start: {log.read_text()[-3000:]}")
        time.sleep(0.2)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def stand_in_model() -> None:
    """No trained weights yet: a random network of the shipped size, for timing only."""
    import torch

    import composer.compose
    from composer.model import DEFAULT_WEIGHTS, ModelConfig, TuneLSTM
    from composer.sampler import Grammar

    if DEFAULT_WEIGHTS.exists():
        return
    composer.compose.set_torch_threads()
    torch.manual_seed(0)
    model = TuneLSTM(ModelConfig()).eval()
    grammar = Grammar()
    composer.compose.default_model = lambda: (model, grammar)


async def drive(n: int) -> dict[str, Any]:
    """Submit n requests at once through the bot's queue client; wait for all their files."""
    from bot.queue.client import QueueClient
    from bot.queue.keys import task_id
    from bot.settings import Settings
    from bot.telegram.jobs import percentile

    queue = QueueClient(Settings())
    await queue.start()
    run = secrets.token_hex(3)

    async def one(i: int) -> float:
        job_id = f"b{run}{i}"
        started = time.monotonic()
        await queue.submit(job_id, SONG, 1000 + i, 0)
        tid = task_id(job_id, 0)
        while not (await queue.poll(tid)).ready:
            await asyncio.sleep(0.05)
        _, error = await queue.fetch(tid, job_id)
        if error:
            raise RuntimeError(error)
        return time.monotonic() - started

    await one(-1)  # warm up: the model and the renderer are loaded
    started = time.monotonic()
    latencies = await asyncio.gather(*(one(i) for i in range(n)))
    wall = time.monotonic() - started
    await queue.shutdown()
    return {
        "songs_per_minute": round(60 * n / wall, 2),
        "wall_s": round(wall, 2),
        "p50_s": round(percentile(list(latencies), 50) or 0, 2),
        "p95_s": round(percentile(list(latencies), 95) or 0, 2),
    }


def main(argv: list[str]) -> None:
    """`python -m bot.cli.bench_queue drive N` / `worker`: the processes bench_queue starts.

    Their torch threads: ISADEI_TORCH_THREADS, read by composer.compose.set_torch_threads."""
    stand_in_model()
    if argv[0] == "drive":
        print(json.dumps(asyncio.run(drive(int(argv[1])))), flush=True)
    elif argv[0] == "worker":
        from bot.queue.worker import main as worker_main
        from bot.settings import Settings

        worker_main(Settings())


if __name__ == "__main__":
    main(sys.argv[1:])
