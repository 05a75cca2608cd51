"""Cuts and rolls in the played audio of Irish dance tunes, as fiddlers and pipers add them.

Players ornament a tune, and more so when a part comes round again: ornaments are how a
session varies its repeats. Like the timing of `arrange.humanise`, this is for the audio
only: the MIDI file a user edits or engraves keeps the plain written notes.

    cut:  a grace note a step above, on the beat, before a note: it parts two notes of
          the same pitch, as a fiddler's bow or a piper's fingers do
    roll: a long note struck three times, parted by a cut and a tap (a grace a step below):
          note · cut · note · tap · note, in even thirds
"""

from __future__ import annotations

import random
from dataclasses import replace

from composer.arrange import PPQ, PPQ_EIGHTH, Arrangement, Note4
from composer.styles import Style

GRACE_MS = 35  # a grace note: a flick heard as articulation more than as a pitch
# How often an eligible note is ornamented: the first time through a part, and on a repeat.
ROLL_CHANCE = (0.3, 0.6)
CUT_CHANCE = (0.4, 0.7)


def ornament(arrangement: Arrangement, style: Style, seed: int) -> Arrangement:
    """The arrangement with its Melody ornamented, if the style is ornamented (seeded)."""
    if not style.ornamented:
        return arrangement
    melody = arrangement.track("Melody")
    notes = sorted(melody.notes)
    rng = random.Random(f"isadei/{seed}/ornaments")
    grace = max(1, round(GRACE_MS * PPQ * 1000 / arrangement.tempos[0][1]))
    roll_span = (3 if arrangement.meter.is_compound else 2) * PPQ_EIGHTH  # a beat, or a quarter
    repeats = _repeated_sections(arrangement.markers, arrangement.music_end)
    scale = {pitch % 12 for _, _, pitch, _ in notes}
    out: list[Note4] = []
    for i, note in enumerate(notes):
        start, dur, pitch, _ = note
        again = int(any(a <= start < b for a, b in repeats))
        following = notes[i + 1][0] - start if i + 1 < len(notes) else dur
        if following >= roll_span - PPQ_EIGHTH // 4 and dur > 6 * grace \
                and rng.random() < ROLL_CHANCE[again]:
            out += _roll(note, grace, _neighbour(pitch, scale, 1), _neighbour(pitch, scale, -1))
        elif i and notes[i - 1][2] == pitch and dur > 3 * grace \
                and rng.random() < CUT_CHANCE[again]:
            out += _cut(note, grace, _neighbour(pitch, scale, 1))
        else:
            out.append(note)
    tracks = [replace(t, notes=out) if t is melody else t for t in arrangement.tracks]
    return replace(arrangement, tracks=tracks)


def _cut(note: Note4, grace: int, grace_pitch: int) -> list[Note4]:
    """The note with a grace note (a cut above, or a tap below) on its beat."""
    start, dur, pitch, vel = note
    return [(start, grace, grace_pitch, max(1, vel - 12)), (start + grace, dur - grace, pitch, vel)]


def _roll(note: Note4, grace: int, upper: int, lower: int) -> list[Note4]:
    start, dur, pitch, vel = note
    third = dur // 3
    return [(start, third, pitch, vel),
            *_cut((start + third, third, pitch, max(1, vel - 6)), grace, upper),
            *_cut((start + 2 * third, dur - 2 * third, pitch, max(1, vel - 6)), grace, lower)]


def _neighbour(pitch: int, scale: set[int], direction: int) -> int:
    """The next pitch up (or down) that the tune itself uses: its scale's step."""
    for step in (1, 2, 3):
        if (pitch + direction * step) % 12 in scale:
            return pitch + direction * step
    return pitch + 2 * direction


def _repeated_sections(markers: list[tuple[int, str]], end: int) -> list[tuple[int, int]]:
    """(start, end) ticks of every section whose name was heard before: "Part A" again."""
    bounds = [tick for tick, _ in markers[1:]] + [end]
    seen: set[str] = set()
    spans = []
    for (start, name), stop in zip(markers, bounds, strict=True):
        if name in seen:
            spans.append((start, stop))
        seen.add(name)
    return spans
