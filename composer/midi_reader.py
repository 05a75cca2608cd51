"""A MIDI file -> its melody: the track named Melody/Lead, else the highest monophonic line.

Returns notes in quarter notes with the file's tempo, meter and key signature; listen.py
puts them on the grid. Sizes are checked before parsing: mido reads every message into
Python objects, so a file with a million notes would take many seconds and much memory.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from composer.heard import TuneInputError

MAX_MIDI_BYTES = 1024 * 1024  # a melody, even a long song with parts, is a few tens of KB
MAX_NOTES = 5000
MELODY_NAMES = ("melody", "lead", "vocal", "voice", "tune")


@dataclass(frozen=True)
class MidiMelody:
    notes: list[tuple[int, float, float]]  # (pitch, start in quarters, length in quarters)
    tempo_bpm: int
    meter: str | None  # "3/4" from the time signature, if any
    key: str | None  # key signature as mido writes it: "G", "Em", ...


def read_midi_melody(data: bytes) -> MidiMelody:
    import mido

    if len(data) > MAX_MIDI_BYTES:
        raise TuneInputError("too_many_notes", "That MIDI file holds far too many notes for "
                             "a tune; please send just the melody.")
    try:
        mid = mido.MidiFile(file=io.BytesIO(data))
    except Exception as exc:  # mido raises OSError, EOFError, ValueError, KeyError...
        raise TuneInputError("corrupt", "That MIDI file seems damaged; I could not read "
                             "it.") from exc
    tpq = mid.ticks_per_beat or 480
    tempo, meter, key = 500000, None, None
    tracks: list[tuple[str, list[tuple[int, int, int]]]] = []
    total = 0
    for track in mid.tracks:
        name, tick = "", 0
        open_notes: dict[tuple[int, int], int] = {}
        notes: list[tuple[int, int, int]] = []
        for msg in track:
            tick += msg.time
            if msg.type == "track_name":
                name = msg.name
            elif msg.type == "set_tempo" and tempo == 500000:
                tempo = msg.tempo
            elif msg.type == "time_signature" and meter is None:
                meter = f"{msg.numerator}/{msg.denominator}"
            elif msg.type == "key_signature" and key is None:
                key = msg.key
            elif msg.type == "note_on" and msg.velocity > 0 and msg.channel != 9:
                open_notes[(msg.channel, msg.note)] = tick
            elif msg.type in ("note_off", "note_on") and (msg.channel, msg.note) in open_notes:
                start = open_notes.pop((msg.channel, msg.note))
                if tick > start:
                    notes.append((msg.note, start, tick))
                    total += 1
                    if total > MAX_NOTES:
                        raise TuneInputError("too_many_notes", "That MIDI file holds far too "
                                             "many notes for a tune; please send the melody.")
        if notes:
            tracks.append((name, sorted(notes, key=lambda n: (n[1], -n[0]))))
    if not tracks:
        raise TuneInputError("no_notes", "That MIDI file has no notes in it.")
    named = [t for t in tracks if any(w in t[0].lower() for w in MELODY_NAMES)]
    if named:
        chosen = named[0][1]
    else:
        # the highest line among the (nearly) monophonic tracks, else the highest track
        mono = [t for t in tracks if _overlap_share(t[1]) < 0.1] or tracks
        chosen = max(mono, key=lambda t: sum(n[0] for n in t[1]) / len(t[1]))[1]
    line = _skyline(chosen)
    return MidiMelody([(p, s / tpq, (e - s) / tpq) for p, s, e in line],
                      int(round(60_000_000 / tempo)), meter, key)


def _overlap_share(notes: list[tuple[int, int, int]]) -> float:
    overlaps = sum(1 for a, b in zip(notes, notes[1:], strict=False) if b[1] < a[2] - 1)
    return overlaps / max(1, len(notes))


def _skyline(notes: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """One note at a time: at each onset the highest note; a held note ends at the next."""
    line: list[tuple[int, int, int]] = []
    for pitch, start, end in notes:  # sorted by start, highest first
        if line and line[-1][1] == start:
            continue  # a lower note of a chord
        if line and line[-1][2] > start:
            p, s, _ = line[-1]
            line[-1] = (p, s, start)
        line.append((pitch, start, end))
    return line
