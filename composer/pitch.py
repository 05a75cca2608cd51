"""Audio -> sung notes in seconds: decode, track the pitch, cut the track into notes.

The tracker is YIN (de Cheveigné & Kawahara 2002) in plain numpy. librosa's pYIN was tried
first: it tracks as well on sung audio, but importing librosa (numba, scipy.signal) takes
4-8 s on these machines before the first note, more than the whole budget of a reply.

Singing is not a keyboard: vibrato swings the pitch +-0.5 semitone 5-6 times a second,
notes start with scoops and glides, and the whole voice drifts flat or sharp over a
phrase. So notes are cut where the vibrato-averaged pitch moves to a new level or where
the voice stops or dips (a consonant before a repeated note), and each note is named
against a reference tuning that follows the singer's drift, not A440.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

import numpy as np

from composer.heard import TuneInputError

SR = 16000
HOP = 160  # 10 ms frames
WINDOW = 512  # YIN integration window (32 ms)
FMIN, FMAX = 60.0, 1100.0  # a low bass hum to a high soprano
MAX_BYTES = 20 * 1024 * 1024
MIN_SECONDS, MAX_SECONDS = 2.0, 60.0
MIN_NOTE_S = 0.07  # shorter pitch steps are glides, scoops or trills, not notes
GLIDE_S = 0.12  # a step this short that slides in pitch is a glide into the next note


@dataclass(frozen=True)
class SungNote:
    pitch: int  # MIDI number against the drifting reference
    onset_s: float
    offset_s: float
    raw: float  # the note's median pitch in fractional MIDI numbers (A440)


def decode(path: str, max_seconds: float = MAX_SECONDS) -> np.ndarray:
    """Any audio ffmpeg reads -> mono float32 at SR. Decodes at most max_seconds + 1 s."""
    if os.path.getsize(path) > MAX_BYTES:
        raise TuneInputError("too_big", "The file is too big: please send at most 20 MB.")
    if not _container_complete(path):
        raise TuneInputError("corrupt", "That recording seems cut short or damaged; "
                             "please send it again.")
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-t", str(max_seconds + 1),
           "-vn", "-ac", "1", "-ar", str(SR), "-f", "f32le", "pipe:1"]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
    except subprocess.TimeoutExpired as exc:
        raise TuneInputError("corrupt", "I could not read that recording.") from exc
    audio = np.frombuffer(done.stdout, dtype=np.float32)
    # ffmpeg says "error" for damaged or cut-off streams even when it decodes part of them
    damaged = done.returncode != 0 or _has_decode_errors(done.stderr.decode(errors="replace"))
    if damaged or audio.size == 0:
        raise TuneInputError("corrupt", "That recording seems damaged or cut short; "
                             "please record it again.")
    seconds = audio.size / SR
    if seconds > max_seconds:
        raise TuneInputError("too_long", "That is longer than a minute: please sing just "
                             "the tune, 2 to 60 seconds.")
    if seconds < MIN_SECONDS:
        raise TuneInputError("too_short", "That is too short: please sing at least a few "
                             "seconds of the tune.")
    return audio


def _container_complete(path: str) -> bool:
    """False for an OGG without its last page or a WAV shorter than its header says:
    ffmpeg decodes such cut-off files silently, as if the tune ended there."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if head.startswith(b"OggS"):
            f.seek(max(0, size - 65536))
            tail = f.read()
            at = tail.rfind(b"OggS")
            if at < 0 or len(tail) - at < 27:
                return False
            page = tail[at:]
            segments = page[26]
            if len(page) < 27 + segments:
                return False
            body = sum(page[27: 27 + segments])
            return len(page) == 27 + segments + body and bool(page[5] & 0x04)
        if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
            declared = int.from_bytes(head[4:8], "little")
            return declared in (0, 0xFFFFFFFF) or declared + 8 <= size  # 0/-1: streamed
    return True


def _has_decode_errors(stderr: str) -> bool:
    words = ("invalid data", "truncat", "error while decoding", "corrupt", "end of file",
             "could not find codec", "partial file", "packet too short")
    return any(w in stderr.lower() for w in words)


def frame_energy(y: np.ndarray) -> np.ndarray:
    """RMS per hop in dB, frames centred like the pitch frames."""
    n = len(y) // HOP
    frames = y[: n * HOP].reshape(n, HOP).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1) + 1e-12)
    # a 30 ms average: the level a listener hears, not single periods
    rms = np.convolve(rms, np.ones(3) / 3, mode="same")
    return 20 * np.log10(rms + 1e-9)


