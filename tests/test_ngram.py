"""The n-gram baseline: proper probabilities, and it learns what repeats."""

import random

import numpy as np
import pytest

from composer.tokens import INDEX, VOCAB
from composer.training.ngram import KneserNey, choose_order

BOS, EOS = INDEX["BOS"], INDEX["EOS"]
NOTES = [INDEX[f"P:{p}"] for p in (60, 62, 64, 65, 67)]


def repetitive(n: int) -> list[int]:
    return [BOS] + [NOTES[i % 3] for i in range(n)] + [EOS]


def random_sequence(n: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    return [BOS] + [rng.choice(NOTES) for _ in range(n)] + [EOS]


@pytest.fixture(scope="module")
def model() -> KneserNey:
    training = [repetitive(60) for _ in range(5)] + [random_sequence(60, s) for s in range(5)]
    return KneserNey(training, max_order=4)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("context", [[], [BOS], [BOS, NOTES[0], NOTES[1]], [EOS, EOS, EOS]])
def test_probabilities_sum_to_one_over_the_vocabulary(model, order, context):
    p = model.distribution(context, order)
    assert p.shape == (len(VOCAB),)
    assert p.sum() == pytest.approx(1.0)
    assert (p > 0).all()  # unseen tokens keep some probability


def test_bits_agree_with_the_distribution(model):
    sequence = random_sequence(12, seed=99)
    total, count = model.bits([sequence], 3)
    by_hand = sum(-np.log2(model.distribution(sequence[:i], 3)[sequence[i]])
                  for i in range(1, len(sequence)))
    assert count == len(sequence) - 1
    assert total == pytest.approx(by_hand)


def test_lower_perplexity_on_a_repetitive_sequence_than_on_a_random_one(model):
    assert model.perplexity([repetitive(30)]) < model.perplexity([random_sequence(30, 7)]) / 2


def test_choose_order_prefers_a_longer_context_for_a_pattern_it_needs():
    # a period-4 pattern with a repeated note: one token of context cannot predict it
    pattern = [NOTES[0], NOTES[0], NOTES[1], NOTES[2]]
    sequences = [[BOS] + pattern * 15 + [EOS] for _ in range(4)]
    _, best, scores = choose_order(sequences, sequences[:1], orders=(2, 3, 4))
    assert best >= 3
    assert scores[3] < scores[2]


def test_order_out_of_range_is_refused():
    with pytest.raises(ValueError, match="order"):
        KneserNey([repetitive(5)], max_order=0)
