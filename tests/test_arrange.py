"""The arranger: every style gives named parts in range, chords that match, a ritardando."""

from __future__ import annotations

import pytest

from composer.arrange import (
    BASS_RANGE,
    DRUM_CHANNEL,
    SCALE,
    Arrangement,
    arrange,
    mido_key,
    quarter_us,
)
from composer.instruments import get_instrument
from composer.music import Chord
from composer.song import Song
from composer.styles import STYLES, get_style
from tests.song_fixture import make_song

STYLE_METERS = [(s, m) for s in STYLES for m in STYLES[s].meters]
SLACK = 40  # output ticks: humanising moves a note a few milliseconds off its grid point


def chord_changes(song: Song) -> list[tuple[int, Chord]]:
    """(output tick, chord) at every chord label of the song."""
    changes, tick = [], 0
    for bar in song.bars:
        changes += [((tick + offset) * SCALE, chord) for offset, chord in bar.chords]
        tick += bar.ticks
    return changes


def chords_near(changes: list[tuple[int, Chord]], tick: int) -> set[Chord]:
    """The chords sounding anywhere within SLACK of a tick."""
    found = {c for t, c in changes if tick - SLACK < t <= tick + SLACK}
    before = [c for t, c in changes if t <= tick - SLACK]
    if before:
        found.add(before[-1])
    return found


@pytest.mark.parametrize("style,meter", STYLE_METERS)
def test_every_style_arranges_in_range(style: str, meter: str) -> None:
    song = make_song(style, meter=meter, long=True)
    st = get_style(style)
    arr = arrange(song, seed=3)

    names = [t.name for t in arr.tracks]
    harmony = "Harmony" if st.accompaniment == "chorale" else "Chords"
    assert names[:3] == ["Melody", harmony, "Bass"]
    assert ("Drums" in names) == st.drums
    for track in arr.tracks:
        assert track.notes, track.name
        assert track.is_drums == (track.channel == DRUM_CHANNEL) == (track.name == "Drums")
        for start, dur, pitch, vel in track.notes:
            assert start >= 0 and dur > 0 and start + dur <= arr.end_tick
            assert 1 <= vel <= 127 and 0 <= pitch <= 127

    ranges = {"Melody": get_instrument(song.instrument),
              harmony: get_instrument(st.chord_instrument),
              "Bass": get_instrument(st.bass_instrument)}
    for name, inst in ranges.items():
        pitches = [n[2] for n in arr.track(name).notes]
        assert inst.low <= min(pitches) and max(pitches) <= inst.high, (name, inst.name)
        assert arr.track(name).program == inst.program
    bass = [n[2] for n in arr.track("Bass").notes]
    if get_instrument(st.bass_instrument).low <= BASS_RANGE[0] + 12:
        assert BASS_RANGE[0] <= min(bass) and max(bass) <= BASS_RANGE[1]


@pytest.mark.parametrize("style", ["folk", "waltz", "jig", "reel", "ballad", "march", "chorale"])
def test_chord_tones_match_the_chord(style: str) -> None:
    song = make_song(style, long=True)
    arr = arrange(song, seed=11)
    changes = chord_changes(song)
    name = "Harmony" if style == "chorale" else "Chords"
    for start, _, pitch, _ in arr.track(name).notes:
        allowed = {pc for c in chords_near(changes, start) for pc in c.pitch_classes(song.tonic)}
        assert pitch % 12 in allowed, (style, start, pitch)


def test_bass_plays_the_root_on_each_chord_change() -> None:
    song = make_song("folk", long=True)
    arr = arrange(song, seed=1)
    changes = chord_changes(song)
    bass = arr.track("Bass").notes
    checked = 0
    previous = None
    for tick, chord in changes:
        hits = [n for n in bass if abs(n[0] - tick) <= SLACK]
        if hits and chord != previous:  # a held chord alternates root and fifth instead
            assert hits[0][2] % 12 == (song.tonic + chord.root) % 12, tick
            checked += 1
        previous = chord
    assert checked > 20


def test_waltz_is_oom_pah_pah() -> None:
    song = make_song("waltz")
    arr = arrange(song, seed=1)
    bar = song.meter.bar_ticks * SCALE
    beat = song.meter.beat_ticks * SCALE
    verse_start = arr.markers[1][0]
    bass_beats = {round((n[0] - verse_start) % bar / beat) % 3
                  for n in arr.track("Bass").notes if n[0] >= verse_start}
    chord_beats = {round((n[0] - verse_start) % bar / beat) % 3
                   for n in arr.track("Chords").notes if n[0] >= verse_start}
    assert bass_beats == {0}
    assert chord_beats >= {1, 2}


def test_dynamics_follow_section_loudness() -> None:
    song = make_song("folk", long=True)  # verses at 0.6, choruses at 0.8
    arr = arrange(song, seed=2)
    bounds = [t for t, _ in arr.markers] + [arr.music_end]
    names = [n for _, n in arr.markers]

    def mean_velocity(section: str) -> float:
        i = names.index(section)
        vels = [v for s, _, _, v in arr.track("Melody").notes if bounds[i] <= s < bounds[i + 1]]
        return sum(vels) / len(vels)

    assert mean_velocity("Chorus 1") > mean_velocity("Verse 1") + 5


