"""The MIDI contract (DESIGN.md): read the files back with mido and check what others rely on."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from composer.arrange import DRUM_CHANNEL, PPQ, SCALE, arrange, quarter_us
from composer.midi import write_midi
from composer.styles import STYLES
from tests.song_fixture import make_song


def write(tmp_path: Path, style: str = "folk", **kw) -> tuple[mido.MidiFile, object, Path]:
    song = make_song(style, **kw)
    arr = arrange(song, seed=song.seed)
    path = tmp_path / f"{style}.mid"
    write_midi(arr, path)
    return mido.MidiFile(path), (song, arr), path


def meta(mid: mido.MidiFile, kind: str) -> list[tuple[int, mido.MetaMessage]]:
    """(absolute tick, message) of every meta event of a kind, in any track."""
    found = []
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == kind:
                found.append((tick, msg))
    return found


@pytest.mark.parametrize("style", list(STYLES))
def test_tracks_named_by_role(tmp_path: Path, style: str) -> None:
    mid, (song, arr), _ = write(tmp_path, style)
    assert mid.type == 1 and mid.ticks_per_beat == PPQ == 480
    names = [t.name for t in mid.tracks[1:]]
    assert names[0] == "Melody"
    assert names[1] in ("Chords", "Harmony") and "Bass" in names
    assert set(names) <= {"Melody", "Chords", "Harmony", "Bass", "Drums"}
    assert len(names) == len(set(names))
    for track, part in zip(mid.tracks[1:], arr.tracks, strict=True):
        programs = [m.program for m in track if m.type == "program_change"]
        assert programs == [part.program]
        ons = [m for m in track if m.type == "note_on" and m.velocity > 0]
        offs = [m for m in track if m.type == "note_off"]
        assert len(ons) == len(offs) == len(part.notes) > 0
        channels = {m.channel for m in ons}
        assert channels == {DRUM_CHANNEL if track.name == "Drums" else part.channel}


def test_conductor_has_tempo_meter_key(tmp_path: Path) -> None:
    mid, (song, arr), _ = write(tmp_path, "jig", key="G", tempo_bpm=120)
    conductor = [m.type for m in mid.tracks[0]]
    assert {"set_tempo", "time_signature", "key_signature", "marker"} <= set(conductor)
    (tick, sig), = meta(mid, "time_signature")
    assert (tick, sig.numerator, sig.denominator) == (0, 6, 8)
    assert [m.key for _, m in meta(mid, "key_signature")] == ["G"]
    tempos = meta(mid, "set_tempo")
    assert tempos[0][0] == 0 and tempos[0][1].tempo == quarter_us(song) == 333_333
    assert mido.tempo2bpm(tempos[0][1].tempo) == pytest.approx(180, abs=0.01)


def test_minor_key_signature(tmp_path: Path) -> None:
    mid, _, _ = write(tmp_path, "ballad", key="B", mode="minor")
    assert [m.key for _, m in meta(mid, "key_signature")] == ["Bm"]


def test_one_marker_per_section_at_its_start(tmp_path: Path) -> None:
    mid, (song, arr), _ = write(tmp_path, "folk", long=True)
    markers = meta(mid, "marker")
    assert [m.text for _, m in markers] == [s.name for s in song.sections]
    assert [m.text for _, m in markers][:3] == ["Intro", "Verse 1", "Chorus 1"]
    assert markers[-1][1].text == "Coda"
    starts, tick = [], 0
    for section in song.sections:
        starts.append(tick * SCALE)
        tick += section.ticks
    assert [t for t, _ in markers] == starts
    kinds = ("Intro", "Verse", "Chorus", "Bridge", "Coda", "Part")
    assert all(m.text.split()[0] in kinds for _, m in markers)


def test_dance_parts_are_named_part_a_b(tmp_path: Path) -> None:
    mid, _, _ = write(tmp_path, "reel", long=True)
    texts = [m.text for _, m in meta(mid, "marker")]
    assert texts[0] == "Intro" and texts[-1] == "Coda"
    assert set(texts[1:-1]) == {"Part A", "Part B"}


def test_duration_matches_the_plan(tmp_path: Path) -> None:
    mid, (song, arr), _ = write(tmp_path, "folk", long=True)
    # the plan: bars at the song's tempo, the coda's last bars slower, then a short tail
    beats = sum(bar.ticks for bar in song.bars) / song.meter.beat_ticks
    plain = beats * 60 / song.tempo_bpm
    music = arr.seconds_at(arr.music_end)
    assert plain < music < plain + 4  # the ritardando adds a little
    assert mid.length == pytest.approx(arr.duration_seconds, abs=0.01)
    assert 1.0 < mid.length - music < 2.0
    # the ritardando is in the file: the last tempo is slower than the first
    tempos = [m.tempo for _, m in meta(mid, "set_tempo")]
    assert tempos[-1] > tempos[0] * 1.3


def test_byte_identical_for_the_same_song_and_seed(tmp_path: Path) -> None:
    song = make_song("jig", long=True)
    a, b = tmp_path / "a.mid", tmp_path / "b.mid"
    write_midi(arrange(song, seed=5), a)
    write_midi(arrange(make_song("jig", long=True), seed=5), b)
    assert a.read_bytes() == b.read_bytes()
    write_midi(arrange(song, seed=6), b)
    assert a.read_bytes() != b.read_bytes()


@pytest.mark.parametrize("key,mode", [("C", "major"), ("F#", "major"), ("Bb", "major"),
                                      ("Eb", "minor"), ("C#", "minor"), ("A#", "major")])
def test_every_key_writes(tmp_path: Path, key: str, mode: str) -> None:
    mid, (song, arr), _ = write(tmp_path, "folk", key=key, mode=mode)
    (_, sig), = meta(mid, "key_signature")
    assert sig.key == arr.key


def test_no_temporary_files_left(tmp_path: Path) -> None:
    write(tmp_path, "folk")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folk.mid"]


def test_a_later_tune_in_its_own_key_is_marked_and_read_back_in_the_opening_key(
        tmp_path: Path) -> None:
    """A set's second tune (a march's trio) a fourth up: a key signature where it starts,
    its key in the JSON form, a new key on the sheet; the songs measure reads its notes
    back moved into the opening key, so each tune is judged in its own key."""
    from dataclasses import replace

    from composer.render import song_record
    from composer.sheet import build_score
    from composer.training.songs_eval import melody_from_midi

    song = make_song("march", key="G", long=True)
    later = len(song.sections) // 2
    song.sections[later:] = [replace(s, key_step=5) for s in song.sections[later:]]
    arr = arrange(song, seed=song.seed)
    path = tmp_path / "march.mid"
    write_midi(arr, path)
    mid = mido.MidiFile(path)
    start = sum(s.ticks for s in song.sections[:later]) * SCALE
    assert [(t, m.key) for t, m in meta(mid, "key_signature")] == [(0, "G"), (start, "C")]

    record = song_record(song, arr, None, 0, {}, {})
    assert [s.key for s in record.form] == [""] * later + ["C"] * (len(song.sections) - later)

    keys = [k.sharps for k in build_score(song).recurse().getElementsByClass("Key")]
    assert keys[0] == 1 and keys[-1] == 0 and len(keys) >= 2

    tune, _, _ = melody_from_midi(path, song)
    written = [n.pitch for b in song.bars for n in b.notes if n.pitch is not None]
    heard = [n.pitch for b in tune.bars for n in b.notes if n.pitch is not None]
    first = sum(n.pitch is not None for s in song.sections[:later] for b in s.bars
                for n in b.notes)
    assert heard[:first] == written[:first]
    assert heard[first:] == [p - 5 for p in written[first:]]
