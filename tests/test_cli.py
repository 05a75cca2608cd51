"""The `isadei` command as a user runs it: the JSON contract, the main job, clear errors."""

import json
import subprocess
import sys
from pathlib import Path

import mido

REPO = Path(__file__).resolve().parents[1]


def isadei(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=300, env={**os.environ, **(env or {})})


def test_parse_prints_the_json_contract():
    done = isadei("parse", "сыграй грустный вальс ре минор на скрипке, 1 минута", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data == {"style": "waltz", "mode": "minor", "key": "D", "meter": None,
                    "tempo_bpm": None, "length_seconds": 60, "instrument": "violin",
                    "accompaniment": None, "seed": None, "notes": []}


def test_compose_writes_the_four_files_and_is_deterministic(tmp_path):
    first = isadei("compose", "a slow air in E minor, 30 seconds", "--out", str(tmp_path / "a"),
                   "--seed", "4")
    again = isadei("compose", "a slow air in E minor, 30 seconds", "--out", str(tmp_path / "b"),
                   "--seed", "4")
    assert first.returncode == 0, first.stderr
    paths = [Path(line) for line in first.stdout.splitlines() if line.startswith(str(tmp_path))]
    # the contract's four, and the whole score (PDF, MusicXML) and the cover art besides
    assert sorted(p.suffix for p in paths) == [
        ".jpg", ".json", ".mid", ".mp3", ".musicxml", ".pdf", ".png"]
    assert all(p.is_file() for p in paths)
    midi = next(p for p in paths if p.suffix == ".mid")
    twin = tmp_path / "b" / midi.name
    assert midi.read_bytes() == twin.read_bytes()  # same text + seed = same song
    info = json.loads(midi.with_suffix(".json").read_text())
    assert info["seed"] == 4 and info["key"] == "E" and info["mode"] == "minor"
    assert abs(mido.MidiFile(midi).length - 30) < 8
    assert again.returncode == 0


def test_missing_soundfont_is_a_clear_error_and_leaves_nothing(tmp_path):
    done = isadei("compose", "a waltz", "--out", str(tmp_path / "out"),
                  env={"ISADEI_SOUNDFONT": str(tmp_path / "none.sf2")})
    assert done.returncode == 3
    assert "apt-get install fluid-soundfont-gm" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_bad_sampling_input_is_a_clear_error(tmp_path):
    done = isadei("sample", "--style", "jig", "--n", "1", "--out", str(tmp_path),
                  "--temperature", "1000")
    assert done.returncode == 2 and "temperature" in done.stderr
    assert "Traceback" not in done.stderr


def test_compose_builds_the_song_on_a_tune_written_in_the_request(tmp_path):
    done = isadei("compose", "сыграй вальс: ми ре до | ре ми ми | ми - - | ре ре ми | ре до -",
                  "--out", str(tmp_path), "--seed", "3")
    assert done.returncode == 0, done.stderr
    midi = next(Path(line) for line in done.stdout.splitlines() if line.endswith(".mid"))
    info = json.loads(midi.with_suffix(".json").read_text())
    assert info["style"] == "waltz" and info["meter"] == "3/4" and info["key"] == "C"
    melody = next(t for t in mido.MidiFile(midi).tracks if t.name == "Melody")
    pitches = [m.note for m in melody if m.type == "note_on" and m.velocity]
    steps = [b - a for a, b in zip(pitches, pitches[1:], strict=False)]
    written = [-2, -2, 2, 2, 0, 0, -2, 0, 2, -2, -2]  # the tune's steps, in the song
    assert any(steps[i:i + len(written)] == written for i in range(len(steps)))
