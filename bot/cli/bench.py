"""`isadei bench`: speed numbers for this machine, printed and written as JSON.

- song: a 2-minute song in a warm process, request → MP3 (`total_s`) next to FluidSynth alone
  synthesising the same MIDI (`synth_floor_s`, SoundFont loaded), measured in turn, median of 3;
  per-stage seconds; a cold `isadei compose` against the warm figure;
- sampling: ms per LSTM step at batch 1, 64, 256 and 1,024, against the arithmetic floor of the
  step (bot/cli/bench_floor.py), on CUDA when there is one;
- generation: whole 2-minute songs (both sampling passes) at 256 and 1,024 at once, songs per
  minute, and the CPU cores a deployment needs to render what that device writes;
- training: tokens per second on the CPU;
- queue (`isadei bench --queue`, bot/cli/bench_queue.py, bench/queue.json).

Shared machines are noisy: every ratio is measured side by side in one run.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from bot.cli.bench_floor import floor_ms, peak_rates, step_cost

SONG_TEXT = "a folk song, 2 minutes"
SAMPLING_BATCHES = (1, 64, 256, 1024)
GENERATION_BATCHES = (256, 1024)
REPO = Path(__file__).resolve().parents[2]


def pick_device(wish: str = "auto") -> str:
    """CUDA when there is one (the GPU worker), else the CPU."""
    if wish == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if wish.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit(f"--device {wish}: no CUDA device here")
    return wish


def machine(device: str) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                 .splitlines() if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(), "device": device,
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    return info


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def plans(batch: int, seconds: int = 120) -> list:
    from composer.compose import plan_song
    from composer.request import SongRequest

    return [plan_song(SongRequest(style="folk", length_seconds=seconds), seed=s)
            for s in range(batch)]


def bench_sampling(model, grammar, device: str, batches=SAMPLING_BATCHES) -> dict:
    """ms per step of the real sampler (first takes of 2-minute songs) at each batch size."""
    from composer.sampler import sample_tokens

    rates = peak_rates(model, device)
    cost = step_cost(model)
    results: dict = {"floor_basis": {**rates, **cost}}
    sample_tokens(model, [p.spec for p in plans(1)], grammar=grammar)  # warm up
    for batch in batches:
        specs = [p.spec for p in plans(batch)]
        _sync(device)
        started = time.perf_counter()
        _, steps = sample_tokens(model, specs, grammar=grammar)
        _sync(device)
        seconds = time.perf_counter() - started
        ms = seconds / steps * 1000
        floor = floor_ms(cost, rates, batch)
        results[str(batch)] = {"ms_per_step": round(ms, 3), "floor_ms_per_step": round(floor, 4),
                               "x_floor": round(ms / floor, 2), "steps": steps,
                               "tokens_per_s": round(batch * steps / seconds),
                               "seconds": round(seconds, 3)}
        print(f"  batch {batch}: {ms:.3f} ms/step ({ms / floor:.1f}x floor)", flush=True)
    return results


def bench_generation(model, grammar, device: str, batches=GENERATION_BATCHES) -> dict:
    """Whole 2-minute songs (first takes, then varied repeats) generated at once."""
    from composer.compose import write_songs

    out = {}
    for batch in batches:
        batch_plans = plans(batch)
        _sync(device)
        started = time.perf_counter()
        write_songs(model, grammar, batch_plans)
        _sync(device)
        seconds = time.perf_counter() - started
        out[str(batch)] = {"seconds": round(seconds, 2),
                           "songs_per_minute": round(60 * batch / seconds, 1)}
        print(f"  {batch} songs at once: {60 * batch / seconds:.0f} songs/min", flush=True)
    return out


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


def _cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def bench_song(runs: int = 3) -> dict:
    """Request → MP3 for a 2-minute song in a warm process, next to the synth floor."""
    from composer.arrange import arrange
    from composer.audio import check_system
    from composer.compose import compose
    from composer.render import as_played, render
    from composer.request import parse
    from composer.synth import render_midi

    soundfont = check_system()
    totals, floors, files, cpu, stages = [], [], [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        render(compose(parse(SONG_TEXT), seed=0), Path(tmp) / "warm")  # model, SoundFont
        for run in range(1, runs + 1):
            ready: list[float] = []
            started, cpu0 = time.perf_counter(), _cpu_seconds()
            song = compose(parse(SONG_TEXT), seed=run)  # as composer.pipeline does
            rendered = render(song, Path(tmp) / str(run),
                              on_audio=lambda _, at=ready: at.append(time.perf_counter()))
            files.append(time.perf_counter() - started)
            totals.append(ready[0] - started)
            cpu.append(_cpu_seconds() - cpu0)
            for name, seconds in rendered.timings.items():
                stages.setdefault(name, []).append(seconds)
            # FluidSynth alone on the same played MIDI: one synth, the SoundFont loaded.
            played = as_played(song, arrange(song, song.seed))
            t0 = time.perf_counter()
            render_midi(played, soundfont, parts=1)
            floors.append(time.perf_counter() - t0)
            print(f"  run {run}: to MP3 {totals[-1]:.2f} s, synth floor {floors[-1]:.2f} s",
                  flush=True)
    total, floor = statistics.median(totals), statistics.median(floors)
    return {"music_s": round(float(rendered.duration_seconds), 1), "total_s": round(total, 3),
            "synth_floor_s": round(floor, 3), "x_synth_floor": round(total / floor, 2),
            "x_synth_floor_runs": [round(t / f, 2) for t, f in zip(totals, floors, strict=True)],
            "all_files_s": round(statistics.median(files), 3),
            "cpu_s_per_song": round(statistics.median(cpu), 3),
            "stages_s": {k: round(statistics.median(v), 3) for k, v in stages.items()}}


def bench_cold(runs: int = 1) -> dict:
    """`isadei compose` as a fresh process, wall seconds (all files), median of runs."""
    walls = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(runs):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "bot.cli", "compose", SONG_TEXT, "--out",
                            str(Path(tmp) / str(run)), "--seed", "1"], cwd=REPO, check=True,
                           capture_output=True)
            walls.append(time.perf_counter() - started)
    return {"cold_compose_s": round(statistics.median(walls), 3)}


def run_benchmarks(out: Path = Path("bench/results.json"), device: str = "auto",
                   quick: bool = False) -> dict:
    from composer.compose import default_model

    device = pick_device(device)
    model, grammar = default_model()
    model.to(device)
    results = {"machine": machine(device), "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    print("benchmarking training…", flush=True)
    results["training"] = bench_training(model.config, 5.0 if quick else 20.0)
    print(f"benchmarking sampling on {device}…", flush=True)
    results["sampling"] = bench_sampling(model, grammar, device,
                                         (1, 64) if quick else SAMPLING_BATCHES)
    print("benchmarking generation of 2-minute songs…", flush=True)
    results["generation"] = bench_generation(model, grammar, device,
                                             (16,) if quick else GENERATION_BATCHES)
    model.to("cpu")  # the song path is the CPU's (a bot or a render process)
    print("benchmarking a 2-minute song, request to MP3…", flush=True)
    results["song"] = song = bench_song(1 if quick else 3)
    song.update(bench_cold())
    song["cold_minus_warm_s"] = round(song["cold_compose_s"] - song["all_files_s"], 3)
    best = max(v["songs_per_minute"] for v in results["generation"].values())
    render_cpu = song["cpu_s_per_song"] - song["stages_s"].get("generate", 0.0)
    results["deployment"] = {
        "render_cpu_s_per_song": round(render_cpu, 3),
        "songs_per_s_generated": round(best / 60, 2),
        "cpu_cores_to_render_it": round(render_cpu * best / 60, 1),
        "note": f"render CPU-seconds per song x songs per second generated on {device}",
    }
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"written to {out}")
    return results
