"""A crude singer: notes -> sung-like audio, for the listening benchmark and tests.

Voice-like timbre (harmonics shaped by vowel formants), vibrato, scoops into notes, soft
onsets, consonant dips between repeated notes, slow pitch drift, tempo wobble, breath noise,
and background noise at a chosen SNR. Not a real voice; it exercises what a real one does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SR = 16000
# Formant frequencies (Hz) and bandwidths of a few vowels (rough adult averages).
VOWELS = {
    "a": ((730, 1090, 2440), (90, 110, 160)),
    "o": ((570, 840, 2410), (80, 100, 160)),
    "u": ((300, 870, 2240), (70, 100, 150)),
    "e": ((530, 1840, 2480), (70, 120, 160)),
    "i": ((390, 1990, 2550), (60, 120, 170)),
}


@dataclass(frozen=True)
class SungNote:
    pitch: int  # the written MIDI pitch (what a listener should hear)
    onset_s: float
    offset_s: float


@dataclass
class Singer:
    vibrato_hz: float = 5.5
    vibrato_cents: float = 40.0  # half the peak-to-peak swing
    drift_semitones: float = 0.5  # total pitch drift over the clip (a quarter tone = 0.5)
    wobble: float = 0.06  # tempo wobble, share of the tempo
    scoop_semitones: float = 0.8  # how far below a note a scoop starts
    intonation_cents: float = 12.0  # random per-note mistuning
    breath_db: float = -32.0  # breath noise under the voice


def timings(beats: list[tuple[int | None, float]], bpm: float, wobble: float,
            rng: np.random.Generator) -> list[tuple[int | None, float, float]]:
    """(pitch, quarter notes) -> (pitch, onset s, offset s) with a wobbling tempo."""
    out, t = [], 0.0
    phase = rng.uniform(0, 2 * np.pi)
    walk = 0.0
    for pitch, quarters in beats:
        walk = 0.9 * walk + rng.normal(0, wobble / 3)
        factor = 1 + wobble * np.sin(2 * np.pi * t / 6.0 + phase) + walk
        seconds = quarters * 60.0 / bpm * factor
        out.append((pitch, t, t + seconds))
        t += seconds
    return out


def sing(notes: list[tuple[int | None, float, float]], singer: Singer | None = None,
         seed: int = 0, snr_db: float | None = None, sr: int = SR) -> tuple[np.ndarray,
                                                                        list[SungNote]]:
    """Render (pitch or None for a rest, onset s, offset s) -> (audio, the sung notes)."""
    singer = singer or Singer()
    rng = np.random.default_rng(seed)
    total = notes[-1][2] + 0.4
    n = int(total * sr) + 1
    t = np.arange(n) / sr
    pitch = np.full(n, np.nan)
    amp = np.zeros(n)
    vowel_of = np.zeros(n, dtype=int)
    truth: list[SungNote] = []
    prev_pitch: int | None = None
    vowels = list(VOWELS)
    for i, (p, on, off) in enumerate(notes):
        if p is None:
            prev_pitch = None
            continue
        a, b = int(on * sr), int(off * sr)
        seg = np.arange(b - a) / sr
        dur = (b - a) / sr
        cents = rng.normal(0, singer.intonation_cents) / 100
        curve = p + cents + np.zeros(b - a)
        legato = prev_pitch is not None and prev_pitch != p
        if legato:  # a glide from the previous note (portamento), ~50 ms
            glide = min(0.05, dur / 4)
            k = seg < glide
            curve[k] = prev_pitch + (p - prev_pitch) * (seg[k] / glide) + cents
        elif rng.random() < 0.6:  # a scoop up into the note
            scoop = min(0.08, dur / 3)
            k = seg < scoop
            curve[k] -= singer.scoop_semitones * (1 - seg[k] / scoop) ** 2
        # vibrato fades in after ~150 ms, as singers do
        depth = singer.vibrato_cents / 100 * np.clip((seg - 0.15) / 0.2, 0, 1)
        curve += depth * np.sin(2 * np.pi * singer.vibrato_hz * seg + rng.uniform(0, 6.3))
        pitch[a:b] = curve
        # soft onset; a consonant dip before a repeated note or after a rest
        attack = 0.015 if legato else 0.045
        release = 0.02 if (i + 1 < len(notes) and notes[i + 1][0] not in (None, p)) else 0.06
        env = np.clip(seg / attack, 0, 1) * np.clip((dur - seg) / release, 0, 1)
        env *= 1 + 0.1 * np.sin(2 * np.pi * 0.7 * seg)  # a little swell
        amp[a:b] = np.maximum(amp[a:b], env * rng.uniform(0.7, 1.0))
        vowel_of[a:b] = rng.integers(len(vowels))
        truth.append(SungNote(p, on, off))
        prev_pitch = p
    # slow drift over the whole clip (up to the singer's drift at the end)
    drift = singer.drift_semitones * (t / total) ** 1.2 * rng.choice([-1, 1])
    f0 = 440.0 * 2 ** ((np.nan_to_num(pitch, nan=60.0) + drift - 69) / 12)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voice = np.zeros(n)
    top = np.nanmax(pitch)
    harmonics = int(min(30, 5000 / (440.0 * 2 ** ((top + 1 - 69) / 12)))) + 1
    for k in range(1, harmonics):
        fk = k * f0
        gain = np.zeros(n)
        for v, name in enumerate(vowels):
            sel = vowel_of == v
            if not sel.any():
                continue
            freqs, bws = VOWELS[name]
            g = sum(1.0 / (1 + ((fk[sel] - F) / B) ** 2) for F, B in zip(freqs, bws, strict=True))
            gain[sel] = g
        source = 1.0 / k  # a glottal-ish -6 dB/octave slope (the formants add the rest)
        voice += np.where(fk < sr / 2 - 200, source * (0.15 + gain), 0) * np.sin(k * phase)
    voice *= amp
    breath = _coloured_noise(n, rng) * 10 ** (singer.breath_db / 20) * (0.3 + amp)
    voice = voice / (np.sqrt(np.mean(voice[amp > 0.5] ** 2)) + 1e-9) + breath
    if snr_db is not None:
        voice = add_noise(voice, snr_db, seed + 7919)
    voice = 0.3 * voice / (np.max(np.abs(voice)) + 1e-9)
    return voice.astype(np.float32), truth


def add_noise(voice: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """Background noise at snr_db below the voice's power while it sings."""
    rng = np.random.default_rng(seed)
    loud = np.abs(voice) > 0.05 * np.max(np.abs(voice))
    power = np.mean(voice[loud] ** 2) if loud.any() else np.mean(voice**2)
    out = voice + _coloured_noise(len(voice), rng) * np.sqrt(power / 10 ** (snr_db / 10))
    return (0.3 * out / (np.max(np.abs(out)) + 1e-9)).astype(np.float32)


