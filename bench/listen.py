"""Listening benchmark: held-out corpus tunes, sung by a synthetic voice, heard back.

    nice -n 10 .venv/bin/python -m bench.listen [--tunes 30] [--out bench/listen.json]

Each tune's opening (10-20 s) is sung (bench/listen_synth.py: formant voice, vibrato,
scoops, drift of up to a quarter tone, tempo wobble, breath) and sent through an Opus
voice-note round trip, clean and with noise at 20 dB and 10 dB SNR. Scores per condition:
notes right (mir_eval note F1: onset within 50 ms, pitch within 50 cents, offsets
ignored), tunes whose interval sequence survives (edit similarity >= 0.8), rhythm right
(matched notes whose quantised length is right, up to one tempo factor per tune), meter
and key right, and seconds per clip. Then one 20 s clip is timed end to end, cold (a new
process: imports, decoding and all) and warm.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.listen_synth import SR, Singer, add_noise, sing, timings
from composer.heard import TuneInputError
from composer.listen import listen
from composer.music import PARENT_MODE, TICKS_PER_QUARTER, Tune

CONDITIONS = (("clean", None), ("20 dB", 20.0), ("10 dB", 10.0))


def sung_opening(tune: Tune, rng: np.random.Generator, max_s: float = 16.0):
    """(notes to sing as (pitch, onset, offset), quarters per note, bpm, transposition)."""
    melody = list(tune.melody())
    if melody and melody[0].pitch is None and tune.pickup_ticks:
        melody = melody[1:]
    quarter_bpm = rng.uniform(80, 120) * (1.5 if tune.meter.is_compound else 1.0)
    pitches = [n.pitch for n in melody if n.pitch is not None]
    shift = 0
    median = float(np.median(pitches))
    if median > 76:
        shift = -12  # into a comfortable singing range
    if rng.random() < 0.4:
        shift -= 12  # a lower (male) voice
    beats: list[tuple[int | None, float]] = []
    seconds = 0.0
    for n in melody:
        q = n.ticks / TICKS_PER_QUARTER
        if seconds + q * 60 / quarter_bpm > max_s and len(beats) >= 8:
            break
        beats.append((None if n.pitch is None else n.pitch + shift, q))
        seconds += q * 60 / quarter_bpm
    while beats and beats[-1][0] is None:
        beats.pop()
    notes = timings(beats, quarter_bpm, 0.06, rng)
    return notes, [q for _, q in beats if _ is not None], quarter_bpm, shift


def to_ogg(audio: np.ndarray, folder: Path, name: str) -> Path:
    """A Telegram-style voice note: Opus in OGG, mono, 32 kbit/s."""
    wav = folder / f"{name}.f32"
    wav.write_bytes(audio.astype(np.float32).tobytes())
    out = folder / f"{name}.ogg"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(SR),
                    "-ac", "1", "-i", str(wav), "-c:a", "libopus", "-b:a", "32k", str(out)],
                   check=True)
    return out


def edit_similarity(a: list[int], b: list[int]) -> float:
    if not a and not b:
        return 1.0
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return 1 - prev[-1] / max(len(a), len(b))


def score(truth, quarters, heard, tune: Tune) -> dict:
    import mir_eval

    ref_i = np.array([[n.onset_s, n.offset_s] for n in truth])
    ref_p = 440 * 2 ** ((np.array([n.pitch for n in truth]) - 69) / 12)
    est = [n for n in heard.notes if n.onset_s is not None]
    est_i = np.array([[n.onset_s, max(n.offset_s, n.onset_s + 0.01)] for n in est])
    est_p = 440 * 2 ** ((np.array([n.pitch for n in est]) - 69) / 12)
    p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
        ref_i, ref_p, est_i, est_p, onset_tolerance=0.05, pitch_tolerance=50.0,
        offset_ratio=None)
    pairs = mir_eval.transcription.match_notes(ref_i, ref_p, est_i, est_p, offset_ratio=None)
    rhythm = 0.0
    if pairs:
        ratios = (1 / 3, 0.5, 2 / 3, 1.0, 1.5, 2.0, 3.0)
        rhythm = max(np.mean([abs(est[j].beats - quarters[i] * k) < 1e-6 for i, j in pairs])
                     for k in ratios)
    ref_iv = list(np.diff([n.pitch for n in truth]))
    est_iv = list(np.diff([n.pitch for n in est]))
    sim = edit_similarity(ref_iv, est_iv)
    same_meter = heard.meter.name == tune.meter.name or {heard.meter.name, tune.meter.name} \
        <= {"2/4", "4/4", "2/2"}
    same_key = heard.tune.tonic == tune.tonic and \
        PARENT_MODE[heard.mode] == PARENT_MODE[tune.mode]
    return {"precision": p, "recall": r, "f1": f, "interval_similarity": sim,
            "intervals_survive": sim >= 0.8, "rhythm_right": float(rhythm),
            "meter_right": bool(same_meter), "key_right": bool(same_key)}


def time_20s(folder: Path) -> dict:
    """One 20-second voice note, end to end: cold (new process) and warm."""
    rng = np.random.default_rng(20)
    beats = [(67 + [0, 2, 4, 5, 7, 9, 7, 5, 4, 2][i % 10], [1.0, 0.5, 0.5][i % 3])
             for i in range(60)]
    notes = [n for n in timings(beats, 100, 0.06, rng) if n[2] <= 20.0]
    audio, _ = sing(notes, Singer(), seed=20)
    path = to_ogg(add_noise(audio, 20.0, 1), folder, "twenty")
    code = ("import time; t=time.perf_counter(); from composer.listen import listen; "
            f"h=listen({str(path)!r}); print(time.perf_counter()-t)")
    cold = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.strip())
    t = time.perf_counter()
    heard = listen(str(path))
    warm = time.perf_counter() - t
    return {"clip_s": round(len(audio) / SR, 1), "cold_s": round(cold, 3),
            "warm_s": round(warm, 3), "notes": len(heard.notes)}


def main(argv: list[str] | None = None) -> int:
    from composer.training.corpus import load_corpus, split_of

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="bench/listen.json")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    held_out = [t for t in load_corpus() if split_of(t.id) == "test" and t.style != "chorale"]
    picks = rng.choice(len(held_out), size=min(args.tunes, len(held_out)), replace=False)
    rows: dict[str, list[dict]] = {name: [] for name, _ in CONDITIONS}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for k, index in enumerate(picks):
            tune = held_out[int(index)]
            notes, quarters, bpm, _ = sung_opening(tune, rng)
            clean, truth = sing(notes, Singer(), seed=k)
            for name, snr in CONDITIONS:
                audio = clean if snr is None else add_noise(clean, snr, seed=k)
                path = to_ogg(audio, folder, f"t{k}")
                t = time.perf_counter()
                try:
                    heard = listen(str(path))
                except TuneInputError as exc:
                    rows[name].append({"tune": tune.id, "error": exc.code, "f1": 0.0,
                                       "intervals_survive": False, "seconds": 0.0})
                    continue
                row = score(truth, quarters, heard, tune)
                row.update(tune=tune.id, meter=tune.meter.name, heard_meter=heard.meter.name,
                           bpm=round(bpm), heard_bpm=heard.tempo_bpm,
                           seconds=time.perf_counter() - t, clip_s=len(clean) / SR)
                rows[name].append(row)
        timing = time_20s(folder)
    summary = {}
    for name, _ in CONDITIONS:
        r = rows[name]
        summary[name] = {
            "notes_right": float(np.mean([x["f1"] for x in r])),
            "note_precision": float(np.mean([x.get("precision", 0) for x in r])),
            "note_recall": float(np.mean([x.get("recall", 0) for x in r])),
            "intervals_survive": float(np.mean([x["intervals_survive"] for x in r])),
            "rhythm_right": float(np.mean([x.get("rhythm_right", 0) for x in r])),
            "meter_right": float(np.mean([x.get("meter_right", False) for x in r])),
            "key_right": float(np.mean([x.get("key_right", False) for x in r])),
            "errors": sum(1 for x in r if "error" in x),
            "seconds_per_clip": float(np.mean([x["seconds"] for x in r])),
        }
    print(f"{'condition':<8} {'notes right':>11} {'P':>6} {'R':>6} {'intervals':>9} "
          f"{'rhythm':>6} {'meter':>6} {'key':>6} {'s/clip':>6}")
    for name, s in summary.items():
        print(f"{name:<8} {s['notes_right']:>11.3f} {s['note_precision']:>6.3f} "
              f"{s['note_recall']:>6.3f} {s['intervals_survive']:>9.3f} "
              f"{s['rhythm_right']:>6.3f} {s['meter_right']:>6.3f} {s['key_right']:>6.3f} "
              f"{s['seconds_per_clip']:>6.2f}")
    print(f"20 s voice note: {timing['cold_s']:.2f} s cold (new process), "
          f"{timing['warm_s']:.2f} s warm; {timing['notes']} notes")
    result = {"tunes": len(picks), "conditions": summary, "twenty_second_clip": timing,
              "wall_s": round(time.perf_counter() - started, 1),
              "machine": {"cpus": platform.processor() or platform.machine(),
                          "python": platform.python_version()},
              "per_tune": rows}
    Path(args.out).write_text(json.dumps(result, indent=1, default=float))
    print(f"wrote {args.out} ({result['wall_s']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
