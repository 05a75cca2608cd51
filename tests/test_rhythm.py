"""Bars from even notes: a tune's rhythm and contour come back a bar later."""

from __future__ import annotations

import numpy as np

from composer.rhythm import _meter, choose_bar, self_similarity

BEAT = 12


def even(pitches: list[int]) -> tuple[np.ndarray, list[int]]:
    """Quarter notes, one a beat: nothing but the contour says where the bars are."""
    return np.arange(len(pitches)) * BEAT, pitches


def test_a_contour_that_comes_back_every_three_beats_is_in_three() -> None:
    q, pitches = even([60, 64, 67, 62, 65, 69, 64, 67, 72, 65, 69, 74] * 2)
    assert self_similarity(q, pitches, BEAT, 3) > self_similarity(q, pitches, BEAT, 4)
    assert choose_bar(q, pitches, BEAT) == 3


def test_a_contour_that_comes_back_every_four_beats_is_not() -> None:
    q, pitches = even([72, 60, 64, 67, 71, 59, 62, 67, 72, 60, 64, 67, 74, 65, 62, 60] * 2)
    assert self_similarity(q, pitches, BEAT, 4) > self_similarity(q, pitches, BEAT, 3)
    assert choose_bar(q, pitches, BEAT) in (2, 4)


def test_too_short_a_tune_says_nothing() -> None:
    q, pitches = even([60, 62, 64])
    assert self_similarity(q, pitches, BEAT, 3) == 0.0


def test_compound_bars_of_four_are_written_as_six_eight() -> None:
    assert _meter(4, ternary=True).name == "6/8" and _meter(3, ternary=True).name == "9/8"
    assert _meter(4, ternary=False).name == "4/4"
