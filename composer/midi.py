"""An Arrangement as a standard MIDI file (type 1, 480 ticks per quarter).

Track 0 is the conductor: time signature, key signature, tempo (with the ritardando's
changes) and one marker per section, its text exactly the section's name. Then one track
per part, named by role ("Melody", "Chords" or "Harmony", "Bass", "Drums"): this is the
MIDI contract in DESIGN.md, which other tools read back.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import mido

from composer.arrange import Arrangement, Track
from composer.music import TICKS_PER_QUARTER

# Stereo placement and reverb send per role, so the band does not sit on one point.
PAN = {"Melody": 64, "Chords": 44, "Harmony": 50, "Bass": 64, "Drums": 84}
REVERB = 48


@contextlib.contextmanager
def staged(path: Path) -> Iterator[Path]:
    """A temporary file next to `path` that replaces it only if the block succeeds.

    A reader never sees a half-written file, and a failure leaves nothing behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the result is an ordinary file
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_midi(arrangement: Arrangement, path: Path) -> None:
    """Write the arrangement to `path` (atomically); byte-identical for the same input."""
    mid = to_midi_file(arrangement)
    with staged(path) as tmp:
        mid.save(tmp)


def to_midi_file(arrangement: Arrangement) -> mido.MidiFile:
    mid = mido.MidiFile(type=1, ticks_per_beat=arrangement.ticks_per_beat)
    mid.tracks.append(_conductor(arrangement))
    for track in arrangement.tracks:
        mid.tracks.append(_part(track, arrangement.end_tick))
    return mid


def _conductor(arr: Arrangement) -> mido.MidiTrack:
    meter = arr.meter
    # A metronome click per felt beat: a dotted quarter in 6/8 is 36 MIDI clocks.
    clocks = 24 * meter.beat_ticks // TICKS_PER_QUARTER
    events: list[tuple[int, int, mido.MetaMessage]] = [
        (0, 0, mido.MetaMessage("time_signature", numerator=meter.numerator,
                                denominator=meter.denominator, clocks_per_click=clocks,
                                notated_32nd_notes_per_beat=8)),
    ]
    events += [(tick, 1, mido.MetaMessage("key_signature", key=key)) for tick, key in arr.keys]
    events += [(tick, 2, mido.MetaMessage("set_tempo", tempo=us)) for tick, us in arr.tempos]
    events += [(tick, 3, mido.MetaMessage("marker", text=text)) for tick, text in arr.markers]
    return _to_track(events, arr.end_tick)


def _part(track: Track, end_tick: int) -> mido.MidiTrack:
    ch = track.channel
    events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = [
        (0, 0, mido.MetaMessage("track_name", name=track.name)),
        (0, 1, mido.Message("program_change", channel=ch, program=track.program)),
        (0, 2, mido.Message("control_change", channel=ch, control=10,
                            value=PAN.get(track.name, 64))),
        (0, 3, mido.Message("control_change", channel=ch, control=91, value=REVERB)),
    ]
    for start, dur, pitch, vel in track.notes:
        # note_off sorts before note_on at the same tick, so a repeated note is re-struck.
        events.append((start + dur, 4, mido.Message("note_off", channel=ch, note=pitch)))
        events.append((start, 5, mido.Message("note_on", channel=ch, note=pitch,
                                              velocity=vel)))
    return _to_track(events, end_tick)


def _to_track(events: list, end_tick: int) -> mido.MidiTrack:
    """Absolute (tick, order, message) → a track of delta times ending at end_tick."""
    track = mido.MidiTrack()
    now = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1], getattr(e[2], "note", 0))):
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - now)))
    return track
