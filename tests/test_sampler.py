"""The sampler's grammar holds whatever the network says: hundreds of seeded samples
from an untrained (random) network must still be well-formed tunes."""

from dataclasses import replace

import pytest
import torch

from composer import styles
from composer.compose import repeat_spec
from composer.model import ModelConfig, TuneLSTM
from composer.music import Bar, Meter, Note
from composer.sampler import (
    FREE,
    FULL_CADENCE_TONES,
    PartSpec,
    SamplingOptions,
    TuneSpec,
    _top_p,
    as_tune,
    bar_bodies,
    pickup_bars,
    sample_tokens,
    sample_tunes,
)
from composer.styles import STYLES
from composer.tokens import MAX_COPY, VOCAB, ids_of


@pytest.fixture(scope="module")
def random_model() -> TuneLSTM:
    torch.manual_seed(0)
    return TuneLSTM(ModelConfig(n_embd=16, n_hidden=32, n_layer=1)).eval()


SPECS = [
    ("jig", Meter(6, 8), "major", 2),
    ("waltz", Meter(3, 4), "minor", 1),
    ("reel", Meter(4, 4), "major", 2),
    ("slip-jig", Meter(9, 8), "minor", 3),
]


def make_specs(n: int) -> list[TuneSpec]:
    specs = []
    for seed in range(n):
        style, meter, mode, chords = SPECS[seed % len(SPECS)]
        parts = (PartSpec(4, "full"), PartSpec(4, "half", contrast=True), PartSpec(4, "full"))
        specs.append(TuneSpec(style, meter, mode, parts, chords, (55, 84), seed))
    return specs


def at_last_chord(bar: Bar) -> Note:
    """The note sounding as the bar's last chord begins: where a part cadences."""
    tick, chord_at = 0, bar.chords[-1][0]
    for note in bar.notes:
        if tick <= chord_at < tick + note.ticks:
            return note
        tick += note.ticks
    raise AssertionError("no note at the last chord")


def test_hundreds_of_samples_obey_the_grammar(random_model):
    specs = make_specs(200)
    tunes, _ = sample_tunes(random_model, specs, SamplingOptions(temperature=1.5, top_p=1.0))
    # After the cadence the bar is free: a breath, or notes leading on (not forced).
    ends = [part[-1] for tune in tunes for part in tune.parts]
    leading_on = sum(at_last_chord(bar) is not bar.notes[-1] for bar in ends)
    assert 0 < leading_on < len(ends)
    penultimates: list[bool] = []
    for tune, spec in zip(tunes, specs, strict=True):
        assert [len(p) for p in tune.parts] == [4, 4, 4]
        assert all(part[0].notes[0].pitch is not None for part in tune.parts)  # no hole
        # nor a pickup's padding turned into a note: long, and a beat or less short of the bar
        bar_ticks, beat = spec.meter.bar_ticks, spec.meter.beat_ticks
        assert not any(2 * (t := part[0].notes[0].ticks) > bar_ticks and 0 < bar_ticks - t <= beat
                       for part in tune.parts)
        tonic = "0maj" if spec.mode == "major" else "0min"
        for bar in tune.bars:
            assert bar.ticks == spec.meter.bar_ticks
            assert len(bar.chords) == spec.chords_per_bar
            assert all(55 <= n.pitch <= 84 for n in bar.notes if n.pitch is not None)
        first, bridge, last = tune.parts
        # full cadences: the last bar ends on I, arriving on a tone of I; the bar before is
        # the network's (V there in 29% of the corpus's parts, not in all)
        for part in (first, last):
            penultimates.append(part[-2].chords[-1][1].name in ("7maj", "7dom7"))
            assert part[-1].chords[-1][1].name == tonic
            assert at_last_chord(part[-1]).pitch % 12 in FULL_CADENCE_TONES[spec.mode]
        # half cadence on V; the bridge opens away from the tonic
        assert bridge[-1].chords[-1][1].name in ("7maj", "7dom7")
        assert at_last_chord(bridge[-1]).pitch % 12 in (7, 11, 2)
        assert bridge[0].chords[0][1].name != tonic
        assert first[0].chords[0][1].name == tonic
    assert 0 < sum(penultimates) < len(penultimates)


