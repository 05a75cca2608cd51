"""The corpus reader: ABC tunes -> full bars and parts, the split, the cache fixture."""

from __future__ import annotations

from collections import Counter

import pytest

from composer.abc import TuneError, abc_headers, modal_colour, parse_key, split_abc
from composer.data import TINY_CORPUS_PATH
from composer.music import Bar, Chord, Meter, Note, Tune
from composer.styles import STYLES
from composer.training.corpus import (
    BY_METER,
    NAMED,
    OVERRULED,
    RawTune,
    label_style,
    load_corpus,
    named,
    parse_abc_chunk,
    parse_abc_tune,
    split_of,
    tune_from_json,
    tune_to_json,
    unnamed_style_ids,
)

REEL = """X:7
T:The Test Reel
R:reel
M:4/4
L:1/8
K:G
D|:G2BG dGBG|(3ABc BA GEDE|G2BG dGBd|egdB A2GA:|
|:B2gB dBgB|(3ABc BA GEDE|B2gB dBgB|egdB G3:|
"""

JIG = """X:3
T:The Test Jig
R:jig
M:6/8
L:1/8
K:D
A|d2A FAd|e2f gfe|d2A FAd|AFD D2:|
|:g|fef afd|gbg fed|fef afd|AFD D2:|
"""

BROKEN = """X:8
T:Broken
M:4/4
L:1/8
K:G
GABc dedc|G A|B c|defg abag|gfed cBAG|
"""


def raw(text: str, source: str = "ryans", book: str = "TestReel") -> RawTune:
    number = text.splitlines()[0][2:].strip()
    return RawTune(source, book, number, text)


def test_split_abc_and_headers():
    tunes = split_abc("% file header\nX:1\nT:One\nK:C\nCDEF|\n\nX:2\nT:Two\nK:G\nGABc|\n")
    assert [number for number, _ in tunes] == ["1", "2"]
    headers = abc_headers(tunes[1][1])
    assert headers["T"] == ["Two"] and headers["K"] == ["G"]


def test_parse_key():
    assert parse_key("G") == (7, None)
    assert parse_key("Em") == (4, "minor")
    assert parse_key("A Dorian") == (9, "dorian")
    assert parse_key("Dmix") == (2, "mixolydian")
    assert parse_key("E phrygian") == (4, "minor")  # modes we do not model: their parent
    assert parse_key("Bb") == (10, None)
    assert parse_key("Es") == (3, None)  # German spelling in Essen


def test_modal_colour_hears_dorian_and_mixolydian():
    def tune(*degrees: int) -> list[Note]:
        return [Note(62 + d, 12) for d in degrees]  # D tonic

    # D minor with B natural (major sixth) and no B flat: Dorian.
    assert modal_colour(tune(0, 2, 3, 5, 7, 9, 7, 5, 3, 0, 9, 10), 2, "minor") == "dorian"
    assert modal_colour(tune(0, 2, 3, 5, 7, 8, 7, 5, 3, 0, 8, 10), 2, "minor") == "minor"
    # D major with C natural (flat seventh) and no C sharp: Mixolydian.
    assert modal_colour(tune(0, 2, 4, 5, 7, 9, 10, 9, 7, 0, 10), 2, "major") == "mixolydian"
    assert modal_colour(tune(0, 2, 4, 5, 7, 9, 11, 12, 7, 0), 2, "major") == "major"


def test_reel_with_pickup_triplet_and_repeats():
    tune = parse_abc_tune(raw(REEL))
    assert tune.id == "ryans/TestReel/7"
    assert (tune.style, tune.meter.name, tune.tonic, tune.mode) == ("reel", "4/4", 7, "major")
    assert all(bar.ticks == 48 for bar in tune.bars)
    # The anacrusis D is padded with a leading rest, the short last bar with a trailing one.
    assert tune.pickup_ticks == 42
    assert tune.bars[0].notes == [Note(None, 42), Note(62, 6)]
    assert tune.bars[-1].notes[-1] == Note(None, 6)
    # Parts split at the repeat signs: A = pickup + 4 bars, B = 4 bars.
    assert [len(part) for part in tune.parts] == [5, 4]
    # (3ABc: three notes in the time of two eighths = 4 ticks each.
    assert tune.bars[2].notes[:3] == [Note(69, 4), Note(71, 4), Note(72, 4)]


