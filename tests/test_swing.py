"""Swing: a hornpipe written in even eighths is played long-short; written dotted, as written."""

from __future__ import annotations

from dataclasses import replace

from composer.arrange import PPQ, PPQ_EIGHTH, Arrangement, arrange
from composer.styles import get_style
from composer.swing import swing
from tests.song_fixture import make_song


def _with_melody(arrangement: Arrangement, notes: list) -> Arrangement:
    return replace(arrangement, tracks=[replace(t, notes=notes) if t.name == "Melody" else t
                                        for t in arrangement.tracks])


def test_even_eighths_of_a_hornpipe_are_swung_in_every_track() -> None:
    song = make_song("hornpipe")
    even = [(i * PPQ_EIGHTH, PPQ_EIGHTH, 60 + i % 5, 80) for i in range(32)]
    written = _with_melody(arrange(song, song.seed), even)
    played = swing(written, get_style("hornpipe"))
    long = round(get_style("hornpipe").swing * PPQ)
    melody = sorted(played.track("Melody").notes)
    assert [(s, d) for s, d, _, _ in melody[:4]] == [(0, long), (long, PPQ - long),
                                                     (PPQ, long), (PPQ + long, PPQ - long)]
    for before, after in zip(written.tracks, played.tracks, strict=True):
        on_beat = sorted(n[0] for n in before.notes if n[0] % PPQ == 0)
        assert sorted(n[0] for n in after.notes if n[0] % PPQ == 0) == on_beat  # beats stay
        offbeat = {n[0] for n in after.notes if n[0] % PPQ == PPQ_EIGHTH}
        assert not offbeat  # every off-beat eighth moved late, in the band too


def test_a_tune_written_dotted_and_other_styles_are_played_as_written() -> None:
    song = make_song("hornpipe")
    dotted = [n for i in range(16) for n in ((i * PPQ, 3 * PPQ // 4, 62, 80),
                                             (i * PPQ + 3 * PPQ // 4, PPQ // 4, 64, 80))]
    written = _with_melody(arrange(song, song.seed), dotted)
    assert swing(written, get_style("hornpipe")) is written
    reel = make_song("reel")
    arrangement = arrange(reel, reel.seed)
    assert swing(arrangement, get_style("reel")) is arrangement
