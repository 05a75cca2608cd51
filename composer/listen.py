"""A user's own tune -> the composer's types: `listen(file or bytes) -> Heard`.

Audio (voice notes .ogg/.oga, .wav, .mp3, .m4a, anything ffmpeg reads) goes through
composer.pitch (notes in seconds) and composer.rhythm (beat grid, meter); ABC text goes
through composer.abc.read_abc; MIDI through composer.midi_reader. Then the key and mode
are found (composer.key_finding: profiles learned from the corpus, and abc.modal_colour
for Dorian and Mixolydian) and everything becomes a `Tune` of full bars.

Every unusable input raises TuneInputError(code, one friendly line); nothing else escapes
for bad input. Sizes are checked before anything is decoded.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from composer.abc import TuneError, read_abc
from composer.heard import Heard, HeardNote, TuneInputError
from composer.key_finding import find_key, key_as_written, key_name
from composer.music import (
    TICKS_PER_QUARTER,
    Meter,
    Note,
    Tune,
    tonic_pitch_class,
)
from composer.note_names import read_note_names
from composer.rhythm import Placed, to_bars
from composer.written import ABC_KEY

__all__ = ["Heard", "HeardNote", "TuneInputError", "listen", "listen_abc", "listen_text"]

MAX_BYTES = 20 * 1024 * 1024
MAX_ABC_CHARS = 100_000
WRITTEN_TEMPO = 100  # bpm of a tune written as text, unless its ABC says (Q:)
AUDIO_EXTENSIONS = {".ogg", ".oga", ".opus", ".wav", ".mp3", ".m4a", ".aac", ".flac", ".webm",
                    ".mp4", ".amr", ".wma"}


def listen(source: str | Path | bytes, filename: str | None = None,
           style: str = "folk") -> Heard:
    """Hear a tune from a file path, raw bytes (name the kind with `filename`, e.g.
    "voice.ogg", or let the content say) or ABC text. Raises TuneInputError."""
    if isinstance(source, str) and not _is_file(source):
        return listen_abc(source, style=style)
    if isinstance(source, bytes):
        if len(source) > MAX_BYTES:
            raise _too_big()
        kind = _kind(filename or "", source[:64])
        if kind == "audio":
            return _audio_bytes(source, filename or "", style)
        data = source
    else:
        path = Path(source)
        if path.stat().st_size > MAX_BYTES:
            raise _too_big()
        with path.open("rb") as f:
            head = f.read(64)
        kind = _kind(path.name, head)
        if kind == "audio":
            return _listen_audio(str(path), style)
        data = path.read_bytes()
    if kind == "midi":
        return _listen_midi(data, style)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return listen_abc(text, style=style) if kind == "abc" else listen_text(text, style=style)


def _is_file(text: str) -> bool:
    return len(text) < 4096 and "\n" not in text and os.path.isfile(text)


def _too_big() -> TuneInputError:
    return TuneInputError("too_big", "The file is too big: please send at most 20 MB.")


def _kind(name: str, head: bytes) -> str:
    """"midi" | "abc" | "text" | "audio", by the first bytes, else by the name. "text" is
    a tune written out in a text file (note names, or ABC after a line of words)."""
    ext = Path(name).suffix.lower()
    if head.startswith(b"MThd") or ext in (".mid", ".midi"):
        return "midi"
    if ext == ".abc" or re.match(rb"\s*(%[^\n]*\n\s*)*[A-Za-z]:", head) and ext not in \
            AUDIO_EXTENSIONS:
        return "abc"
    if ext == ".txt" or ext not in AUDIO_EXTENSIONS and _is_text(head):
        return "text"
    return "audio"


def _is_text(head: bytes) -> bool:
    """The first bytes read as UTF-8 text (a character cut at the end allowed), with no
    control bytes: every audio container starts with binary (RIFF sizes, OggS, ID3, frames)."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as cut:
        if cut.start < len(head) - 3:
            return False
    return bool(head) and all(byte >= 32 or byte in b"\t\r\n" for byte in head)


def _audio_bytes(data: bytes, name: str, style: str) -> Heard:
    suffix = Path(name).suffix or ".audio"
    with tempfile.NamedTemporaryFile(suffix=suffix) as f:
        f.write(data)
        f.flush()
        return _listen_audio(f.name, style)


# ------------------------------------------------------------------ audio

def _listen_audio(path: str, style: str) -> Heard:
    from composer.pitch import decode, hear_notes
    from composer.rhythm import quantise

    audio = decode(path)
    sung, details = hear_notes(audio)
    grid = quantise([n.pitch for n in sung], [n.onset_s for n in sung],
                    [n.offset_s for n in sung])
    heard = _heard_from_placed(grid.placed, grid.meter, grid.tempo_bpm, style, "audio")
    times = iter(sung)
    notes = []
    for n in heard.notes:  # the placed notes are the sung ones, in order
        s = next(times)
        notes.append(HeardNote(n.pitch, n.start, n.beats, round(s.onset_s, 3),
                               round(s.offset_s, 3)))
    heard.notes = notes
    heard.details = details
    return heard


