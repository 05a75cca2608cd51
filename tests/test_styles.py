"""The style catalogue: complete, consistent, named in both languages, printable."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from composer.compose import drawn_key, playable_keys
from composer.instruments import get_instrument
from composer.music import MODES, Meter
from composer.request import parse
from composer.styles import (
    DEFAULT_STYLE,
    STYLE_ALIASES,
    STYLE_LABELS,
    STYLES,
    format_catalogue,
    get_style,
)

CONTRACT_IDS = {"folk", "ballad", "lullaby", "waltz", "march", "jig", "slip-jig", "reel",
                "hornpipe", "strathspey", "air", "chorale", "chinese-folk"}


def test_catalogue_has_the_contract_styles() -> None:
    assert set(STYLES) >= CONTRACT_IDS
    assert DEFAULT_STYLE in STYLES
    assert set(STYLE_ALIASES) == set(STYLES) == set(STYLE_LABELS)


@pytest.mark.parametrize("style_id", sorted(STYLES))
def test_style_is_consistent(style_id: str) -> None:
    style = get_style(style_id)
    assert style.id == style_id == style_id.lower()
    low, high = style.tempo_range
    assert 0 < low <= style.default_tempo <= high
    assert style.meters and all(Meter.parse(m).beats >= 1 for m in style.meters)
    assert style.form in ("song", "dance", "chorale")
    assert style.default_mode in MODES and set(style.modes) <= set(MODES)
    assert len(style.meter_weights) == len(style.meters)
    assert len(style.mode_weights) == len(style.modes)
    for name in (style.melody_instrument, style.chord_instrument, style.bass_instrument):
        assert get_instrument(name).name == name  # every style instrument is in the table


@pytest.mark.parametrize("style_id", sorted(STYLES))
def test_every_alias_finds_its_style(style_id: str) -> None:
    for alias in STYLE_ALIASES[style_id]:
        text = alias.replace("~", "").replace("*", "")
        assert parse(text).style == style_id, alias
        assert parse(f"please play {text} now").style == style_id, alias


def test_labels() -> None:
    for style_id, (english, nominative, accusative, gender) in STYLE_LABELS.items():
        assert english and nominative and accusative, style_id
        assert gender in ("m", "f")


def test_get_style_unknown() -> None:
    with pytest.raises(ValueError, match="unknown style"):
        get_style("polka")


def test_format_catalogue() -> None:
    text = format_catalogue()
    lines = text.splitlines()
    assert lines[0].startswith("id")
    for style in STYLES.values():
        row = next(line for line in lines if line.startswith(style.id + " "))
        assert style.description in row
        assert ", ".join(style.meters) in row
        assert f"{style.tempo_range[0]}-{style.tempo_range[1]}" in row
        assert style.form in row
        assert style.melody_instrument in row


def test_keys_are_drawn_where_the_instrument_plays_the_tune_in_its_register() -> None:
    from composer.compose import COMMON_KEYS, plan_song, playable_keys
    from composer.instruments import get_instrument
    from composer.request import SongRequest

    assert "F" not in playable_keys("major", get_instrument("trumpet"))  # up to Bb5 only
    assert playable_keys("major", get_instrument("violin")) == COMMON_KEYS["major"]
    drawn = {plan_song(SongRequest(style="march", mode="major"), seed).key_name
             for seed in range(40)}
    assert drawn <= set(playable_keys("major", get_instrument("trumpet"))) and len(drawn) > 2
    assert plan_song(SongRequest(style="march", key="F"), 1).key_name == "F"  # asked: kept


@pytest.mark.parametrize("style_id,meter,other,ratio", [("reel", "2/2", "4/4", 2.0),
                                                         ("strathspey", "4/4", "2/2", 0.5)])
def test_the_same_bar_in_another_meter_goes_at_the_same_pace(style_id: str, meter: str,
                                                             other: str, ratio: float) -> None:
    """A reel is written in 2/2 or 4/4 (as the corpus has them): its bar lasts as long."""
    from composer.compose import plan_song
    from composer.request import SongRequest

    for seed in range(5):
        first = plan_song(SongRequest(style=style_id, meter=meter), seed)
        written = plan_song(SongRequest(style=style_id, meter=other), seed)
        assert written.tempo_bpm == round(first.tempo_bpm * ratio)
        seconds = [p.meter.beats * 60 / p.tempo_bpm for p in (first, written)]
        assert seconds[1] == pytest.approx(seconds[0], rel=0.02)
    drawn = {plan_song(SongRequest(style=style_id), seed).meter.name for seed in range(30)}
    assert drawn == {meter, other}


def test_keys_are_drawn_as_the_styles_corpus_tunes_are_in() -> None:
    trumpet = get_instrument("trumpet")
    rng = random.Random(0)
    marches = Counter(drawn_key(STYLES["march"], "major", trumpet, rng) for _ in range(3000))
    assert marches["D"] + marches["G"] > 0.85 * 3000  # the corpus's marches: 127 of 138
    assert set(marches) == set(playable_keys("major", trumpet))  # the rest stay possible
    guitar = get_instrument(STYLES["folk"].melody_instrument)
    folk = Counter(drawn_key(STYLES["folk"], "major", guitar, rng) for _ in range(3000))
    assert folk.most_common(1)[0][0] == "G" and set(folk) <= set(playable_keys("major", guitar))
