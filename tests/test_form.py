"""Form plans: every style, meter, tempo and length gives a sound, well-fitting plan."""

from __future__ import annotations

from collections import Counter

import pytest

from composer.form import (
    KINDS,
    MAX_SECONDS,
    MIN_SECONDS,
    TOLERANCE,
    FormPlan,
    default_length_seconds,
    plan_form,
    plan_summary,
)
from composer.music import Meter
from composer.styles import STYLES, Style, tempo_in_meter

LENGTHS = (15, 30, 60, 120, 180, 300, None)


def _combos():
    for style in STYLES.values():
        low, high = style.tempo_range
        for meter in style.meters:
            for tempo in sorted({low, style.default_tempo, high}):
                yield style, Meter.parse(meter), tempo_in_meter(style, Meter.parse(meter), tempo)


COMBOS = list(_combos())


def _check(plan: FormPlan, style: Style, meter: Meter, tempo: int, length: int | None) -> None:
    target = default_length_seconds(style) if length is None else length
    bar_seconds = meter.beats * 60 / tempo
    assert plan.target_seconds == target
    assert plan.seconds_per_bar == pytest.approx(bar_seconds)
    # Within 10%, or half a bar where whole bars cannot get closer (15 s at a slow tempo).
    allowed = max(TOLERANCE * target, bar_seconds / 2) + 1e-9
    assert abs(plan.seconds_total - target) <= allowed, plan_summary(plan)

    sections = plan.sections
    assert plan.bars_total == sum(s.bars for s in sections)
    # The last bars' slowdown adds under a bar (tests/test_model.py: as the arranger plays it).
    assert 0 < plan.seconds_total - plan.bars_total * bar_seconds < bar_seconds
    assert sum(plan.section_seconds()) == pytest.approx(plan.seconds_total)
    # A song and a chorale have an intro; a dance set starts on its tune where the length
    # allows.
    if target >= 30 and style.form != "dance":
        assert sections[0].kind == "Intro", plan_summary(plan)
    assert sections[-1].ritardando
    assert not any(s.ritardando for s in sections[:-1])

    cadences: dict[str, str] = {}
    for s in sections:
        assert s.kind in KINDS
        assert s.name.startswith(s.kind)
        assert s.bars >= 1
        assert 0.0 < s.loudness <= 1.0
        assert s.cadence in ("half", "full")
        assert 0 <= s.variation <= 2
        if s.kind in ("Intro", "Coda"):
            assert s.material == s.kind.lower()
            assert s.source in plan.materials
            assert 1 <= s.bars <= 4
            if s.kind == "Intro":  # the end of a part, not the whole part once more
                assert s.bars < plan.materials[s.source]
        else:
            # The same material always has the same length and ending.
            assert plan.materials[s.material] == s.bars
            assert cadences.setdefault(s.material, s.cadence) == s.cadence
    # materials lists exactly what the sections use, in order of first appearance
    used = [s.material for s in sections if s.kind not in ("Intro", "Coda")]
    assert list(plan.materials) == list(dict.fromkeys(used))
    assert list(plan.materials)[0] == "A"
    assert sections[-1].cadence == "full"


@pytest.mark.parametrize("style,meter,tempo", COMBOS,
                         ids=[f"{s.id}-{m.name}-{t}" for s, m, t in COMBOS])
def test_every_style_meter_tempo_and_length(style: Style, meter: Meter, tempo: int) -> None:
    for length in LENGTHS:
        _check(plan_form(style, meter, tempo, length), style, meter, tempo, length)


def test_song_form_at_two_minutes() -> None:
    plan = plan_form(STYLES["folk"], Meter.parse("4/4"), 104, 120)
    assert plan_summary(plan) == "Intro · Verse · Chorus · Verse · Chorus · Bridge · Chorus · Coda"
    names = [s.name for s in plan.sections]
    assert names == ["Intro", "Verse 1", "Chorus 1", "Verse 2", "Chorus 2", "Bridge", "Chorus 3",
                     "Coda"]
    assert [s.material for s in plan.sections] == ["intro", "A", "B", "A", "B", "C", "B", "coda"]
    assert set(plan.materials) == {"A", "B", "C"}
    assert [s.variation for s in plan.sections if s.kind == "Chorus"] == [0, 1, 2]
    assert plan.sections[0].source == "B"  # the intro is made from the chorus


def test_song_dynamics_follow_the_form() -> None:
    plan = plan_form(STYLES["folk"], Meter.parse("4/4"), 104, 120)
    loud = {s.name: s.loudness for s in plan.sections}
    assert loud["Intro"] < loud["Verse 1"] < loud["Chorus 1"]
    assert loud["Chorus 3"] == max(loud.values())  # the last chorus is the loudest
    assert loud["Bridge"] < loud["Chorus 2"]
    assert loud["Coda"] < loud["Chorus 3"]
    assert plan.sections[-1].ritardando
    cadence = {s.kind: s.cadence for s in plan.sections}
    assert cadence["Verse"] == "half" and cadence["Chorus"] == "full"


def test_shorter_songs_drop_parts_and_longer_add_pairs() -> None:
    folk, meter = STYLES["folk"], Meter.parse("4/4")
    short = plan_summary(plan_form(folk, meter, 104, 45))
    assert short.startswith("Intro") and short.endswith("Coda")
    assert "Verse" in short and "Chorus" in short and "Bridge" not in short
    long = plan_form(folk, meter, 104, 300)
    assert sum(s.kind == "Verse" for s in long.sections) > 2
    assert [s.kind for s in long.sections][-3:] == ["Bridge", "Chorus", "Coda"]