def _coloured_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Noise between white and pink (room and microphone noise), unit power."""
    spec = np.fft.rfft(rng.normal(size=n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / SR), 50.0)
    noise = np.fft.irfft(spec / f**0.5, n)
    return noise / np.sqrt(np.mean(noise**2))


def speechlike(seconds: float = 5.0, seed: int = 0, sr: int = SR) -> np.ndarray:
    """Talking, not singing: a gliding pitch contour in short syllables."""
    rng = np.random.default_rng(seed)
    notes_t, t = [], 0.0
    while t < seconds:
        d = rng.uniform(0.08, 0.25)
        notes_t.append((t, t + d))
        t += d + rng.uniform(0.02, 0.15)
    n = int((t + 0.2) * sr)
    tt = np.arange(n) / sr
    f0 = 140 * 2 ** ((-3 * tt / t) / 12 + 0.35 * np.sin(2 * np.pi * 2.3 * tt + rng.uniform(0, 6))
                     + 0.2 * np.sin(2 * np.pi * 3.7 * tt))
    amp = np.zeros(n)
    for on, off in notes_t:
        a, b = int(on * sr), int(off * sr)
        seg = np.arange(b - a) / sr
        amp[a:b] = np.sin(np.pi * seg / (off - on))
        # each syllable glides on its own too
        f0[a:b] *= 2 ** (rng.uniform(-4, 4) * (seg / (off - on) - 0.5) / 12)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voice = sum(np.sin(k * phase) / k for k in range(1, 20)) * amp
    return (0.3 * voice / np.max(np.abs(voice))).astype(np.float32)
