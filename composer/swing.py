"""Swung eighths in the played audio of a hornpipe, as players swing it however it is written.

Half the corpus's hornpipes are written in even eighths and played long-short all the same;
the network writes them both ways, as the corpus does. Written even, the band swings them:
every quarter is cut long-short instead of in two halves, in every track, so melody and
accompaniment swing together. A tune written dotted (onsets on the last sixteenth of a beat)
is played as written. Like `arrange.humanise`, this is for the audio only: the MIDI file a
user edits or engraves keeps the written notes.
"""

from __future__ import annotations

from dataclasses import replace

from composer.arrange import PPQ, PPQ_EIGHTH, Arrangement, Note4
from composer.styles import Style

# Above this share of melody onsets on a beat's last sixteenth, the tune is written dotted
# and played as written (a dotted hornpipe: 10-25% of its onsets sit there).
DOTTED_ONSETS = 0.05


def swing(arrangement: Arrangement, style: Style) -> Arrangement:
    """The arrangement swung at the style's ratio (Style.swing), if it is written even."""
    if not style.swing or _written_dotted(arrangement.track("Melody").notes):
        return arrangement
    tracks = [replace(t, notes=[_swung(n, style.swing) for n in t.notes])
              for t in arrangement.tracks]
    return replace(arrangement, tracks=tracks)


def _written_dotted(notes: list[Note4]) -> bool:
    """Whether the tune is written long-short already: onsets on a quarter's last sixteenth."""
    last_sixteenth = 3 * PPQ // 4
    dotted = sum(start % PPQ == last_sixteenth for start, _, _, _ in notes)
    return dotted > DOTTED_ONSETS * max(1, len(notes))


def _swung(note: Note4, ratio: float) -> Note4:
    start, dur, pitch, vel = note
    begin, end = _warp(start, ratio), _warp(start + dur, ratio)
    return (begin, max(1, end - begin), pitch, vel)


def _warp(tick: int, ratio: float) -> int:
    """A tick on the swung time line: the first half of each quarter stretched to `ratio` of
    it, the second half squeezed into the rest; beats stay where they are."""
    beat, at = divmod(tick, PPQ)
    long = ratio * PPQ
    if at < PPQ_EIGHTH:
        inside = at * long / PPQ_EIGHTH
    else:
        inside = long + (at - PPQ_EIGHTH) * (PPQ - long) / PPQ_EIGHTH
    return beat * PPQ + round(inside)