def test_a_take_may_open_with_a_pickup_bar_outside_its_parts(random_model):
    """The network may write a pickup bar (a rest, then the upbeat) where the spec allows it:
    the bar is left out of the tune, the parts keep their lengths and cadences, and a repeat
    that keeps the take's bars plays the same pickup into them."""
    specs = [replace(spec, pickup=True) for spec in make_specs(80)]
    sequences, _ = sample_tokens(random_model, specs, SamplingOptions(temperature=1.5, top_p=1.0))
    picked = [(tokens, spec) for tokens, spec in zip(sequences, specs, strict=True)
              if pickup_bars(tokens, spec)]
    assert 0 < len(picked) < len(specs)
    for tokens, spec in picked:
        assert bar_bodies(tokens)[0][spec.chords_per_bar + 1] == ids_of("REST")[0]
        tune = as_tune(tokens, spec)
        assert [len(p) for p in tune.parts] == [4, 4, 4] and tune.pickup_ticks == 0
        assert tune.parts[0][0].notes[0].pitch is not None
        assert at_last_chord(tune.parts[0][-1]).pitch % 12 in FULL_CADENCE_TONES[spec.mode]
    tokens, spec = picked[0]
    again, _ = sample_tokens(random_model, [replace(spec, seed=7, given=tuple(bar_bodies(tokens)))])
    assert again[0] == tokens
    # without the spec's leave, no take opens on a rest
    specs = make_specs(80)
    plain, _ = sample_tokens(random_model, specs, SamplingOptions(temperature=1.5))
    assert not any(pickup_bars(t, s) for t, s in zip(plain, specs, strict=True))


def test_same_seed_same_tune_alone_or_in_a_batch(random_model):
    specs = make_specs(12)
    batch, batch_steps = sample_tunes(random_model, specs)
    single_runs = [sample_tunes(random_model, [spec]) for spec in specs]
    for (alone, _), together in zip(single_runs, batch, strict=True):
        assert alone[0].parts == together.parts
    # one forward pass per step serves the whole batch: as many steps as the longest tune
    assert batch_steps == max(steps for _, steps in single_runs)
    assert batch_steps < sum(steps for _, steps in single_runs) / 4


def test_absurd_temperature_is_a_clear_error():
    with pytest.raises(ValueError, match="temperature"):
        SamplingOptions(temperature=1000)
    with pytest.raises(ValueError, match="top_p"):
        SamplingOptions(top_p=0)
    with pytest.raises(ValueError, match="durations_top_p"):
        SamplingOptions(durations_top_p=1.5)


def test_the_nucleus_cut_is_per_row_and_a_row_at_one_keeps_its_tail():
    """A duration step (top-p 1.0) keeps a rare duration; a pitch step (0.9) loses it."""
    probs = torch.tensor([[0.85, 0.1, 0.05], [0.85, 0.1, 0.05]])
    cut = _top_p(probs.clone(), torch.tensor([1.0, 0.9]))
    assert cut[0].tolist() == probs[0].tolist()
    assert cut[1].tolist() == [*probs[1, :2].tolist(), 0.0]
    assert _top_p(probs.clone(), torch.tensor([1.0, 1.0])).tolist() == probs.tolist()


def test_duration_steps_are_sampled_uncut_and_pitch_steps_cut(random_model):
    """The product samples durations from the whole (meter-masked) distribution: cutting
    their tail as well changes which durations come out; the other steps are still cut."""
    specs = make_specs(4)

    def durations(sequences: list[list[int]]) -> list[list[int]]:
        return [[t for t in seq if VOCAB[t].startswith("DUR:")] for seq in sequences]

    uncut, _ = sample_tokens(random_model, specs, SamplingOptions(top_p=0.5))
    both, _ = sample_tokens(random_model, specs,
                            SamplingOptions(top_p=0.5, durations_top_p=0.5))
    nothing, _ = sample_tokens(random_model, specs, SamplingOptions(top_p=1.0))
    assert durations(uncut) != durations(both)
    assert uncut != nothing  # the pitches' cut still applies


def test_given_bars_come_back_and_the_rest_is_written_anew(random_model):
    spec = make_specs(1)[0]
    (first,), _ = sample_tokens(random_model, [spec])
    bodies = bar_bodies(first)
    assert len(bodies) == 12
    keep = {0, 1, 2, 5, 8, 9}  # the others are written again
    given = tuple(body if i in keep else None for i, body in enumerate(bodies))
    varied_spec = replace(spec, seed=99, given=given)
    (again,), _ = sample_tokens(random_model, [varied_spec])
    again_bodies = bar_bodies(again)
    assert [again_bodies[i] for i in sorted(keep)] == [bodies[i] for i in sorted(keep)]
    assert any(again_bodies[i] != bodies[i] for i in range(12) if i not in keep)
    tune = as_tune(again, varied_spec)
    assert all(bar.ticks == spec.meter.bar_ticks for bar in tune.bars)  # still well-formed


def test_chorale_phrases_end_on_held_notes(random_model):
    parts = (PartSpec(4, "half", phrase_bars=2), PartSpec(4, "full", phrase_bars=2))
    specs = [TuneSpec("chorale", Meter(4, 4), "minor", parts, 4, (55, 84), seed)
             for seed in range(30)]
    tunes, _ = sample_tunes(random_model, specs, SamplingOptions(temperature=1.5, top_p=1.0))
    for tune in tunes:
        for part in tune.parts:
            for bar in part[1::2]:  # the second bar of every two-bar phrase
                assert bar.notes[-1].ticks >= Meter(4, 4).beat_ticks  # a fermata quarter


