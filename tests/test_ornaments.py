"""Cuts and rolls: Irish dance tunes are ornamented in the played audio only, more on a repeat."""

from __future__ import annotations

from composer.arrange import PPQ, arrange, humanise
from composer.ornaments import GRACE_MS, ornament
from composer.render import as_played
from composer.styles import get_style
from tests.song_fixture import make_song


def _split(written: list, played: list) -> dict:
    """Each written melody note -> the played notes that start inside its span."""
    spans = {}
    for start, dur, pitch, _ in written:
        spans[(start, pitch)] = [n for n in played if start <= n[0] < start + dur]
    return spans


def test_a_jig_is_played_with_cuts_and_rolls_and_more_of_them_on_a_repeat() -> None:
    song = make_song("jig", long=True)
    arrangement = arrange(song, song.seed)
    written = sorted(arrangement.track("Melody").notes)
    played = sorted(ornament(arrangement, get_style("jig"), song.seed).track("Melody").notes)
    assert len(played) > len(written)
    grace = GRACE_MS * PPQ * 1000 / arrangement.tempos[0][1]
    ornamented = {"first": 0, "again": 0}
    notes = {"first": 0, "again": 0}
    seen: set[str] = set()
    bounds = [t for t, _ in arrangement.markers[1:]] + [arrangement.music_end]
    for (start, name), stop in zip(arrangement.markers, bounds, strict=True):
        when = "again" if name in seen else "first"
        seen.add(name)
        for (at, pitch), parts in _split(written, played).items():
            if not start <= at < stop:
                continue
            notes[when] += 1
            if len(parts) == 1:
                assert parts[0][2] == pitch
                continue
            ornamented[when] += 1
            # the note still starts and ends where it was written, graces are short flicks
            # a step away, and the written pitch sounds last
            assert parts[0][0] == at and parts[-1][2] == pitch
            graces = [p for p in parts if p[2] != pitch]
            assert graces and all(abs(g[1] - grace) <= 1 and 1 <= abs(g[2] - pitch) <= 3
                                  for g in graces)
    assert ornamented["first"] > 0
    assert ornamented["again"] / notes["again"] > ornamented["first"] / notes["first"]


def test_only_the_played_audio_is_ornamented_and_only_in_irish_styles() -> None:
    jig = make_song("jig", long=True)
    arrangement = arrange(jig, jig.seed)
    before = list(arrangement.track("Melody").notes)
    played = as_played(jig, arrangement)
    assert arrangement.track("Melody").notes == before  # the file a user edits: as written
    melody = next(t for t in played.tracks if any(getattr(m, "name", "") == "Melody" for m in t))
    struck = sum(m.type == "note_on" and m.velocity > 0 for m in melody)
    assert struck > len(before)
    folk = make_song("folk", long=True)
    plain = humanise(arrange(folk, folk.seed), folk.seed)
    assert ornament(plain, get_style("folk"), folk.seed) is plain
