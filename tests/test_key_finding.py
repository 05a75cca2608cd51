"""The key of a user's tune, from profiles learned on the corpus."""

from __future__ import annotations

import json

import pytest

from composer.data import KEY_PROFILES_PATH
from composer.key_finding import KeyProfiles, find_key, key_as_written
from composer.music import Bar, Meter, Note, Tune
from composer.note_names import read_note_names
from composer.training.key_profiles import held_out_accuracy, learn


def notes(text: str) -> list[Note]:
    written = read_note_names(text)
    assert written is not None
    return [Note(p.pitch, p.ticks) for p in written.placed]


@pytest.mark.parametrize("text,key", [
    ("E D C D E E E - D D D - E G G - E D C D E E E E D D E D C - - -", (0, "major")),
    ("E D C D E E E", (0, "major")),  # its third, not E minor
    ("C C G G A A G - F F E E D D C -", (0, "major")),
    ("G G A G C B - - G G A G D C - -", (0, "major")),  # Happy Birthday opens on its fifth
    ("A B C D E - E - F E D C B - - -", (9, "minor")),
    ("D E F G A - A - Bb A G F E - D -", (2, "minor")),
    ("E A A B C B A - E A A B C - B -", (9, "minor")),
])
def test_the_key_of_tunes_people_write(text: str, key: tuple[int, str]) -> None:
    assert find_key(notes(text)) == key


@pytest.mark.parametrize("text,written,key", [
    ("E D C D E E E", (9, "minor"), (9, "minor")),  # the notes allow A minor: as written
    ("E A A B C B A - E A A B C - B -", (0, "major"), (9, "minor")),  # a default C overruled
    ("E A A B C B A - E A A B C - B -", (9, "minor"), (9, "minor")),
])
def test_a_key_signature_is_kept_unless_the_notes_deny_it(text, written, key) -> None:
    assert key_as_written(notes(text), *written) == key


def test_dorian_is_told_from_minor() -> None:
    assert find_key(notes("D E F G A B C A G F E D E F E D")) == (2, "dorian")


def test_shipped_profiles_hold_what_the_corpus_says() -> None:
    data = json.loads(KEY_PROFILES_PATH.read_text())
    major, minor = data["degrees"]["major"], data["degrees"]["minor"]
    assert max(range(12), key=major.__getitem__) == 0  # the tonic sounds longest
    assert major[4] > major[3] and minor[3] > minor[4]  # the third says the mode
    assert data["modes"]["major"] > 0.8  # most corpus tunes are major
    assert data["held_out_accuracy"]["opening_12_quarters"] >= 0.8
    assert min(data["held_out_under_signature"].values()) >= 0.85


def test_profiles_are_learned_from_tunes_in_their_own_key() -> None:
    bars = [Bar([Note(67, 12), Note(71, 12), Note(74, 12), Note(67, 12)]),
            Bar([Note(72, 12), Note(71, 12), Note(69, 12), Note(67, 12)])]
    tunes = [Tune("g", "", "folk", Meter(4, 4), 7, "major", [bars])]
    profiles = learn(tunes)
    assert profiles["tunes"] == 1 and profiles["modes"] == {"major": 1.0, "minor": 0.0}
    degrees = profiles["degrees"]["major"]
    assert degrees[0] == max(degrees) and degrees[1] == min(degrees)  # G long, G# never
    assert profiles["first"]["major"][0] == max(profiles["first"]["major"])
    profiles["modes"]["minor"] = 0.01  # a mode never seen stays possible
    assert held_out_accuracy(tunes, lambda n: find_key(n, KeyProfiles.from_json(profiles))) \
        == {"opening_12_quarters": 1.0, "opening_24_quarters": 1.0, "whole_tune": 1.0}