def test_intro_of_rests_has_no_melody_but_has_accompaniment() -> None:
    song = make_song("folk")
    arr = arrange(song, seed=4)
    verse_start = arr.markers[1][0]
    assert all(n[0] >= verse_start - SLACK for n in arr.track("Melody").notes)
    assert any(n[0] < verse_start for n in arr.track("Chords").notes)
    assert any(n[0] < verse_start for n in arr.track("Bass").notes)


def test_melody_is_moved_by_octaves_into_the_instrument() -> None:
    song = make_song("folk")
    song.instrument = "tuba"  # 28..58: the song's melody (around D4-G5) must come down
    arr = arrange(song, seed=1)
    tuba = get_instrument("tuba")
    played = [n[2] for n in arr.track("Melody").notes]
    written = [n.pitch for bar in song.bars for n in bar.notes if n.pitch is not None]
    assert all(tuba.low <= p <= tuba.high for p in played)
    assert sorted(p % 12 for p in played) == sorted(p % 12 for p in written)
    assert {w - p for w, p in zip(written, played, strict=True)} <= {12, 24, 36}


def test_ritardando_slows_the_coda_gradually() -> None:
    song = make_song("folk")
    arr = arrange(song, seed=1)
    base = quarter_us(song)
    assert arr.tempos[0] == (0, base)
    coda_start = arr.markers[-1][0]
    rit = [us for tick, us in arr.tempos if tick >= coda_start]
    assert len(rit) >= 4
    assert rit == sorted(rit) and rit[-1] > base * 1.3
    assert arr.duration_seconds > arr.seconds_at(arr.music_end) > 0


def test_tempo_is_the_felt_beat() -> None:
    jig = make_song("jig", tempo_bpm=120)  # dotted quarters: 180 quarter notes a minute
    assert quarter_us(jig) == round(60_000_000 / 180)
    folk = make_song("folk", tempo_bpm=120)
    assert quarter_us(folk) == 500_000


def test_markers_name_every_section_at_its_start() -> None:
    song = make_song("jig", long=True)
    arr = arrange(song, seed=1)
    assert [text for _, text in arr.markers] == [s.name for s in song.sections]
    starts, tick = [], 0
    for section in song.sections:
        starts.append(tick * SCALE)
        tick += section.ticks
    assert [t for t, _ in arr.markers] == starts
    assert arr.music_end == tick * SCALE


def test_chorale_voices_sit_under_the_melody() -> None:
    song = make_song("chorale", long=True)
    arr = arrange(song, seed=1)
    assert [t.name for t in arr.tracks] == ["Melody", "Harmony", "Bass"]
    organ = get_instrument("church organ").program
    assert {t.program for t in arr.tracks} == {organ}
    harmony = arr.track("Harmony").notes
    bass = arr.track("Bass").notes
    assert len(harmony) == 2 * len(bass)  # alto and tenor for every bass note
    # Smooth leading: inner voices mostly move by step or stay; all under the soprano.
    melody = arr.track("Melody").notes
    voices = []
    for start, _, low, _ in bass:
        inner = sorted(n[2] for n in harmony if abs(n[0] - start) <= SLACK)
        sounding = [n[2] for n in melody if n[0] - SLACK <= start < n[0] + n[1]]
        assert len(inner) == 2 and low < inner[0] <= inner[1]
        if sounding:
            assert inner[1] < max(sounding)
        voices.append(inner)
    for voice in (0, 1):
        line = [v[voice] for v in voices]
        leaps = sum(abs(a - b) > 5 for a, b in zip(line, line[1:], strict=False))
        assert leaps < len(line) / 5


def test_drums_only_where_the_style_has_them() -> None:
    for style in STYLES:
        arr = arrange(make_song(style), seed=1)
        has = any(t.is_drums for t in arr.tracks)
        assert has == get_style(style).drums, style
    march = arrange(make_song("march"), seed=1)
    assert 38 in {n[2] for n in march.track("Drums").notes}  # a snare


def test_seeded_and_deterministic() -> None:
    song = make_song("reel", long=True)

    def notes(arr: Arrangement) -> list:
        return [(t.name, t.notes) for t in arr.tracks]

    assert notes(arrange(song, seed=9)) == notes(arrange(song, seed=9))
    assert notes(arrange(song, seed=9)) != notes(arrange(song, seed=10))


def test_mido_key_names() -> None:
    assert mido_key(2, "major", "D") == "D"
    assert mido_key(11, "minor", "B") == "Bm"
    assert mido_key(6, "minor", "F#") == "F#m"
    assert mido_key(10, "major", "A#") == "Bb"
    assert mido_key(3, "minor", "") == "Ebm"
