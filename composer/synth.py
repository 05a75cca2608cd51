"""FluidSynth in-process: MIDI → float PCM, the SoundFont loaded once per process and kept.

The fluidsynth program loads the 148 MB SoundFont again for every song; here one synth per
core lives as long as the process (`synths()`), driven through libfluidsynth (pyfluidsynth's
ctypes binding; ctypes releases the GIL, so two synths render on two cores at once).

A song is rendered in parts at once, one synth each, and the parts are summed. A synth is a
sum of independent voices, so each note goes to the part where it starts and plays out
there, ringing past the cut as long as it sounds; controllers and program changes go to
every part. Part starts sit on FluidSynth's 64-sample block grid, so every event lands on
the same block as in one whole render. Without reverb the sum is the whole render, sample
for sample (measured); the reverb's slow internal modulation starts afresh in each part, so
its tail is the same reverb with other fine detail: no seam, no change in loudness.

Without libfluidsynth (`available()` is False) composer.audio falls back to the program.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import mido
import numpy as np

SAMPLE_RATE = 44100
GAIN = 0.3  # as the program was run: -g 0.3
BLOCK = 64  # FluidSynth computes audio in blocks of 64 samples; events act on block edges
CHUNK = 8192  # samples per write call between events
TAIL_FLOOR = 1e-5  # -100 dBFS: a part's ring-out below this is silence
MAX_TAIL_S = 8.0  # a part renders at most this long past its last note-off


def available() -> bool:
    """Is libfluidsynth (through pyfluidsynth) importable here?"""
    return _binding() is not None


@lru_cache(maxsize=1)
def _binding():  # noqa: ANN202 - the pyfluidsynth module, or None
    try:
        import fluidsynth
    except (ImportError, OSError):  # pyfluidsynth missing, or libfluidsynth missing
        return None
    from ctypes import c_int, c_void_p

    fluidsynth._fl.fluid_synth_write_float.argtypes = [
        c_void_p, c_int, c_void_p, c_int, c_int, c_void_p, c_int, c_int]
    fluidsynth._fl.fluid_synth_write_float.restype = c_int
    return fluidsynth


@dataclass(frozen=True)
class Event:
    sample: int
    kind: str  # note_on | note_off | control_change | program_change | pitchwheel
    channel: int
    a: int = 0  # note, control, program or pitch
    b: int = 0  # velocity or value


def midi_events(midi: mido.MidiFile) -> tuple[list[Event], int]:
    """The file's channel events at sample times (its tempo map applied), and its length."""
    events, now = [], 0.0
    for msg in midi:  # mido merges the tracks and turns ticks into seconds
        now += msg.time
        sample = round(now * SAMPLE_RATE)
        if msg.type == "note_on" and msg.velocity == 0:
            events.append(Event(sample, "note_off", msg.channel, msg.note))
        elif msg.type in ("note_on", "note_off"):
            events.append(Event(sample, msg.type, msg.channel, msg.note,
                                getattr(msg, "velocity", 0)))
        elif msg.type == "control_change":
            events.append(Event(sample, msg.type, msg.channel, msg.control, msg.value))
        elif msg.type == "program_change":
            events.append(Event(sample, msg.type, msg.channel, msg.program))
        elif msg.type == "pitchwheel":
            events.append(Event(sample, msg.type, msg.channel, msg.pitch))
    return events, round(now * SAMPLE_RATE)


