"""`isadei bench`: speed numbers for this machine, printed and written as JSON.

- model: training tokens/s, sampling ms/token at batch 1 and 64 (against the
  arithmetic floor of one bare LSTM step), songs per second for a batch;
- song: per-stage seconds for a 2-minute song and the total as a multiple of real time;
- queue (`isadei bench --queue`, bot/cli/bench_queue.py, bench/queue.json): songs per minute and
  latency percentiles through the job queue, embedded vs Redis workers.
"""

from __future__ import annotations

import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch


def _machine() -> dict:
    info = {"cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def bench_training(model_config, seconds: float = 20.0) -> dict:
    """Training tokens per second on random tunes of a typical length."""
    from composer.model import TuneLSTM
    from composer.training.train import batch_loss

    model = TuneLSTM(model_config)
    optimizer = torch.optim.AdamW(model.parameters())
    batch = torch.randint(5, model_config.vocab_size, (32, 400))
    tokens, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        loss, n = batch_loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        tokens += n
    return {"train_tokens_per_s": round(tokens / (time.perf_counter() - started))}


@torch.inference_mode()
def bench_floor(model, batch: int, steps: int = 200) -> float:
    """ms for one bare forward step (embedding + LSTM + head), no sampling: the floor."""
    token = torch.zeros((batch, 1), dtype=torch.long)
    state = None
    for _ in range(10):
        _, state = model(token, state)
    started = time.perf_counter()
    for _ in range(steps):
        _, state = model(token, state)
    return (time.perf_counter() - started) / steps * 1000


def bench_sampling(model, grammar) -> dict:
    from composer.compose import plan_song
    from composer.request import SongRequest
    from composer.sampler import sample_tunes

    results = {}
    for batch in (1, 64):
        plans = [plan_song(SongRequest(style="folk", length_seconds=120), seed=s)
                 for s in range(batch)]
        started = time.perf_counter()
        tunes, steps = sample_tunes(model, [p.spec for p in plans], grammar=grammar)
        seconds = time.perf_counter() - started
        results[f"batch_{batch}"] = {
            "ms_per_step": round(seconds / steps * 1000, 3),
            "floor_ms_per_step": round(bench_floor(model, batch), 3),
            "songs_per_s": round(batch / seconds, 2),
            "tokens_per_s": round(batch * steps / seconds),
            "seconds": round(seconds, 3),
        }
    return results


def bench_song(runs: int = 3) -> dict:
    """Per-stage seconds of `compose_to_files` for a 2-minute folk song (median of runs)."""
    from composer.pipeline import compose_to_files

    stages: dict[str, list[float]] = {}
    totals, durations = [], []
    with tempfile.TemporaryDirectory() as tmp:
        compose_to_files("a folk song, 2 minutes", Path(tmp) / "warmup", seed=0)  # load once
        for run in range(runs):
            started = time.perf_counter()
            rendered = compose_to_files("a folk song, 2 minutes", Path(tmp) / str(run), seed=run)
            totals.append(time.perf_counter() - started)
            durations.append(rendered.duration_seconds)
            for name, seconds in rendered.timings.items():
                stages.setdefault(name, []).append(seconds)
    total = statistics.median(totals)
    music = statistics.median(durations)
    return {"stages_s": {k: round(statistics.median(v), 3) for k, v in stages.items()},
            "total_s": round(total, 3), "music_s": round(music, 1),
            "times_real_time": round(music / total, 1)}


def run_benchmarks(queue: bool = False, out: Path = Path("bench/results.json")) -> dict:
    from composer.compose import default_model

    model, grammar = default_model()
    results = {"machine": _machine(), "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    print("benchmarking training…", flush=True)
    results["training"] = bench_training(model.config)
    print("benchmarking sampling…", flush=True)
    results["sampling"] = bench_sampling(model, grammar)
    print("benchmarking a 2-minute song…", flush=True)
    results["song"] = bench_song()
    if queue:
        from bot.cli.bench_queue import bench_queue

        print("benchmarking the job queue…", flush=True)
        results["queue"] = bench_queue()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print(f"written to {out}")
    return results