def yin(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(f0 in Hz or nan, aperiodicity 0..1 per 10 ms frame)."""
    tau_max = int(SR / FMIN) + 1
    tau_min = int(SR / FMAX)
    length = WINDOW + tau_max
    n = len(y) // HOP
    padded = np.concatenate([np.zeros(WINDOW // 2), y.astype(np.float64), np.zeros(length)])
    idx = np.arange(length)[None, :] + HOP * np.arange(n)[:, None]
    frames = padded[idx]
    frames -= frames.mean(axis=1, keepdims=True)
    size = 1 << int(np.ceil(np.log2(length + WINDOW)))
    spec = np.fft.rfft(frames, size) * np.conj(np.fft.rfft(frames[:, :WINDOW], size))
    acf = np.fft.irfft(spec, size)[:, : tau_max + 1]
    sq = np.concatenate([np.zeros((n, 1)), np.cumsum(frames**2, axis=1)], axis=1)
    energy_tau = sq[:, WINDOW: WINDOW + tau_max + 1] - sq[:, : tau_max + 1]
    diff = energy_tau[:, :1] + energy_tau - 2 * acf
    diff[:, 0] = 0
    cum = np.cumsum(diff[:, 1:], axis=1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] * np.arange(1, tau_max + 1) / np.maximum(cum, 1e-12)
    # YIN's rule: the first dip under the threshold (avoids octave-down errors), else the
    # deepest dip; refine by a parabola through the dip
    region = cmnd[:, tau_min:tau_max]
    local_min = np.zeros_like(region, dtype=bool)
    local_min[:, 1:-1] = (region[:, 1:-1] <= region[:, :-2]) & (region[:, 1:-1] < region[:, 2:])
    # "under the threshold" is relative to the deepest dip, so noise that lifts every dip
    # does not push the choice down an octave
    thresh = np.maximum(0.15, region.min(axis=1, keepdims=True) + 0.1)
    under = local_min & (region < thresh)
    first = np.where(under.any(axis=1), under.argmax(axis=1), region.argmin(axis=1))
    tau = first + tau_min
    rows = np.arange(n)
    ok = (tau > tau_min) & (tau < tau_max - 1)
    a, b, c = cmnd[rows, tau - 1], cmnd[rows, tau], cmnd[rows, np.minimum(tau + 1, tau_max)]
    denom = a - 2 * b + c
    shift = np.where(ok & (np.abs(denom) > 1e-9), 0.5 * (a - c) / np.where(denom == 0, 1, denom), 0)
    period = tau + np.clip(shift, -1, 1)
    return SR / period, b


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of every run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _moving_mean(x: np.ndarray, width: int) -> np.ndarray:
    width = max(1, min(width, len(x)))
    kernel = np.ones(width) / width
    pad = np.pad(x, (width // 2, width - 1 - width // 2), mode="edge")
    return np.convolve(pad, kernel, mode="valid")


def track(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(midi pitch per frame, nan where unvoiced; voiced mask; energy dB)."""
    f0, aperiodicity = yin(y)
    energy = frame_energy(y)[: len(f0)]
    f0 = f0[: len(energy)]
    aperiodicity = aperiodicity[: len(energy)]
    loud, floor = np.percentile(energy, 95), np.percentile(energy, 2)
    # voiced: periodic, and clearly above the noise floor (the gaps between sung notes
    # hold only noise, whose YIN "pitch" is random)
    gate = max(loud - 30, min(floor + 6, loud - 12))
    voiced = (aperiodicity < 0.45) & (energy > gate) & (f0 > FMIN) & (f0 < FMAX)
    midi = np.where(voiced, 69 + 12 * np.log2(np.where(voiced, f0, 440.0) / 440.0), np.nan)
    # a lone frame an octave off is a YIN slip: a 5-frame median corrects it
    for a, b in _runs(voiced):
        if b - a >= 5:
            seg = midi[a:b]
            med = np.array([np.median(seg[max(0, i - 2): i + 3]) for i in range(b - a)])
            slip = np.abs(seg - med) > 5
            midi[a:b] = np.where(slip, med, seg)
    _bridge_dropouts(midi, voiced, energy)
    # drop voiced islands too short to be sung notes (clicks, noise bursts)
    for a, b in _runs(voiced):
        if b - a < 5:
            voiced[a:b] = False
            midi[a:b] = np.nan
    return midi, voiced, energy


def _bridge_dropouts(midi: np.ndarray, voiced: np.ndarray, energy: np.ndarray,
                     max_gap: int = 8) -> None:
    """Fill short unvoiced gaps inside one held note (noise masking the voice for a few
    frames): same pitch on both sides and no dip in level. A sung re-attack dips."""
    runs = _runs(voiced)
    for (_, end), (start, _) in zip(runs[:-1], runs[1:], strict=True):
        gap = start - end
        if gap > max_gap:
            continue
        before, after = midi[end - 1], midi[start]
        if abs(before - after) > 1.0:
            continue
        edge = min(energy[end - 1], energy[start])
        if energy[end:start].min() < edge - 4:
            continue
        midi[end:start] = np.linspace(before, after, gap + 2)[1:-1]
        voiced[end:start] = True


def _dips(energy: np.ndarray, a: int, b: int, depth_db: float = 5.0) -> list[int]:
    """Frames inside [a, b) where the level dips well below both sides: a consonant or a
    re-articulated note."""
    cuts = []
    e = energy[a:b]
    for i in range(4, len(e) - 4):
        if e[i] != e[max(0, i - 3): i + 4].min():
            continue
        left, right = e[max(0, i - 15): i].max(), e[i + 1: i + 16].max()
        if min(left, right) - e[i] >= depth_db:
            cuts.append(a + i)
    return cuts


def segment(midi: np.ndarray, voiced: np.ndarray,
            energy: np.ndarray) -> list[tuple[int, int, bool]]:
    """Frame ranges [start, end) of notes, and whether each was articulated (after a
    silence or a dip) rather than reached by a change of pitch."""
    min_frames = int(MIN_NOTE_S * SR / HOP)
    notes: list[tuple[int, int, bool]] = []
    for a, b in _runs(voiced):
        bounds = [a, *_dips(energy, a, b), b]
        for s, e in zip(bounds[:-1], bounds[1:], strict=True):
            steps = _pitch_steps(midi, s, e)
            # a step too short to be a note is a scoop or glide: it joins the next one
            kept: list[list[int]] = []
            carry = None
            for x, y in steps:
                if y - x < min_frames:
                    carry = x if carry is None else carry
                    continue
                kept.append([x if carry is None else carry, y])
                carry = None
            if carry is not None and kept:
                kept[-1][1] = e
            kept = _absorb_glides(midi, kept)
            for i, (x, y) in enumerate(kept):
                notes.append((x, y, i == 0))
    return notes


def _absorb_glides(midi: np.ndarray, pieces: list[list[int]]) -> list[list[int]]:
    """A short piece whose pitch slides (a glide into the next note, not a note) joins
    the next piece; at the end of a run, the one before."""
    glide = int(GLIDE_S * SR / HOP)
    out: list[list[int]] = []
    pending: int | None = None
    for i, (x, y) in enumerate(pieces):
        seg = midi[x:y]
        sliding = y - x <= glide and np.ptp(seg) > 0.8 and len(pieces) > 1
        if sliding and i + 1 < len(pieces):
            pending = x if pending is None else pending
            continue
        if sliding and out:
            out[-1][1] = y
            continue
        out.append([x if pending is None else pending, y])
        pending = None
    return out


def _pitch_steps(midi: np.ndarray, a: int, b: int, penalty: float = 2.5,
                 min_len: int = 4) -> list[tuple[int, int]]:
    """Cut [a, b) into pieces of steady pitch: the piecewise-constant fit of the
    vibrato-averaged pitch with the least squared error plus `penalty` per piece (optimal
    partitioning by dynamic programming, O(n^2) in numpy, n = frames in the run)."""
    n = b - a
    if n < 2 * min_len:
        return [(a, b)]
    x = _moving_mean(midi[a:b], 11)  # ~ two thirds of a vibrato cycle
    c1 = np.concatenate([[0.0], np.cumsum(x)])
    c2 = np.concatenate([[0.0], np.cumsum(x * x)])
    best = np.full(n + 1, np.inf)
    best[0] = -penalty
    back = np.zeros(n + 1, dtype=int)
    for j in range(min_len, n + 1):
        i = np.arange(0, j - min_len + 1)
        length = j - i
        sse = c2[j] - c2[i] - (c1[j] - c1[i]) ** 2 / length
        total = best[i] + sse + penalty
        k = int(np.argmin(total))
        best[j], back[j] = total[k], i[k]
    cuts = [n]
    while cuts[-1] > 0:
        cuts.append(int(back[cuts[-1]]))
    cuts.reverse()
    return [(a + s, a + e) for s, e in zip(cuts[:-1], cuts[1:], strict=True)]


def note_pitch(raw: np.ndarray) -> float:
    """The pitch a listener names: the median after the scoop, before the release."""
    n = len(raw)
    head = min(n // 4, 8)  # skip up to 80 ms of scoop or glide
    tail = n // 8
    return float(np.median(raw[head: n - tail] if n - tail > head else raw))


def follow_tuning(raws: list[float], times: list[float], span_s: float = 4.0) -> np.ndarray:
    """The singer's reference tuning at each note (semitones off A440), moving slowly.

    Each note's offset from the nearest semitone, averaged on the circle over its
    neighbours within span_s, then unwrapped so a drift through a quarter tone keeps
    its notes in place instead of jumping a semitone; centred so the median sits within
    half a semitone of A440.
    """
    frac = np.asarray(raws) - np.round(raws)
    angle = 2 * np.pi * frac
    t = np.asarray(times)
    offsets = np.empty(len(raws))
    for i in range(len(raws)):
        w = np.exp(-0.5 * ((t - t[i]) / (span_s / 2)) ** 2)
        offsets[i] = np.angle(np.sum(w * np.exp(1j * angle))) / (2 * np.pi)
    offsets = np.unwrap(offsets * 2 * np.pi) / (2 * np.pi)
    return offsets - np.round(np.median(offsets))


def hear_notes(y: np.ndarray) -> tuple[list[SungNote], dict]:
    """Sung notes of a recording, and diagnostics. Raises TuneInputError when there is no tune."""
    level = 20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2)) + 1e-12)
    if level < -60 or np.max(np.abs(y)) < 1e-3:
        raise TuneInputError("silence", "I heard only silence: is the microphone on?")
    midi, voiced, energy = track(y)
    pieces = segment(midi, voiced, energy)
    ranges = [(s, e) for s, e, _ in pieces]
    voiced_s = voiced.sum() * HOP / SR
    steady_s = sum(e - s for s, e in ranges) * HOP / SR
    raws = [note_pitch(midi[s:e]) for s, e in ranges]
    # a tune holds its notes; speech glides through syllables and noise has no pitch
    steady = [_steadiness(midi[s:e]) for s, e in ranges]
    held = sum((e - s) for (s, e), ok in zip(ranges, steady, strict=True) if ok) * HOP / SR
    details = {"voiced_s": round(voiced_s, 2), "steady_s": round(steady_s, 2),
               "held_s": round(held, 2), "seconds": round(len(y) / SR, 2)}
    if voiced_s < 0.15 * len(y) / SR and held < 1.0 or len(ranges) < 3:
        raise TuneInputError("no_tune", "I could not hear a tune in that: please hum or "
                             "sing it a little louder, away from noise.")
    if held < 0.5 * voiced_s:
        raise TuneInputError("no_tune", "That sounds like talking rather than a tune: "
                             "please sing or hum it.")
    onsets = [s * HOP / SR for s, _ in ranges]
    tuning = follow_tuning(raws, onsets)
    notes = [SungNote(int(round(r - off)), s * HOP / SR, e * HOP / SR, r)
             for (s, e), r, off in zip(ranges, raws, tuning, strict=True)]
    notes = _merge_repeats(notes, [art for _, _, art in pieces])
    details["tuning_cents"] = [round(float(x) * 100) for x in (tuning.min(), tuning.max())]
    return notes, details


def _steadiness(raw: np.ndarray) -> bool:
    """A held note: past its onset its pitch neither slides (speech glides through every
    syllable) nor wanders by more than a vibrato does."""
    n = len(raw)
    if n < 6:
        return False
    core = raw[n // 5: n - n // 8]
    x = np.arange(len(core))
    slope, intercept = np.polyfit(x, core, 1)
    residual = core - (slope * x + intercept)
    return bool(abs(slope) * len(core) < 1.0 and residual.std() < 0.8)


def _merge_repeats(notes: list[SungNote], articulated: list[bool]) -> list[SungNote]:
    """Join a piece to the one before when it was not articulated and has the same pitch:
    vibrato or a wobble, not two notes."""
    merged: list[SungNote] = []
    for n, art in zip(notes, articulated, strict=True):
        if merged and not art and merged[-1].pitch == n.pitch:
            p = merged[-1]
            merged[-1] = SungNote(p.pitch, p.onset_s, n.offset_s, p.raw)
            continue
        merged.append(n)
    return merged