def test_next_parts_pickup_completes_the_last_bar():
    tune = parse_abc_tune(raw(JIG, source="oneills", book="0001-0050"))
    assert tune.id == "oneills/0003"
    assert (tune.style, tune.meter.name, tune.pickup_ticks) == ("jig", "6/8", 30)
    assert all(bar.ticks == 36 for bar in tune.bars)
    # "AFD D2:|" + the B part's pickup "g" make one bar; B starts on its downbeat.
    assert [len(part) for part in tune.parts] == [5, 4]
    assert tune.parts[0][-1].notes[-1] == Note(79, 6)
    assert tune.parts[1][0].notes[0] == Note(78, 6)


def test_malformed_tune_is_skipped_and_counted():
    with pytest.raises(TuneError):
        parse_abc_tune(raw(BROKEN))
    odd_meter = REEL.replace("M:4/4", "M:5/4").replace("X:7", "X:9")
    results = parse_abc_chunk([raw(REEL), raw(BROKEN), raw(odd_meter)])
    kept = [row for _, row, _ in results if row is not None]
    reasons = Counter(reason for _, row, reason in results if row is None)
    assert len(kept) == 1
    assert reasons == {"incomplete bar": 1, "uncommon meter": 1}


def test_split_is_fixed_forever():
    # A stable hash of the id (never Python's salted hash()): these values must never change.
    assert split_of("bach/bwv26.6") == "train"
    assert split_of("essen/erk10/3") == "test"
    assert split_of("essen/erk10/18") == "valid"
    assert split_of("essen/erk10/22") == "test"
    assert split_of("essen/erk10/24") == "valid"


def test_split_is_by_tune_90_5_5():
    counts = Counter(split_of(f"essen/book/{n}") for n in range(4000))
    assert 0.87 < counts["train"] / 4000 < 0.93
    assert 0.03 < counts["valid"] / 4000 < 0.07
    assert 0.03 < counts["test"] / 4000 < 0.07


def test_row_round_trip():
    tune = Tune("x/1", "T", "folk", Meter(2, 4), 2, "minor",
                [[Bar([Note(None, 12), Note(62, 12)], [(0, Chord(0, "min"))])],
                 [Bar([Note(64, 24)], [(0, Chord(7, "dom7")), (12, Chord(0, "min"))])]],
                pickup_ticks=12)
    assert tune_from_json(tune_to_json(tune)) == tune


def test_fixture_loads():
    tunes = load_corpus(TINY_CORPUS_PATH)
    assert 50 <= len(tunes) <= 120
    assert {t.style for t in tunes} == set(STYLES)
    assert len({t.id for t in tunes}) == len(tunes)
    for tune in tunes:
        assert len(tune.bars) >= 4 and 1 <= len(tune.parts) <= 4
        assert tune.mode in ("major", "minor") and 0 <= tune.tonic < 12
        for bar in tune.bars:
            assert bar.ticks == tune.meter.bar_ticks
            assert bar.chords and bar.chords[0][0] == 0


@pytest.mark.parametrize("headers,meter,style,how", [
    ({"T": ["The Hammermen's March"]}, "4/4", "march", NAMED),
    ({"T": ["Yanky Doodle"]}, "2/4", "air", BY_METER),  # no style word: its meter says air
    ({"T": ["Leap over the Garter"]}, "6/8", "jig", BY_METER),
    ({"T": ["The Test Reel"], "R": ["reel"]}, "6/8", "jig", OVERRULED),  # a reel is not 6/8
])
def test_a_style_label_says_how_it_was_found(headers, meter, style, how):
    tune = RawTune("airds", "book1", "1", "")
    assert label_style(tune, headers, Meter.parse(meter)) == (style, how)


def test_the_tunes_their_meter_alone_labels_are_known_and_left_out_by_named():
    unnamed = unnamed_style_ids()
    assert "airds/book1/0102" in unnamed  # Yanky Doodle: an "air" by its 2/4
    assert "airds/book1/0172" not in unnamed  # The Hammermen's March
    tunes = [Tune(id=i, title="", style="air", meter=Meter.parse("2/4"), tonic=0, mode="major",
                  parts=[]) for i in ("airds/book1/0102", "airds/book1/0172")]
    assert [t.id for t in named(tunes)] == ["airds/book1/0172"]