def test_dance_tune_is_played_aabb_round_after_round() -> None:
    plan = plan_form(STYLES["jig"], Meter.parse("6/8"), 112, 110)
    parts = [s.name for s in plan.sections if s.kind == "Part"]
    assert parts[:8] == ["Part A", "Part A", "Part B", "Part B"] * 2
    # players start a set on the tune: no intro before it, a coda after it
    assert plan.sections[0].name == "Part A" and plan.sections[-1].kind == "Coda"
    assert set(plan.materials.values()) == {8}
    assert plan_summary(plan).startswith("AABB ×")
    # later rounds vary, the first does not
    first_a = [s.variation for s in plan.sections if s.material == "A"]
    assert first_a[0] == 0 and first_a[-1] >= 1


def test_long_dance_becomes_a_set_of_tunes() -> None:
    plan = plan_form(STYLES["reel"], Meter.parse("4/4"), 128, 300)
    assert set(plan.materials) == {"A", "B", "C", "D", "E", "F"}  # three tunes, two parts each
    summary = plan_summary(plan)
    assert "AABB" in summary and "CCDD" in summary and "EEFF" in summary
    two_minutes = plan_form(STYLES["march"], Meter.parse("2/4"), 112, 120)
    assert set(two_minutes.materials) >= {"A", "B", "C", "D"}  # strains, then a trio


def test_chorale_is_bar_form() -> None:
    plan = plan_form(STYLES["chorale"], Meter.parse("4/4"), 72, 90)
    parts = [s.material for s in plan.sections if s.kind == "Part"]
    assert parts[:3] == ["A", "A", "B"]
    cadence = {s.material: s.cadence for s in plan.sections if s.kind == "Part"}
    assert cadence == {"A": "half", "B": "full"}


def _part_lengths(style: str, meter: str, tempo: int, seconds: int) -> set[int]:
    plan = plan_form(STYLES[style], Meter.parse(meter), tempo, seconds)
    return {s.bars for s in plan.sections if s.kind == "Part"}


def test_a_waltz_plays_sixteen_bar_parts_unless_the_length_wants_eight() -> None:
    assert _part_lengths("waltz", "3/4", 144, 120) == {16}
    assert _part_lengths("waltz", "3/4", 144, 60) == {8}
    assert _part_lengths("reel", "4/4", 112, 120) == {8}
    for tempo in range(132, 157):  # half a minute: A and B once through, not one long strain
        plan = plan_form(STYLES["waltz"], Meter.parse("3/4"), tempo, 30)
        assert {"A", "B"} <= {s.material for s in plan.sections if s.kind == "Part"}, tempo


def test_lullaby_is_softer_and_shorter_by_default() -> None:
    lullaby = plan_form(STYLES["lullaby"], Meter.parse("3/4"), 63, None)
    march = plan_form(STYLES["march"], Meter.parse("2/4"), 112, None)
    assert lullaby.target_seconds < 90
    assert max(s.loudness for s in lullaby.sections) < max(s.loudness for s in march.sections)


def test_deterministic_and_clamped() -> None:
    style, meter = STYLES["waltz"], Meter.parse("3/4")
    assert plan_form(style, meter, 144, 100) == plan_form(style, meter, 144, 100)
    assert plan_form(style, meter, 144, -5).target_seconds == MIN_SECONDS
    assert plan_form(style, meter, 144, 36000).target_seconds == MAX_SECONDS
    with pytest.raises(ValueError):
        plan_form(style, meter, 0, 100)


def test_a_song_of_half_a_minute_or_more_ends_with_a_coda_where_one_fits() -> None:
    """A coda ends the song, but not at the cost of the length: a 60-second march at 60
    bars a minute plays AABB (65 s with its slowdown) rather than AABB and a bar (67 s)."""
    plans = [plan_form(style, meter, tempo, length) for style, meter, tempo in COMBOS
             for length in LENGTHS if (length or 90) >= 30]
    ends = [p.sections[-1].kind for p in plans]
    assert ends.count("Coda") >= 0.95 * len(plans), Counter(ends)
    march = plan_form(STYLES["march"], Meter.parse("2/4"), 60, 60)
    assert plan_summary(march) == "AABB" and march.seconds_total < 66


def test_to_json_has_seconds_per_section() -> None:
    plan = plan_form(STYLES["reel"], Meter.parse("4/4"), 112, 60)
    data = plan.to_json()
    assert [s["name"] for s in data["sections"]] == [s.name for s in plan.sections]
    assert sum(s["seconds"] for s in data["sections"]) == pytest.approx(plan.seconds_total,
                                                                         abs=0.1)
    assert data["bars_total"] == plan.bars_total


def test_a_ballad_sings_two_verses_before_each_chorus() -> None:
    for length in (60, 120, 180):
        plan = plan_form(STYLES["ballad"], Meter.parse("4/4"), 76, length)
        kinds = [s.kind for s in plan.sections if s.kind in ("Verse", "Chorus")]
        runs = "".join("V" if k == "Verse" else "C" for k in kinds).split("C")
        assert runs[0] == "VV" and all(r in ("VV", "") for r in runs)
        names = [s.name for s in plan.sections if s.kind == "Verse"]
        assert names == [f"Verse {i + 1}" for i in range(len(names))]
    folk = plan_form(STYLES["folk"], Meter.parse("4/4"), 104, 120)
    kinds = "".join(s.kind[0] for s in folk.sections)
    assert "V" in kinds and "VV" not in kinds  # other songs: a chorus after every verse
