"""The sampler's grammar holds whatever the network says: hundreds of seeded samples
from an untrained (random) network must still be well-formed tunes."""

import pytest
import torch

from composer.model import ModelConfig, TuneLSTM
from composer.music import Meter
from composer.sampler import PartSpec, SamplingOptions, TuneSpec, sample_tunes


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


def test_hundreds_of_samples_obey_the_grammar(random_model):
    specs = make_specs(200)
    tunes, _ = sample_tunes(random_model, specs, SamplingOptions(temperature=1.5, top_p=1.0))
    for tune, spec in zip(tunes, specs, strict=True):
        assert [len(p) for p in tune.parts] == [4, 4, 4]
        tonic = "0maj" if spec.mode == "major" else "0min"
        for bar in tune.bars:
            assert bar.ticks == spec.meter.bar_ticks
            assert len(bar.chords) == spec.chords_per_bar
            assert all(55 <= n.pitch <= 84 for n in bar.notes if n.pitch is not None)
        first, bridge, last = tune.parts
        # full cadences: V at the end of the penultimate bar, I at the end, tonic last note
        for part in (first, last):
            assert part[-2].chords[-1][1].name in ("7maj", "7dom7")
            assert part[-1].chords[-1][1].name == tonic
            assert part[-1].notes[-1].pitch % 12 == 0
        # half cadence on V; the bridge opens away from the tonic
        assert bridge[-1].chords[-1][1].name in ("7maj", "7dom7")
        assert bridge[-1].notes[-1].pitch % 12 in (7, 11, 2)
        assert bridge[0].chords[0][1].name != tonic
        assert first[0].chords[0][1].name == tonic


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
