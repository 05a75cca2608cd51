"""The baseline the LSTM must beat: an interpolated Kneser-Ney n-gram over the same tokens.

Each n-gram of token ids is packed into one int64 (BITS bits per token, the oldest token
highest), so counting is `np.unique` and lookup is `np.searchsorted`: a few seconds for
the whole corpus, no Python dicts of tuples. Every tune is preceded by PAD tokens, so the
first tokens have a full-length context, as the LSTM's BOS gives it one.

    P_k(w | h) = (max(c_k(h, w) - D_k, 0) + D_k * N1+(h .) * P_{k-1}(w | h')) / c_k(h)

with c the raw counts at the highest order and continuation counts (how many different
tokens precede the n-gram) below it; P_0 is uniform over the vocabulary, and an unseen
context falls through to the next order. The discount is D = n1 / (n1 + 2 n2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from composer.tokens import INDEX, PAD, VOCAB

BITS = max(1, (len(VOCAB) - 1).bit_length())  # bits per token in a packed n-gram
MAX_ORDER = 62 // BITS  # as many tokens as fit in an int64
PAD_ID = INDEX[PAD]


@dataclass
class Table:
    """Counts of the n-grams of one order, and of their contexts."""

    codes: np.ndarray  # sorted unique packed n-grams
    counts: np.ndarray  # count of each
    context_codes: np.ndarray  # sorted unique packed contexts (the n-gram minus its last token)
    context_totals: np.ndarray  # sum of counts over the words after each context
    context_types: np.ndarray  # how many different words follow each context: N1+(h .)
    discount: float

    @staticmethod
    def of(grams: np.ndarray) -> Table:
        codes, counts = np.unique(grams, return_counts=True)
        context_codes, inverse = np.unique(codes >> BITS, return_inverse=True)
        totals = np.bincount(inverse, weights=counts)
        types = np.bincount(inverse)
        n1, n2 = int((counts == 1).sum()), int((counts == 2).sum())
        discount = n1 / (n1 + 2 * n2) if n1 else 0.5
        return Table(codes, counts.astype(float), context_codes, totals, types.astype(float),
                     min(max(discount, 0.05), 1.0))


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """values[key] for each query, 0 where the key is absent."""
    if not len(keys):
        return np.zeros(len(queries))
    pos = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    return np.where(keys[pos] == queries, values[pos], 0.0)


def packed_ngrams(sequences: Sequence[Sequence[int]], max_order: int) -> list[np.ndarray]:
    """grams[k-1][i] = the k tokens ending at the i-th predicted token, packed (k=1..max_order).

    Predicted tokens are every token after each sequence's first (BOS), as for the LSTM.
    """
    pad = [PAD_ID] * (max_order - 1)
    tokens = np.array([t for seq in sequences for t in (*pad, *seq)], dtype=np.int64)
    targets = np.zeros(len(tokens), dtype=bool)
    start = 0
    for seq in sequences:
        begin = start + len(pad) + 1  # skip the pads and the first token
        targets[begin:start + len(pad) + len(seq)] = True
        start += len(pad) + len(seq)
    grams, packed = [], tokens.copy()
    for k in range(1, max_order + 1):
        if k > 1:  # add the token k-1 places back, in the higher bits
            older = np.zeros_like(tokens)
            older[k - 1:] = tokens[: len(tokens) - (k - 1)]
            packed = packed | (older << (BITS * (k - 1)))
        grams.append(packed[targets])
    return grams


class KneserNey:
    """Interpolated Kneser-Ney n-gram model; one fit serves every order up to max_order."""

    def __init__(self, sequences: Sequence[Sequence[int]], max_order: int = 6,
                 vocab_size: int = len(VOCAB)) -> None:
        if not 1 <= max_order <= MAX_ORDER:
            raise ValueError(f"order {max_order} is outside 1..{MAX_ORDER}")
        self.max_order = max_order
        self.vocab_size = vocab_size
        grams = packed_ngrams(sequences, max_order)
        self.raw = [Table.of(g) for g in grams]  # raw[k-1]: counts of k-grams
        # Continuation counts of k-grams: how many distinct tokens precede them.
        self.continuation = []
        for k in range(1, max_order):
            longer = np.unique(grams[k])  # distinct (k+1)-grams
            self.continuation.append(Table.of(longer & ((1 << (BITS * k)) - 1)))

    def _probabilities(self, grams: list[np.ndarray], order: int) -> np.ndarray:
        """P(word | context) for packed n-grams (grams[k-1] = the last k tokens)."""
        p = np.full(len(grams[0]), 1.0 / self.vocab_size)
        for k in range(1, order + 1):
            table = self.raw[k - 1] if k == order else self.continuation[k - 1]
            count = _lookup(table.codes, table.counts, grams[k - 1])
            context = grams[k - 1] >> BITS
            total = _lookup(table.context_codes, table.context_totals, context)
            types = _lookup(table.context_codes, table.context_types, context)
            d = table.discount
            mixed = (np.maximum(count - d, 0.0) + d * types * p) / np.maximum(total, 1.0)
            p = np.where(total > 0, mixed, p)
        return p

    def bits(self, sequences: Sequence[Sequence[int]],
             order: int | None = None) -> tuple[float, int]:
        """Total bits (-log2 P) of the sequences' tokens after BOS, and how many tokens."""
        order = order or self.max_order
        if not sequences:
            return 0.0, 0
        grams = packed_ngrams(sequences, self.max_order)
        p = self._probabilities(grams, order)
        return float(-np.log2(p).sum()), len(p)

    def distribution(self, context: Sequence[int], order: int | None = None) -> np.ndarray:
        """P(w | context) for every token id w: a vector that sums to 1."""
        order = order or self.max_order
        history = [PAD_ID] * self.max_order + list(context)
        words = np.arange(self.vocab_size, dtype=np.int64)
        grams = []
        for k in range(1, self.max_order + 1):
            packed = words.copy()
            for j, token in enumerate(reversed(history[len(history) - (k - 1):] if k > 1 else [])):
                packed |= np.int64(token) << (BITS * (j + 1))
            grams.append(packed)
        return self._probabilities(grams, order)

    def perplexity(self, sequences: Sequence[Sequence[int]], order: int | None = None) -> float:
        total, count = self.bits(sequences, order)
        return 2 ** (total / count) if count else math.nan


def choose_order(train: Sequence[Sequence[int]], valid: Sequence[Sequence[int]],
                 orders: Sequence[int] = (2, 3, 4, 5, 6),
                 ) -> tuple[KneserNey, int, dict[int, float]]:
    """Fit once, pick the order with the fewest validation bits per token."""
    model = KneserNey(train, max(orders))
    scores = {}
    for order in orders:
        total, count = model.bits(valid, order)
        scores[order] = total / max(count, 1)
    best = min(scores, key=scores.get)
    return model, best, scores
