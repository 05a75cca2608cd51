"""MIDI → WAV (FluidSynth via midi2audio) → MP3 and OGG/Opus (pydub + ffmpeg).

The system pieces (the fluidsynth binary, a General MIDI SoundFont, ffmpeg) are checked
up front, so a missing one is one clear error that says what to install, before any file
is written. Every output is written to a temporary file and renamed into place.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from midi2audio import FluidSynth
from pydub import AudioSegment
from pydub.silence import detect_leading_silence

from composer.midi import staged

SOUNDFONT_ENV = "ISADEI_SOUNDFONT"
SOUNDFONT_PATHS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
)
SAMPLE_RATE = 44100
MP3_BITRATE = "192k"
OPUS_BITRATE = "96k"
TARGET_DBFS = -16.5  # RMS loudness to aim for: about -14 LUFS for this music (measured)
PEAK_CEILING = 0.891  # -1 dBFS: the limiter's ceiling
LIMITER_DB = 6.0  # at most this much gain reduction on peaks; quieter beyond that
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


def check_system() -> Path:
    """Fail early and clearly if fluidsynth, a SoundFont or ffmpeg is missing.

    Returns the SoundFont to use.
    """
    if shutil.which("fluidsynth") is None:
        raise MissingSystemDependency(
            "the fluidsynth program is not installed; run: apt-get install fluidsynth "
            "fluid-soundfont-gm")
    soundfont = find_soundfont()
    if shutil.which("ffmpeg") is None:
        raise MissingSystemDependency("ffmpeg is not installed; run: apt-get install ffmpeg")
    return soundfont


class QuietFluidSynth(FluidSynth):
    """midi2audio's FluidSynth, but quiet, checked, and a little faster.

    midi2audio ignores fluidsynth's exit status and prints its banner on our stdout.
    Loading only the samples a song uses halves start-up time; chorus is off (the GM
    songs do not ask for it), reverb stays on.
    """

    def midi_to_audio(self, midi_file: str, audio_file: str) -> None:
        command = ["fluidsynth", "-ni", "-q", "-g", "0.3", "-C", "0",
                   "-o", "synth.dynamic-sample-loading=1",
                   "-F", audio_file, "-r", str(self.sample_rate), self.sound_font, midi_file]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not Path(audio_file).is_file() \
                or Path(audio_file).stat().st_size <= 44:
            raise RuntimeError(f"fluidsynth failed ({done.returncode}): "
                               f"{(done.stderr or done.stdout).strip()[-500:]}")


def synthesize(midi_path: Path, wav_path: Path, soundfont: Path) -> None:
    """Render MIDI to a 44.1 kHz 16-bit WAV."""
    QuietFluidSynth(sound_font=str(soundfont), sample_rate=SAMPLE_RATE).midi_to_audio(
        str(midi_path), str(wav_path))


def render_audio(midi_path: Path, mp3_path: Path | None, ogg_path: Path | None = None,
                 *, music_seconds: float, tags: dict[str, str] | None = None,
                 soundfont: Path | None = None) -> AudioResult:
    """MIDI → MP3 (and OGG/Opus): synthesise, trim, normalise, fade, encode, tag.

    `music_seconds` is where the last bar ends (from the arrangement): the cut never
    comes before it.
    """
    soundfont = soundfont or check_system()
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="isadei-") as tmp:
        wav = Path(tmp) / "synth.wav"
        t0 = time.perf_counter()
        synthesize(midi_path, wav, soundfont)
        timings["audio"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        song = AudioSegment.from_wav(wav)
        peak = song.max_dBFS
        end_ms = _end_ms(song, peak, music_seconds)
        song = song[:end_ms].fade_out(min(FADE_MS, end_ms // 4))
        loudness = song[: int(music_seconds * 1000)].dBFS
        gain = min(TARGET_DBFS - loudness, -1.0 + LIMITER_DB - peak)
        gain = gain if math.isfinite(gain) else 0.0  # a silent render: leave it be
        # Gain and a brick-wall limiter in ffmpeg: louder than peak-normalising, never clips.
        filters = ["-af", f"volume={gain:.2f}dB,alimiter=limit={PEAK_CEILING}:level=false"]
        jobs = []
        if mp3_path is not None:
            jobs.append((mp3_path, dict(format="mp3", bitrate=MP3_BITRATE, id3v2_version="3",
                                        parameters=filters + ["-compression_level", "7"])))
        if ogg_path is not None:
            jobs.append((ogg_path, dict(format="ogg", codec="libopus", bitrate=OPUS_BITRATE,
                                        parameters=filters + ["-compression_level", "5"])))
        # Two ffmpeg processes side by side: encoding is most of the wall time.
        with ThreadPoolExecutor(max(1, len(jobs))) as pool:
            for future in [pool.submit(_export, song, path, tags or {}, options)
                           for path, options in jobs]:
                future.result()
        timings["encode"] = time.perf_counter() - t0
    return AudioResult(duration_seconds=len(song) / 1000, peak_dbfs=peak, gain_db=gain,
                       timings=timings)


def _end_ms(song: AudioSegment, peak_dbfs: float, music_seconds: float) -> int:
    """Cut the synth's trailing silence: keep the ring-out, not seconds of nothing."""
    threshold = peak_dbfs - SILENCE_BELOW_PEAK_DB
    tail_silence = detect_leading_silence(song.reverse(), silence_threshold=threshold,
                                          chunk_size=10)
    last_sound = len(song) - tail_silence
    music_ms = int(music_seconds * 1000)
    # The ring-out is short anyway; a long piano decay is cut and faded at ~2 s.
    return max(music_ms, min(last_sound + AFTER_SOUND_MS, music_ms + 2000, len(song)))


def _export(song: AudioSegment, path: Path, tags: dict[str, str], options: dict) -> None:
    with staged(path) as tmp:
        song.export(str(tmp), tags=tags, **options).close()


def probe_seconds(path: Path) -> float:
    """The duration of an audio file, as ffprobe reads it."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                          "-of", "default=nw=1:nk=1", str(path)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip())