def test_modal_cadences(random_model):
    parts = (PartSpec(4, "full"),)
    specs = [TuneSpec("reel", Meter(4, 4), mode, parts, 2, (55, 84), seed)
             for seed in range(20) for mode in ("dorian", "mixolydian")]
    tunes, _ = sample_tunes(random_model, specs)
    approaches = set()
    for tune, spec in zip(tunes, specs, strict=True):
        tonic = "0min" if spec.mode == "dorian" else "0maj"
        assert tune.mode == spec.mode
        last_bar = tune.parts[0][-1]
        assert last_bar.chords[-1][1].name == tonic
        approach = last_bar.chords[0][1].name  # the chord the final tonic comes from
        assert approach in (tonic, "5maj", "5min", "7maj", "7dom7", "7min", "10maj")
        approaches.add(approach)
    assert {"7min", "10maj"} & approaches  # a modal cadence: bVII-I or v-I


def test_the_network_harmonises_a_given_melody(random_model):
    spec = make_specs(1)[0]
    (first,), _ = sample_tokens(random_model, [spec])
    chords = set(ids_of("CHORD:"))
    melody_only = tuple(tuple(FREE if t in chords else t for t in body)
                        for body in bar_bodies(first))
    (again,), _ = sample_tokens(random_model, [replace(spec, seed=7, given=melody_only)])
    before, after = as_tune(first, spec), as_tune(again, spec)
    assert [b.notes for b in after.bars] == [b.notes for b in before.bars]  # the melody kept
    assert all(len(b.chords) == spec.chords_per_bar for b in after.bars)
    assert [b.chords for b in after.bars] != [b.chords for b in before.bars]  # chords anew


def _repeats(sequence: list[int]) -> list[int]:
    """Per bar: k when its body is the body k bars back (the nearest), else 0."""
    bodies = bar_bodies(sequence)
    return [next((k for k in range(1, min(MAX_COPY, i) + 1) if bodies[i - k] == body), 0)
            for i, body in enumerate(bodies)]


# A repeat's first note taken whatever the network thinks of it: every COPY plays out.
ALWAYS_ENTER = 50.0


def test_no_bar_is_played_three_times_in_a_row_by_copying(random_model):
    specs = [TuneSpec("reel", Meter(4, 4), "major", (PartSpec(8, "full"), PartSpec(8, "full")),
                      2, (55, 84), seed) for seed in range(20)]
    options = SamplingOptions(copy_bias=6.0, repeat_entry_bias=ALWAYS_ENTER)
    sequences, _ = sample_tokens(random_model, specs, options)
    repeats = [_repeats(s) for s in sequences]
    assert any(1 in r for r in repeats)  # the bias does make it copy the bar before
    assert not any(a == b == 1 for r in repeats for a, b in zip(r, r[1:], strict=False))


def test_a_part_opens_and_cadences_on_bars_written_out(random_model):
    """A part's first and last bars are never copies; the bar before the cadence may be."""
    specs = [TuneSpec("reel", Meter(4, 4), "major", (PartSpec(8, "full"), PartSpec(8, "half")),
                      2, (55, 84), seed) for seed in range(30)]
    options = SamplingOptions(copy_bias=6.0, repeat_entry_bias=ALWAYS_ENTER)
    sequences, _ = sample_tokens(random_model, specs, options)
    copied = [_repeats(s) for s in sequences]
    assert all(len(bars) == 16 for bars in copied)
    assert not any(bars[i] for bars in copied for i in (0, 7, 8, 15))
    assert any(bars[i] for bars in copied for i in (6, 14))


def test_a_repeat_is_written_out_and_its_first_note_may_be_declined(random_model):
    """A COPY reaches the network as the notes it repeats; where the network declines the
    repeat's first note, the bar goes on anew (same chords and opening length)."""
    specs = [TuneSpec("reel", Meter(4, 4), "major", (PartSpec(8, "full"),), 2, (55, 84), seed)
             for seed in range(20)]
    copies = set(ids_of("COPY:"))
    kept, _ = sample_tokens(random_model, specs, SamplingOptions(
        copy_bias=6.0, repeat_entry_bias=ALWAYS_ENTER))
    declined, _ = sample_tokens(random_model, specs, SamplingOptions(
        copy_bias=6.0, repeat_entry_bias=-ALWAYS_ENTER))
    assert not copies & {t for s in kept + declined for t in s}
    assert sum(map(bool, (k for s in kept for k in _repeats(s)))) >= 20
    varied = 0
    for sequence in declined:
        bodies = bar_bodies(sequence)
        assert not any(_repeats(sequence))
        # A declined repeat keeps the bar's chords: some bar shares an earlier one's chords
        # and first length, but not its first note.
        varied += any(bodies[i][:3] == bodies[j][:3] and bodies[i][3] != bodies[j][3]
                      for i in range(len(bodies)) for j in range(max(0, i - MAX_COPY), i))
    assert varied >= 10


