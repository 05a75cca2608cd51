"""Tunes written as note names: letters or solfège, held notes, bar lines, octaves."""

from __future__ import annotations

import pytest

from composer.listen import listen_text
from composer.note_names import read_note_names


def pitches(text: str) -> list[int]:
    written = read_note_names(text)
    assert written is not None
    return [p.pitch for p in written.placed]


@pytest.mark.parametrize("text", ["E D C D E E E", "e d c d e e e", "mi re do re mi mi mi",
                                  "ми ре до ре ми ми ми", "Ми, ре, до, ре, ми, ми, ми!"])
def test_letters_and_solfege_name_the_same_tune(text: str) -> None:
    assert pitches(text) == [64, 62, 60, 62, 64, 64, 64]


def test_each_note_sits_nearest_the_one_before_and_the_tune_where_a_voice_sings() -> None:
    assert pitches("C D E F G A B C") == [60, 62, 64, 65, 67, 69, 71, 72]
    assert pitches("G | C C E G | C - - G") == [55, 60, 60, 64, 67, 72, 67]  # leaps of a fourth
    assert pitches("C4 D4 E4 C5 B3") == [60, 62, 64, 72, 59]  # written octaves are kept


def test_sharps_and_flats() -> None:
    assert pitches("F# G A Bb C") == [66, 67, 69, 70, 72]
    assert pitches("фа диез соль ля си бемоль") == [66, 67, 69, 70]
    assert pitches("C sharp D E F") == [61, 62, 64, 65]


def test_a_digit_on_some_names_is_their_length_on_all_of_them_their_octave() -> None:
    written = read_note_names("E D C D E E E2 D D D2 E G G2")
    assert written is not None
    assert [p.ticks // 12 for p in written.placed] == [1, 1, 1, 1, 1, 1, 2, 1, 1, 2, 1, 1, 2]
    assert pitches("C4 E4 G4 C5") == [60, 64, 67, 72]


def test_dashes_hold_and_bar_lines_give_the_meter_and_the_upbeat() -> None:
    written = read_note_names("G | C C E | G - - | E - D | C - -")
    assert written is not None and written.meter.name == "3/4"
    beats = [(p.start, p.ticks) for p in written.placed]
    assert beats[:3] == [(24, 12), (36, 12), (48, 12)]  # the upbeat ends on the bar line
    assert beats[4] == (72, 36)
    assert read_note_names("C D E F | G - G - | A A A A | G - - -").meter.name == "4/4"
    assert read_note_names("C D E F G A B C").meter.name == "4/4"  # no bar lines


def test_the_words_around_the_tune_are_kept_apart() -> None:
    written = read_note_names("as a waltz please: E D C D E E E, thanks")
    assert written is not None
    assert written.text == "E D C D E E E" and written.words == "as a waltz please thanks"


@pytest.mark.parametrize("words", ["a jig in D", "сыграй ре минор", "do re mi", "a b c",
                                   "do you like it? I do", "Frère Jacques", ""])
def test_plain_words_are_no_tune(words: str) -> None:
    assert read_note_names(words) is None


def test_a_written_tune_is_heard_with_its_key() -> None:
    heard = listen_text("E F# G A B - A G | F# - E -")
    assert heard.source == "names" and heard.key == "E" and heard.mode == "minor"
    assert len(heard.notes) == 9 and heard.tempo_bpm == 100
