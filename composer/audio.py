"""MIDI → PCM (FluidSynth, in this process) → mastered → MP3 (LAME) and OGG/Opus (ffmpeg).

    synthesize: one synth per core, the song's notes shared between them (composer/synth.py)
    master:     trim, fade, gain to ~-14 LUFS, a look-ahead limiter at -1 dBFS (numpy)
    encode:     the MP3 in frame-aligned parts, one LAME encoder per core (composer/encode.py)

The system pieces (FluidSynth, a General MIDI SoundFont, ffmpeg) are checked up front, so a
missing one is one clear error that says what to install, before any file is written.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import mido
import numpy as np
import soundfile
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from composer import encode, synth

SOUNDFONT_ENV = "ISADEI_SOUNDFONT"
SOUNDFONT_PATHS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
)
SAMPLE_RATE = synth.SAMPLE_RATE
TARGET_DBFS = -16.5  # RMS loudness to aim for: about -14 LUFS for this music (measured)
PEAK_CEILING = 0.891  # -1 dBFS: the limiter's ceiling
LIMITER_DB = 6.0  # at most this much gain reduction on peaks; quieter beyond that
ATTACK, RELEASE = 5, 50  # ms: the limiter's look-ahead and hold, as ffmpeg's alimiter had
LIMIT_BLOCK = 32  # samples: the limiter's gain is worked out per block, then interpolated
FADE_MS = 1200  # the fade-out over the last chord's ring
SILENCE_BELOW_PEAK_DB = 50.0  # quieter than this under the peak counts as silence
AFTER_SOUND_MS = 200  # kept after the last audible sound


class MissingSystemDependency(RuntimeError):
    """A program or file the renderer needs is not installed; the message says what to do."""


@dataclass
class AudioResult:
    duration_seconds: float
    peak_dbfs: float  # of the raw synth output, before gain
    gain_db: float
    timings: dict[str, float] = field(default_factory=dict)


def find_soundfont() -> Path:
    """$ISADEI_SOUNDFONT if set, else the first General MIDI SoundFont found on the system."""
    env = os.environ.get(SOUNDFONT_ENV)
    if env:
        if Path(env).is_file():
            return Path(env)
        raise MissingSystemDependency(
            f"{SOUNDFONT_ENV}={env} is not a file; point it at a General MIDI .sf2 SoundFont "
            "or unset it and run: apt-get install fluid-soundfont-gm")
    for candidate in SOUNDFONT_PATHS:
        if Path(candidate).is_file():
            return Path(candidate)
    raise MissingSystemDependency(
        "no General MIDI SoundFont found (looked in " + ", ".join(SOUNDFONT_PATHS) + "); "
        f"run: apt-get install fluidsynth fluid-soundfont-gm (or set {SOUNDFONT_ENV})")


def synth_available() -> bool:
    """libfluidsynth in this process (else the fluidsynth program is run per song)."""
    return synth.available()


def check_system() -> Path:
    """Fail early and clearly if fluidsynth, a SoundFont or ffmpeg is missing.

    Returns the SoundFont to use.
    """
    if not synth_available() and shutil.which("fluidsynth") is None:
        raise MissingSystemDependency(
            "the fluidsynth program is not installed; run: apt-get install fluidsynth "
            "fluid-soundfont-gm")
    soundfont = find_soundfont()
    if shutil.which("ffmpeg") is None:
        raise MissingSystemDependency("ffmpeg is not installed; run: apt-get install ffmpeg")
    return soundfont


def synthesize(midi: mido.MidiFile, soundfont: Path, parts: int | None = None) -> np.ndarray:
    """MIDI → (n, 2) float32 PCM at 44.1 kHz: FluidSynth in this process when libfluidsynth
    is here (the SoundFont kept loaded, `parts` synths at once), else the fluidsynth program."""
    if synth.available():
        return synth.render_midi(midi, soundfont, parts or default_parts())
    with tempfile.TemporaryDirectory(prefix="isadei-") as tmp:
        mid, wav = Path(tmp) / "played.mid", Path(tmp) / "synth.wav"
        midi.save(mid)
        command = ["fluidsynth", "-ni", "-q", "-g", str(synth.GAIN), "-C", "0",
                   "-o", "synth.dynamic-sample-loading=1",
                   "-F", str(wav), "-r", str(SAMPLE_RATE), str(soundfont), str(mid)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not wav.is_file() or wav.stat().st_size <= 44:
            raise RuntimeError(f"fluidsynth failed ({done.returncode}): "
                               f"{(done.stderr or done.stdout).strip()[-500:]}")
        pcm, _ = soundfile.read(wav, dtype="float32", always_2d=True)
        return pcm


def default_parts() -> int:
    """Synths (and MP3 encoders) at once: one per core, two at most (more gains little)."""
    return max(1, min(2, os.cpu_count() or 1))


@dataclass
class Mastered:
    pcm: np.ndarray  # (n, 2) float32, ready to encode
    peak_dbfs: float  # of the raw synth output, before gain
    gain_db: float


def master(pcm: np.ndarray, music_seconds: float) -> Mastered:
    """Trim the trailing silence, fade, bring to ~-14 LUFS, limit peaks to -1 dBFS.

    Works in place on `pcm` (the synth's buffer) and returns a view of it.
    """
    peak_amp = float(max(pcm.max(), -pcm.min())) if len(pcm) else 0.0
    peak = 20 * math.log10(peak_amp) if peak_amp > 0 else -math.inf
    end = _end_sample(pcm, peak, music_seconds)
    out = pcm[:end]
    fade = min(FADE_MS * SAMPLE_RATE // 1000, end // 4)
    if fade:  # a linear ramp to silence, as pydub's fade_out was
        out[end - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    music = out[: int(music_seconds * SAMPLE_RATE)].reshape(-1)
    rms = math.sqrt(float(np.dot(music, music)) / len(music)) if len(music) else 0.0
    loudness = 20 * math.log10(rms) if rms > 0 else -math.inf
    gain = min(TARGET_DBFS - loudness, -1.0 + LIMITER_DB - peak)
    gain = gain if math.isfinite(gain) else 0.0  # a silent render: leave it be
    out *= np.float32(10 ** (gain / 20))
    return Mastered(limit(out), peak, gain)


def limit(pcm: np.ndarray, ceiling: float = PEAK_CEILING) -> np.ndarray:
    """A brick-wall limiter that looks ahead (offline, in place): never above `ceiling`.

    The gain each block of 32 samples needs is held over [-release, +attack] around it (a
    minimum filter), smoothed by a box narrower than that window, and interpolated between
    block centres: the gain never exceeds what any sample needs (no overs), and changes
    over milliseconds (no clicks): 5 ms attack, 50 ms release, as ffmpeg's alimiter had.
    """
    level = np.maximum(np.abs(pcm[:, 0]), np.abs(pcm[:, 1]))
    if not len(level) or level.max() <= ceiling:
        return pcm
    blocks = -(-len(level) // LIMIT_BLOCK)
    padded = np.zeros(blocks * LIMIT_BLOCK, dtype=np.float32)
    padded[: len(level)] = level
    need = np.minimum(1.0, ceiling / np.maximum(padded.reshape(blocks, -1).max(axis=1), 1e-9))
    ahead = -(-ATTACK * SAMPLE_RATE // 1000 // LIMIT_BLOCK) + 1
    behind = -(-RELEASE * SAMPLE_RATE // 1000 // LIMIT_BLOCK) + 1
    size = ahead + behind + 1 + (ahead + behind) % 2  # odd, so the origin is exact
    held = minimum_filter1d(need, size, origin=size // 2 - ahead)
    gain = np.minimum(uniform_filter1d(held, 2 * (ahead - 1) + 1), held)
    active = np.flatnonzero(gain < 1.0)
    runs = np.split(active, np.flatnonzero(np.diff(active) > 1) + 1)
    centres = np.arange(blocks) * LIMIT_BLOCK + LIMIT_BLOCK / 2
    for run in runs:  # only where it acts: between quiet blocks the gain is exactly 1
        lo, hi = max(run[0] - 1, 0), min(run[-1] + 2, blocks)
        first, last = lo * LIMIT_BLOCK, min(hi * LIMIT_BLOCK, len(pcm))
        g = np.interp(np.arange(first, last), centres[lo:hi], gain[lo:hi]).astype(np.float32)
        np.clip(pcm[first:last] * g[:, None], -ceiling, ceiling, out=pcm[first:last])
    return pcm


def _end_sample(pcm: np.ndarray, peak_dbfs: float, music_seconds: float) -> int:
    """Cut the synth's trailing silence: keep the ring-out, not seconds of nothing."""
    chunk = SAMPLE_RATE // 100  # 10 ms, counted from the end, as pydub's silence scan did
    music = int(music_seconds * SAMPLE_RATE)
    # Only the chunks after the music's end matter (a sound before it moves nothing).
    count = min(max(0, len(pcm) - music) // chunk + 1, len(pcm) // chunk)
    tail = pcm[max(0, len(pcm) - count * chunk):].reshape(-1, chunk * 2)
    rms = np.sqrt(np.mean(np.square(tail, dtype=np.float64), axis=1))
    loud = np.nonzero(rms > 10 ** ((peak_dbfs - SILENCE_BELOW_PEAK_DB) / 20))[0]
    last_sound = len(pcm) - (len(rms) - 1 - loud[-1]) * chunk if len(loud) else 0
    after = AFTER_SOUND_MS * SAMPLE_RATE // 1000
    # The ring-out is short anyway; a long piano decay is cut and faded at ~2 s.
    return max(music, min(last_sound + after, music + 2 * SAMPLE_RATE, len(pcm)))


def warm(parts: int | None = None) -> None:
    """Load the SoundFont into this process's synths and play a few notes through the whole
    path once, so a bot's or a worker's first song costs what every later one does."""
    soundfont = check_system()
    parts = parts or default_parts()
    if synth.available():
        synth.synths(soundfont, parts)
    midi = mido.MidiFile()
    track = mido.MidiTrack([mido.Message("program_change", program=0),
                            mido.Message("note_on", note=60, velocity=80),
                            mido.Message("note_off", note=60, time=240)])
    midi.tracks.append(track)
    master(synthesize(midi, soundfont, parts), 0.2)


def render_audio(midi: mido.MidiFile | Path, mp3_path: Path | None, ogg_path: Path | None = None,
                 *, music_seconds: float, tags: dict[str, str] | None = None,
                 soundfont: Path | None = None, parts: int | None = None,
                 on_mp3: Callable[[Path], None] | None = None) -> AudioResult:
    """MIDI → MP3 (and OGG/Opus): synthesise, trim, normalise, fade, limit, encode, tag.

    `music_seconds` is where the last bar ends (from the arrangement): the cut never comes
    before it. `on_mp3(mp3_path)` runs as soon as the MP3 is written, before the OGG.
    """
    soundfont = soundfont or check_system()
    midi = midi if isinstance(midi, mido.MidiFile) else mido.MidiFile(midi)
    parts = parts or default_parts()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    pcm = synthesize(midi, soundfont, parts)
    timings["audio"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    done = master(pcm, music_seconds)
    timings["master"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if mp3_path is not None:
        encode.write_mp3(done.pcm, mp3_path, tags or {}, parts)
        timings["encode"] = time.perf_counter() - t0
        if on_mp3 is not None:
            on_mp3(mp3_path)
    if ogg_path is not None:
        t0 = time.perf_counter()
        encode.write_ogg(done.pcm, ogg_path)
        timings["encode_ogg"] = time.perf_counter() - t0
    return AudioResult(duration_seconds=len(done.pcm) / SAMPLE_RATE, peak_dbfs=done.peak_dbfs,
                       gain_db=done.gain_db, timings=timings)


def probe_seconds(path: Path) -> float:
    """The duration of an audio file, as ffprobe reads it."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                          "-of", "default=nw=1:nk=1", str(path)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip())