class Synth:
    """One FluidSynth with the SoundFont loaded: renders event lists to float PCM."""

    def __init__(self, soundfont: Path) -> None:
        fs = _binding()
        if fs is None:
            raise RuntimeError("libfluidsynth is not available (pip install pyfluidsynth)")
        # As the program was run: chorus off, reverb on, samples loaded as presets are used.
        self.fs = fs.Synth(gain=GAIN, samplerate=float(SAMPLE_RATE),
                           **{"synth.chorus.active": 0, "synth.dynamic-sample-loading": 1})
        if self.fs.sfload(str(soundfont)) < 0:
            raise RuntimeError(f"FluidSynth could not load {soundfont}")
        self.lock = threading.Lock()
        self.written = 0  # samples written since creation: where FluidSynth's block grid is

    def render(self, events: list[Event], start: int, stop: int,
               ring_after: int | None = None) -> np.ndarray:
        """Samples [start, stop) as (n, 2) float32; events before `start` set state only.

        With `ring_after`, stop early once everything has rung out after that sample.
        """
        with self.lock:
            self._reset()
            out = np.zeros((stop - start, 2), dtype=np.float32)
            at = start
            for event in events:
                if event.sample > at:
                    at = self._write(out, start, at, min(event.sample, stop))
                if at >= stop:
                    break
                if event.sample >= start or event.kind not in ("note_on", "note_off"):
                    self._send(event)
            if ring_after is not None:
                stop = self._ring_out(out, start, at, stop, ring_after)
            else:
                self._write(out, start, at, stop)
            return out[: stop - start]

    def _ring_out(self, out: np.ndarray, start: int, at: int, stop: int, after: int) -> int:
        limit = min(stop, max(at, after) + int(MAX_TAIL_S * SAMPLE_RATE))
        while at < limit:
            begin = at
            at = self._write(out, start, at, min(at + CHUNK, limit))
            if at > after and np.abs(out[begin - start: at - start]).max() < TAIL_FLOOR:
                return at
        return at

    def _write(self, out: np.ndarray, start: int, at: int, until: int) -> int:
        if until > at:
            view = out[at - start: until - start]
            ptr = view.ctypes.data
            self.fs_write(until - at, ptr)
        return max(at, until)

    def fs_write(self, frames: int, ptr: int) -> None:
        # Interleaved stereo: left at offset 0, right at 1, both with a stride of 2.
        _binding()._fl.fluid_synth_write_float(self.fs.synth, frames, ptr, 0, 2, ptr, 1, 2)
        self.written += frames

    def _send(self, event: Event) -> None:
        fs = self.fs
        if event.kind == "note_on":
            fs.noteon(event.channel, event.a, event.b)
        elif event.kind == "note_off":
            fs.noteoff(event.channel, event.a)
        elif event.kind == "control_change":
            fs.cc(event.channel, event.a, event.b)
        elif event.kind == "program_change":
            fs.program_change(event.channel, event.a)
        elif event.kind == "pitchwheel":
            fs.pitch_bend(event.channel, event.a)

    def _reset(self) -> None:
        """Silence, default controllers and programs, and an empty reverb: a fresh synth."""
        fs = self.fs
        fs.system_reset()
        scratch = np.zeros((CHUNK, 2), dtype=np.float32)
        for _ in range(int(MAX_TAIL_S * SAMPLE_RATE) // CHUNK):  # the last song's reverb dies
            self.fs_write(CHUNK, scratch.ctypes.data)
            if np.abs(scratch).max() < TAIL_FLOOR / 100:
                break
        fs.system_reset()
        # Start on a block edge: events then fall on the same blocks in every render.
        self.fs_write(-self.written % BLOCK, scratch.ctypes.data)


_POOL: dict[Path, list[Synth]] = {}
_POOL_LOCK = threading.Lock()


def synths(soundfont: Path, count: int) -> list[Synth]:
    """`count` synths with the SoundFont loaded, made once and kept for the process's life."""
    with _POOL_LOCK:
        pool = _POOL.setdefault(Path(soundfont), [])
        while len(pool) < count:
            pool.append(Synth(soundfont))
        return pool[:count]


def split_points(events: list[Event], length: int, parts: int) -> list[int]:
    """Where each part starts: near equal shares of the notes, on the block grid."""
    onsets = [e.sample for e in events if e.kind == "note_on"]
    if parts <= 1 or len(onsets) < 2 * parts:
        return [0]
    cuts = [0]
    for k in range(1, parts):
        cut = onsets[len(onsets) * k // parts] // BLOCK * BLOCK
        if cuts[-1] < cut < length:
            cuts.append(cut)
    return cuts


def assign(events: list[Event], cuts: list[int]) -> list[tuple[list[Event], int]]:
    """Each part's events (its notes, everyone's controllers) and its last note-off."""
    parts: list[tuple[list[Event], int]] = [([], 0) for _ in cuts]
    holder: dict[tuple[int, int], int] = {}  # (channel, note) -> the part that struck it
    for event in events:
        if event.kind == "note_on":
            part = max(k for k, cut in enumerate(cuts) if event.sample >= cut)
            holder[(event.channel, event.a)] = part
            parts[part][0].append(event)
        elif event.kind == "note_off":
            part = holder.get((event.channel, event.a))
            if part is not None:
                parts[part][0].append(event)
                parts[part] = (parts[part][0], max(parts[part][1], event.sample))
        else:
            for own, _ in parts:
                own.append(event)
    return parts


def render_midi(midi: mido.MidiFile, soundfont: Path, parts: int = 2) -> np.ndarray:
    """The whole file as (n, 2) float32 PCM at 44.1 kHz, rendered in `parts` at once."""
    events, length = midi_events(midi)
    cuts = split_points(events, length, parts)
    pool = synths(soundfont, len(cuts))
    if len(cuts) == 1:
        return pool[0].render(events, 0, length)
    out = np.zeros((length, 2), dtype=np.float32)
    jobs = []
    with ThreadPoolExecutor(len(cuts)) as threads:
        for k, ((own, last_off), cut) in enumerate(zip(assign(events, cuts), cuts, strict=True)):
            last = k == len(cuts) - 1
            jobs.append((cut, threads.submit(pool[k].render, own, cut, length,
                                             None if last else max(last_off, cuts[k + 1]))))
        for cut, job in jobs:
            pcm = job.result()
            out[cut: cut + len(pcm)] += pcm
    return out