def test_style_guidance_moves_a_style_away_from_plain_folk(random_model):
    """The guided logits differ from the plain ones for a jig, not for a folk tune (its
    twin reads the same heading); a guided tune still obeys the grammar."""
    parts = (PartSpec(4, "full"), PartSpec(4, "full"))
    specs = [TuneSpec(style, Meter(6, 8), "major", parts, 2, (55, 84), seed)
             for style in ("jig", "folk") for seed in range(12)]
    # Every step cut alike, so only the guidance differs between the two runs.
    plain, _ = sample_tokens(random_model, specs,
                             SamplingOptions(style_guidance=0.0, durations_top_p=0.95))
    guided, _ = sample_tokens(random_model, specs,
                              SamplingOptions(style_guidance=20.0, durations_top_p=0.95))
    assert plain[12:] == guided[12:]  # folk: nothing to move away from
    assert sum(a != b for a, b in zip(plain[:12], guided[:12], strict=True)) >= 6
    for tokens, spec in zip(guided, specs, strict=True):
        assert [len(p) for p in as_tune(tokens, spec).parts] == [4, 4]


def test_a_style_takes_its_own_share_of_the_guidance(random_model, monkeypatch):
    """Style.guidance scales the guidance per style: at 0 a jig is sampled as unguided."""
    parts = (PartSpec(4, "full"), PartSpec(4, "full"))
    specs = [TuneSpec("jig", Meter(6, 8), "major", parts, 2, (55, 84), seed) for seed in range(6)]
    plain, _ = sample_tokens(random_model, specs, SamplingOptions(style_guidance=0.0))
    guided, _ = sample_tokens(random_model, specs, SamplingOptions(style_guidance=20.0))
    assert plain != guided
    monkeypatch.setitem(STYLES, "jig", replace(STYLES["jig"], guidance=0.0))
    unshared, _ = sample_tokens(random_model, specs, SamplingOptions(style_guidance=20.0))
    assert unshared == plain
    assert 0 < STYLES["strathspey"].guidance < 1  # it snaps too often when guided in full


def test_a_dance_tune_takes_its_own_share_of_the_copy_nudge(random_model, monkeypatch):
    """Style.copying scales the COPY nudge per style: at 0 a reel is sampled as unnudged,
    while a folk song keeps the whole nudge."""
    parts = (PartSpec(8, "full"), PartSpec(8, "full"))
    specs = [TuneSpec(style, Meter(4, 4), "major", parts, 2, (55, 84), seed)
             for style in ("reel", "folk") for seed in range(6)]
    plain, _ = sample_tokens(random_model, specs, SamplingOptions(copy_bias=0.0))
    nudged, _ = sample_tokens(random_model, specs, SamplingOptions(copy_bias=6.0))
    monkeypatch.setattr(styles, "DANCE_COPYING", 0.0)
    shared, _ = sample_tokens(random_model, specs, SamplingOptions(copy_bias=6.0))
    assert shared[:6] == plain[:6] != nudged[:6]
    assert shared[6:] == nudged[6:] != plain[6:]
    assert STYLES["reel"].copying == 0.0 and STYLES["folk"].copying == 1.0
    assert STYLES["air"].copying == 0.0  # its own share, whatever the dance form's
    assert replace(STYLES["reel"], copy_share=0.3).copying == 0.3


def test_a_dance_part_comes_back_as_it_was_but_for_a_second_ending(random_model):
    """The first repeat of a dance part rewrites at most its last two bars; a song's
    verse also changes a bar or two inside."""
    parts = (PartSpec(8, "full"), PartSpec(8, "full"))
    endings = {6, 7, 14, 15}
    for style, inside in (("reel", False), ("folk", True)):
        specs = [TuneSpec(style, Meter(4, 4), "major", parts, 2, (55, 84), seed)
                 for seed in range(20)]
        firsts, _ = sample_tokens(random_model, specs)
        renewed = [{i for i, bar in enumerate(repeat_spec(spec, tokens, 1, seed).given)
                    if bar is None}
                   for seed, (spec, tokens) in enumerate(zip(specs, firsts, strict=True))]
        assert any(renewed)  # some second endings
        assert any(bars - endings for bars in renewed) == inside


def test_trying_options_keeps_the_products_where_none_is_given() -> None:
    tried = SamplingOptions.trying(temperature=None, top_p=0.8)
    assert tried.top_p == 0.8
    assert tried.temperature == SamplingOptions().temperature
    assert SamplingOptions.trying(temperature=None, style_guidance=None) == SamplingOptions()
