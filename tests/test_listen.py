"""Listening: a user's tune (sung audio, ABC, MIDI) -> Heard; and every bad input's code."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import mido
import numpy as np
import pytest

from bench.listen_synth import SR, Singer, add_noise, sing, speechlike, timings
from bot.cli import main
from composer.heard import ERROR_CODES, TuneInputError
from composer.listen import listen
from composer.music import KEY_NAMES, MODES

# A G major tune in 3/4 with a clear rhythm: long notes close each bar.
TUNE = [(67, 1), (71, 1), (74, 1), (72, 2), (71, 1), (69, 1), (67, 1), (69, 1), (71, 3),
        (67, 1), (71, 1), (74, 1), (76, 2), (74, 1), (72, 1), (71, 1), (69, 1), (67, 3)]


def _wav(audio: np.ndarray, path: Path) -> Path:
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    header = b"RIFF" + (36 + len(pcm)).to_bytes(4, "little") + b"WAVEfmt " + \
        (16).to_bytes(4, "little") + (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + \
        SR.to_bytes(4, "little") + (SR * 2).to_bytes(4, "little") + (2).to_bytes(2, "little") + \
        (16).to_bytes(2, "little") + b"data" + len(pcm).to_bytes(4, "little")
    path.write_bytes(header + pcm)
    return path


def _ogg(audio: np.ndarray, path: Path) -> Path:
    wav = _wav(audio, path.with_suffix(".wav"))
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-c:a", "libopus",
                    "-b:a", "32k", str(path)], check=True)
    return path


def _sung(tune=TUNE, bpm=110.0, singer: Singer | None = None, seed: int = 1,
          wobble: float = 0.03):
    notes = timings([(p, float(q)) for p, q in tune], bpm, wobble, np.random.default_rng(seed))
    return sing(notes, singer or Singer(), seed=seed)


@pytest.fixture(scope="module")
def sung_tune(tmp_path_factory) -> tuple[Path, list]:
    audio, truth = _sung()
    return _ogg(audio, tmp_path_factory.mktemp("listen") / "voice.ogg"), truth


def test_sung_tune_pitches_rhythm_meter_key(sung_tune):
    path, truth = sung_tune
    heard = listen(str(path))
    assert [n.pitch for n in heard.notes] == [p for p, _ in TUNE]
    beats = [n.beats for n in heard.notes]
    assert beats[:-1] == [float(q) for _, q in TUNE][:-1]
    assert heard.meter.name == "3/4"
    assert (heard.key, heard.mode) == ("G", "major")
    assert 95 <= heard.tempo_bpm <= 125
    # onsets where they were sung
    assert max(abs(n.onset_s - t.onset_s) for n, t in zip(heard.notes, truth, strict=True)) < 0.06
    # the Tune: full bars of the meter, the same notes
    tune = heard.tune
    assert all(bar.ticks == tune.meter.bar_ticks for bar in tune.bars)
    assert [n.pitch for n in tune.melody() if n.pitch is not None][:3] == [67, 71, 74]


def test_json_contract(sung_tune):
    obj = json.loads(listen(str(sung_tune[0])).to_json())
    assert set(obj) == {"tempo_bpm", "meter", "key", "mode", "notes"}
    assert isinstance(obj["tempo_bpm"], int) and obj["meter"] == "3/4"
    assert obj["key"] in KEY_NAMES and obj["mode"] in MODES
    assert all(set(n) == {"pitch", "start", "beats"} for n in obj["notes"])
    assert isinstance(obj["notes"][0]["pitch"], int)
    starts = [n["start"] for n in obj["notes"]]
    assert starts == sorted(starts)


def test_vibrato_does_not_split_long_notes(tmp_path):
    tune = [(64, 3), (67, 3), (72, 4), (71, 2), (67, 4)]
    audio, _ = _sung(tune, bpm=90, singer=Singer(vibrato_cents=70, vibrato_hz=5.0))
    heard = listen(str(_wav(audio, tmp_path / "vib.wav")))
    assert [n.pitch for n in heard.notes] == [p for p, _ in tune]


def test_drifting_voice_keeps_its_notes(tmp_path):
    audio, _ = _sung(singer=Singer(drift_semitones=0.5, intonation_cents=15), seed=3)
    heard = listen(str(_wav(add_noise(audio, 20, 3), tmp_path / "drift.wav")))
    assert [n.pitch for n in heard.notes] == [p for p, _ in TUNE]


def test_abc_text_and_file(tmp_path):
    abc = "X:1\nT:Test\nM:6/8\nL:1/8\nQ:3/8=80\nK:D\nA|d2f a2f|g2e c2A|d3 d2|]\n"
    heard = listen(abc)
    assert heard.source == "abc" and heard.meter.name == "6/8"
    assert (heard.key, heard.mode) == ("D", "major") and heard.tempo_bpm == 120
    assert [n.pitch for n in heard.notes][:4] == [69, 74, 78, 81]
    path = tmp_path / "tune.abc"
    path.write_text(abc)
    assert listen(str(path)).to_dict() == heard.to_dict()


def _midi(tracks: dict[str, list[tuple[int, int, int]]], tpq: int = 480, key: str = "G") -> bytes:
    mid = mido.MidiFile(ticks_per_beat=tpq)
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(96)),
                                mido.MetaMessage("time_signature", numerator=3, denominator=4),
                                mido.MetaMessage("key_signature", key=key)])
    mid.tracks.append(conductor)
    for name, notes in tracks.items():
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name)])
        events = sorted([(s, 1, p) for p, s, _ in notes] + [(s + d, 0, p) for p, s, d in notes])
        now = 0
        for tick, on, p in events:
            kind = "note_on" if on else "note_off"
            track.append(mido.Message(kind, note=p, velocity=80 if on else 0, time=tick - now))
            now = tick
        mid.tracks.append(track)
    out = io.BytesIO()
    mid.save(file=out)
    return out.getvalue()


@pytest.mark.parametrize("signature,key", [
    ("C", "E minor"),  # the C major programs write when nobody set a key: the notes overrule it
    ("Em", "E minor"),
    ("G", "E minor"),  # the same signature: the notes start and end on E
])
def test_a_midi_key_signature_is_kept_unless_the_notes_deny_it(signature, key):
    e_minor = "E F# G A B B B - C B A G F# - E - G F# E D E - E -"
    steps = {"C": 0, "D": 2, "E": 4, "F": 5, "F#": 6, "G": 7, "A": 9, "B": 11}
    notes, tick = [], 0
    for name in e_minor.split():
        if name == "-":
            notes[-1] = (notes[-1][0], notes[-1][1], notes[-1][2] + 480)
        else:
            notes.append((64 + (steps[name] - 4) % 12, tick, 480))
        tick += 480
    heard = listen(_midi({"Melody": notes}, key=signature), filename="tune.mid")
    assert f"{heard.key} {heard.mode}" == key


def test_midi_melody_track(tmp_path):
    melody = [(67, 0, 480), (71, 480, 480), (74, 960, 480), (72, 1440, 960), (71, 2400, 480)]
    chords = [(p, s, 1440) for s in (0, 1440) for p in (55, 59, 62, 79)]  # higher, but chords
    data = _midi({"Piano": chords, "Melody": melody})
    heard = listen(data, filename="song.mid")
    assert [n.pitch for n in heard.notes] == [67, 71, 74, 72, 71]
    assert [n.beats for n in heard.notes] == [1.0, 1.0, 1.0, 2.0, 1.0]
    assert (heard.meter.name, heard.tempo_bpm, heard.key) == ("3/4", 96, "G")
    # no named melody: the highest monophonic line wins over a lower one and the chords
    line = [(p + 12, s, d) for p, s, d in melody]
    path = tmp_path / "x.mid"
    path.write_bytes(_midi({"A": chords, "B": melody, "C": line}))
    assert [n.pitch for n in listen(str(path)).notes] == [79, 83, 86, 84, 83]


def _code(source, **kw) -> str:
    with pytest.raises(TuneInputError) as err:
        listen(source, **kw)
    assert err.value.code in ERROR_CODES and "\n" not in str(err.value)
    return err.value.code


def test_bad_audio(tmp_path, sung_tune):
    rng = np.random.default_rng(0)
    assert _code(str(_wav(np.zeros(SR * 5, np.float32), tmp_path / "s.wav"))) == "silence"
    noise = (0.2 * rng.normal(size=SR * 5)).astype(np.float32)
    assert _code(str(_wav(noise, tmp_path / "n.wav"))) == "no_tune"
    assert _code(str(_wav(speechlike(5.0), tmp_path / "talk.wav"))) == "no_tune"
    short, _ = _sung(TUNE[:3])
    assert _code(str(_wav(short[: int(1.5 * SR)], tmp_path / "short.wav"))) == "too_short"
    long_audio = np.tile(_sung()[0], 6)[: 65 * SR]
    assert _code(str(_wav(long_audio, tmp_path / "long.wav"))) == "too_long"
    assert _code(b"\0" * (21 * 1024 * 1024), filename="big.ogg") == "too_big"
    assert _code(rng.bytes(50_000), filename="voice.ogg") == "corrupt"
    data = sung_tune[0].read_bytes()
    assert _code(data[: len(data) // 2], filename="voice.ogg") == "corrupt"  # cut short


def test_a_text_file_of_note_names(tmp_path):
    """A tune written out in a text file (or sent as a document) is read as a message is."""
    for name, text in (("tune.txt", "E E F G | G F E D | C C D E | E D D"),
                       ("мелодия", "ми ми фа соль | соль фа ми ре | до до ре ми | ми ре ре")):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        heard = listen(str(path))
        assert [n.pitch % 12 for n in heard.notes][:4] == [4, 4, 5, 7] and len(heard.notes) == 15
        assert listen(path.read_bytes(), filename=name).to_dict() == heard.to_dict()
    assert _code(b"no tune here, just words", filename="notes.txt") == "no_notes"


def test_bad_midi_and_abc():
    assert _code(_midi({"Melody": []}), filename="empty.mid") == "no_notes"
    # a million notes: refused before mido parses them
    body = b"\x00\x90\x3c\x40" + b"\x00\x3c\x00\x00\x3c\x40" * 1_000_000
    track = b"MTrk" + len(body).to_bytes(4, "big") + body
    header = b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + (1).to_bytes(2, "big") \
        + (480).to_bytes(2, "big")
    assert _code(header + track, filename="huge.mid") == "too_many_notes"
    assert _code(b"MThd\0\0\0\6\0\1", filename="broken.mid") == "corrupt"
    assert _code("X:1\nK:G\nabc|de[f|g)))z3/|]]") == "abc_syntax"
    assert _code("just some words, no tune") == "abc_syntax"


def _isadei(*argv: str) -> int:
    try:
        main(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def test_isadei_listen_command(sung_tune, tmp_path, capsys):
    assert _isadei("listen", str(sung_tune[0]), "--json") == 0
    assert json.loads(capsys.readouterr().out)["meter"] == "3/4"
    bad = tmp_path / "bad.ogg"
    bad.write_bytes(b"OggS not really")
    assert _isadei("listen", str(bad), "--json") == 2
    err = capsys.readouterr().err
    assert err.startswith("isadei: ") and err.count("\n") == 1
    assert _isadei("listen", str(tmp_path / "missing.ogg")) == 2
    assert capsys.readouterr().err.startswith("isadei: no such file")
