"""The key of a user's tune: which tonic and mode its notes are most likely in.

Every tonic and major/minor is scored by the log-likelihood of the tune under profiles
learned from the corpus (composer/data/key_profiles.json, written by
composer.training.key_profiles): how long each scale degree sounds, the degree the tune
starts on, more softly the one it ends on, and how common the mode is. Then
abc.modal_colour tells Dorian and Mixolydian apart. On the held-out corpus tunes this finds
the key (tonic, major or minor) of their first 12 quarter notes 0.83 of the time, of 24
0.89, of the whole tune 0.92; Krumhansl-Kessler's probe-tone profiles with a bonus for
the last note, used before, 0.48, 0.60 and 0.78 (`python -m composer.training.key_profiles`).
A MIDI file's key signature is kept unless the notes make another key clearly likelier
(`key_as_written`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from composer.abc import modal_colour
from composer.data import KEY_PROFILES_PATH
from composer.music import (
    KEY_NAMES,
    MAJOR_TONICS,
    MINOR_TONICS,
    PARENT_MODE,
    TICKS_PER_QUARTER,
    Note,
)

PARENTS = ("major", "minor")
# A sung clip often ends on its tonic, but may stop anywhere: the last note counts this much
# (held out: openings of 12 quarters 0.84 right without it, 0.83 with; whole tunes 0.91, 0.92;
# at 0.6: 0.79 and 0.93).
LAST_NOTE_WEIGHT = 0.3
# How much likelier (nats) another key must be before a MIDI file's key signature is
# doubted: programs write C major when nobody set a key. Held-out whole tunes (`python -m
# composer.training.key_profiles`): under their own signature the key is right 0.97 of the
# time, under a wrong C major 0.90 (trusting the signature: 1.00 and 0.00; at 10: 0.99, 0.83).
SIGNATURE_DOUBT = 5.0


@dataclass(frozen=True)
class KeyProfiles:
    """Log-probabilities per parent mode, from the tonic up (12 each), and of the modes."""

    degrees: dict[str, np.ndarray]  # per quarter note sounding on the degree
    first: dict[str, np.ndarray]  # the tune's first note
    last: dict[str, np.ndarray]  # its last note
    modes: dict[str, float]

    @staticmethod
    def from_json(data: dict) -> KeyProfiles:
        def logs(table: str) -> dict[str, np.ndarray]:
            return {m: np.log(np.asarray(data[table][m], dtype=float)) for m in PARENTS}

        return KeyProfiles(logs("degrees"), logs("first"), logs("last"),
                           {m: float(np.log(data["modes"][m])) for m in PARENTS})


@lru_cache(maxsize=1)
def shipped_profiles() -> KeyProfiles:
    return KeyProfiles.from_json(json.loads(KEY_PROFILES_PATH.read_text()))


def find_key(melody: list[Note], profiles: KeyProfiles | None = None) -> tuple[int, str]:
    """(tonic pitch class, mode) of the likeliest key; C major for a tune with no notes."""
    scores = key_scores(melody, profiles)
    if not scores:
        return 0, "major"
    tonic, parent = max(scores, key=scores.__getitem__)
    return tonic, modal_colour(melody, tonic, parent)


def key_as_written(melody: list[Note], tonic: int, parent: str,
                   profiles: KeyProfiles | None = None) -> tuple[int, str]:
    """The key a file's key signature names (tonic, "major" or "minor"), unless another key
    is likelier by more than SIGNATURE_DOUBT: programs write C major when nobody set one."""
    scores = key_scores(melody, profiles)
    if scores and max(scores.values()) - scores[tonic, parent] > SIGNATURE_DOUBT:
        return find_key(melody, profiles)
    return tonic, modal_colour(melody, tonic, parent)


def key_scores(melody: list[Note], profiles: KeyProfiles | None = None
               ) -> dict[tuple[int, str], float]:
    """Log-likelihood of the melody in every (tonic, parent mode); empty without notes."""
    profiles = profiles or shipped_profiles()
    pitched = [n for n in melody if n.pitch is not None]
    if not pitched:
        return {}
    quarters = np.zeros(12)
    for note in pitched:
        quarters[note.pitch % 12] += note.ticks / TICKS_PER_QUARTER
    first, last = pitched[0].pitch % 12, pitched[-1].pitch % 12
    return {(tonic, parent): float(np.roll(quarters, -tonic) @ profiles.degrees[parent])
            + profiles.first[parent][(first - tonic) % 12]
            + LAST_NOTE_WEIGHT * profiles.last[parent][(last - tonic) % 12]
            + profiles.modes[parent]
            for tonic in range(12) for parent in PARENTS}


def key_name(tonic: int, mode: str) -> str:
    """A tonic spelled as players spell it for the mode (Db major, C# minor)."""
    names = MINOR_TONICS if PARENT_MODE.get(mode) == "minor" else MAJOR_TONICS
    name = names[tonic % 12]
    return name if name in KEY_NAMES else MAJOR_TONICS[tonic % 12]