def _heard_from_placed(placed: list[Placed], meter: Meter, tempo_bpm: int, style: str,
                       source: str, key: tuple[int, str] | None = None) -> Heard:
    bars, pickup = to_bars(placed, meter)
    origin = placed[0].start - pickup
    notes = [HeardNote(p.pitch, (p.start - origin) / TICKS_PER_QUARTER,
                       p.ticks / TICKS_PER_QUARTER) for p in placed if p.pitch is not None]
    melody = [Note(p.pitch, p.ticks) for p in placed if p.pitch is not None]
    tonic, mode = key if key else find_key(melody)
    tune = Tune("heard", "", style, meter, tonic, mode, [bars], pickup)
    return Heard(tune, tempo_bpm, meter, key_name(tonic, mode), mode, notes, source)


def heard_from_json(data: dict) -> Heard:
    """A Heard back from its JSON (`Heard.to_dict`), e.g. a tune a job carries through the
    queue: the same notes on the same grid, bars rebuilt, rests filling the gaps."""
    meter = Meter.parse(data["meter"])
    placed: list[Placed] = []
    end = None
    for note in data["notes"]:
        start = round(float(note["start"]) * TICKS_PER_QUARTER)
        ticks = max(1, round(float(note["beats"]) * TICKS_PER_QUARTER))
        if end is not None and start > end:
            placed.append(Placed(None, end, start - end))
        placed.append(Placed(int(note["pitch"]), start, ticks))
        end = start + ticks
    if not placed:
        raise TuneInputError("no_notes", "That tune has no notes in it.")
    key = (tonic_pitch_class(data["key"]), data["mode"])
    return _heard_from_placed(placed, meter, int(data["tempo_bpm"]), "folk",
                              data.get("source", "audio"), key)


# ------------------------------------------------------------------ ABC and MIDI

def listen_abc(text: str, style: str = "folk") -> Heard:
    """ABC text -> Heard, through the corpus's own ABC reader."""
    if len(text) > MAX_ABC_CHARS:
        raise TuneInputError("too_big", "That ABC text is too long for one tune.")
    if not re.search(r"(?m)^K:", text):
        raise TuneInputError("abc_syntax", "That does not look like an ABC tune: it needs "
                             "a K: (key) line before the notes.")
    if not re.match(r"\s*X:", text):
        text = "X:1\n" + text.lstrip()
    try:
        tune = read_abc(text, "heard", style)
    except TuneError as exc:
        if str(exc) == "no notes":
            raise TuneInputError("no_notes", "That ABC tune has no notes in it.") from exc
        raise TuneInputError("abc_syntax", f"I could not read that ABC tune ({exc}); "
                             "please check the notation.") from exc
    except Exception as exc:  # music21 fails in many ways on broken ABC
        raise TuneInputError("abc_syntax", "I could not read that ABC tune; please check "
                             "the notation.") from exc
    q = re.search(r"(?m)^Q:\s*(?:(\d+)/(\d+)\s*=\s*)?(\d+)", text)
    tempo = WRITTEN_TEMPO
    if q:
        unit = int(q.group(1)) / int(q.group(2)) if q.group(1) else 0.25
        tempo = int(round(int(q.group(3)) * unit * 4))
    notes, tick = [], 0
    for note in tune.melody():
        if note.pitch is not None:
            notes.append(HeardNote(note.pitch, tick / TICKS_PER_QUARTER,
                                   note.ticks / TICKS_PER_QUARTER))
        tick += note.ticks
    if not notes:
        raise TuneInputError("no_notes", "That ABC tune has no notes in it.")
    return Heard(tune, max(30, min(300, tempo)), tune.meter, key_name(tune.tonic, tune.mode),
                 tune.mode, notes, "abc")


def listen_text(text: str, style: str = "folk") -> Heard:
    """A tune written in a message: ABC (with its K: line), else note names ("E D C D E E E",
    "ми ре до ре ми ми ми"). Raises TuneInputError."""
    if ABC_KEY.search(text):
        return listen_abc(text, style)
    written = read_note_names(text)
    if written is None:
        raise TuneInputError("no_notes", "I found no tune written in that message.")
    return _heard_from_placed(written.placed, written.meter, WRITTEN_TEMPO, style, "names")


def _listen_midi(data: bytes, style: str) -> Heard:
    from composer.abc import parse_meter
    from composer.midi_reader import read_midi_melody

    melody = read_midi_melody(data)
    meter = parse_meter(melody.meter or "4/4") or Meter(4, 4)
    placed: list[Placed] = []
    events = [(p, round(s * TICKS_PER_QUARTER), max(1, round(d * TICKS_PER_QUARTER)))
              for p, s, d in melody.notes]
    # leading whole bars of silence are not part of the tune
    shift = events[0][1] // meter.bar_ticks * meter.bar_ticks
    for i, (p, s, d) in enumerate(events):
        start = s - shift
        nxt = events[i + 1][1] - shift if i + 1 < len(events) else start + d
        if nxt <= start:
            continue  # two notes on one grid point after rounding: keep the first
        length = min(d, nxt - start)
        placed.append(Placed(p, start, length))
        if nxt - start - length > 0:
            placed.append(Placed(None, start + length, nxt - start - length))
    key = None
    if melody.key:  # trusted unless the notes clearly say otherwise (a default C major)
        key = key_as_written([Note(p.pitch, p.ticks) for p in placed if p.pitch is not None],
                             tonic_pitch_class(melody.key.rstrip("m")),
                             "minor" if melody.key.endswith("m") else "major")
    return _heard_from_placed(placed, meter, melody.tempo_bpm, style, "midi", key)
