"""Mastered PCM → MP3 (LAME in this process, composer/lame.py) and OGG/Opus (ffmpeg), the MP3
in parts on all cores at once.

MP3 encoding takes as long as synthesis, so the song is cut into parts at MP3 frame edges
(1,152 samples), each part encoded by its own LAME encoder on its own thread, and the
frames joined. Joined frames decode as one encode of the whole would (measured:
bit-identical around the joins; LAME's slow-moving adaptations can make later frames differ
at the level of coding noise) because
  - each part after the first starts PREROLL frames early, so LAME's filterbank and
    psychoacoustic state have settled by the first frame kept;
  - every part is cut on the same frame grid (cuts and pre-roll are whole frames);
  - the bit reservoir is off, so no frame borrows bytes from a frame of another part;
  - there is no Xing/Info frame (it would count one part's frames only): constant 192 kb/s,
    so players compute the duration from the size.
The ID3v2.3 tags (title, artist, album, genre) go in front of the joined frames. Without
libmp3lame in this process, each part is encoded by an ffmpeg process (the same LAME).
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from composer import lame
from composer.midi import staged

SAMPLE_RATE = 44100
MP3_KBPS = 192
LAME_QUALITY = 7  # LAME's -q 7 (its "fast" setting): ~2x faster than the default 3
OPUS_BITRATE = "96k"
FRAME = 1152  # samples per MPEG-1 layer III frame
PREROLL = 8  # frames encoded before a part's first kept frame
MIN_PART_FRAMES = 400  # ~10 s: shorter songs are one part
BITRATES_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)


def write_mp3(pcm: np.ndarray, path: Path, tags: dict[str, str], parts: int = 2) -> None:
    """(n, 2) float32 → a constant-bit-rate MP3 with ID3v2.3 tags, written atomically."""
    from mutagen.easyid3 import EasyID3

    cuts = frame_cuts(len(pcm), parts)
    count = len(cuts) - 1
    jobs = []
    with ThreadPoolExecutor(count) as pool:
        for k in range(count):
            first, last = cuts[k], cuts[k + 1]
            lead = min(PREROLL, first)  # frames encoded only to settle the encoder
            tail = 0 if k == count - 1 else PREROLL  # the end of a stream is flushed oddly
            part = pcm[(first - lead) * FRAME: (last + tail) * FRAME]
            jobs.append((lead, last - first if tail else None, pool.submit(_mp3, part)))
        chunks = []
        for lead, keep, job in jobs:
            data = job.result()
            _, spans = mp3_frames(data)
            kept = spans[lead:] if keep is None else spans[lead: lead + keep]
            chunks.append(data[kept[0][0]: kept[-1][0] + kept[-1][1]] if kept else b"")
    with staged(path) as tmp:
        tmp.write_bytes(b"".join(chunks))
        if tags:
            id3 = EasyID3()
            for key, value in tags.items():  # title, artist, album, genre
                id3[key] = value
            id3.save(tmp, v2_version=3)  # ID3v2.3: what most players read


def _mp3(pcm: np.ndarray) -> bytes:
    """One part's MP3 frames: LAME in this process, else an ffmpeg process."""
    if lame.available():
        return lame.encode_mp3(pcm, SAMPLE_RATE, MP3_KBPS, LAME_QUALITY)
    return _ffmpeg(pcm, ["-c:a", "libmp3lame", "-b:a", f"{MP3_KBPS}k", "-compression_level",
                         str(LAME_QUALITY), "-reservoir", "0", "-write_xing", "0",
                         "-id3v2_version", "0", "-f", "mp3"])


def frame_cuts(samples: int, parts: int) -> list[int]:
    """The frame index each part starts at, and the end: equal shares of whole frames."""
    frames = -(-samples // FRAME)
    count = max(1, min(parts, frames // MIN_PART_FRAMES))
    return [frames * k // count for k in range(count)] + [frames]


def write_ogg(pcm: np.ndarray, path: Path) -> None:
    """An Opus copy (one ffmpeg): smaller, for Telegram's voice player."""
    data = _ffmpeg(pcm, ["-c:a", "libopus", "-b:a", OPUS_BITRATE, "-compression_level", "5",
                         "-f", "ogg"])
    with staged(path) as tmp:
        tmp.write_bytes(data)


def _ffmpeg(pcm: np.ndarray, output: list[str]) -> bytes:
    """Raw float PCM in on stdin, the encoded file out on stdout."""
    command = ["ffmpeg", "-v", "error", "-nostdin", "-f", "f32le", "-ar", str(SAMPLE_RATE),
               "-ac", "2", "-i", "pipe:0", *output, "pipe:1"]
    done = subprocess.run(command, input=np.ascontiguousarray(pcm, dtype=np.float32).tobytes(),
                          capture_output=True, check=False)
    if done.returncode != 0 or not done.stdout:
        raise RuntimeError(f"ffmpeg failed ({done.returncode}): "
                           f"{done.stderr.decode(errors='replace').strip()[-500:]}")
    return done.stdout


def mp3_frames(data: bytes) -> tuple[int, list[tuple[int, int]]]:
    """Where the audio starts (after an ID3v2 tag) and each frame's (offset, length)."""
    start = 0
    if data[:3] == b"ID3":  # ID3v2: a 10-byte header, its size in 7-bit bytes
        start = 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9])
    spans, at = [], start
    while at + 4 <= len(data):
        b1, b2 = data[at + 1], data[at + 2]
        if data[at] != 0xFF or b1 & 0xE0 != 0xE0:
            raise ValueError(f"no MP3 frame at byte {at}")
        size = 144_000 * BITRATES_KBPS[b2 >> 4] // SAMPLE_RATE + (b2 >> 1 & 1)
        spans.append((at, size))
        at += size
    return start, spans
