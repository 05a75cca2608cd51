"""Key profiles learned from the corpus, for finding the key of a user's tune.

How long each scale degree sounds in the training split's major and minor tunes, which
degree a tune starts and ends on, and how common each is: composer.key_finding scores
every tonic and mode with them (a log-likelihood) where it once used Krumhansl-Kessler's
probe-tone profiles, which were measured on art music and read a folk tune's opening in
the wrong key half the time.

    python -m composer.training.key_profiles   # corpus cache -> composer/data/key_profiles.json

The corpus build (composer.training.corpus) writes the same file.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from composer.data import CACHE_PATH, KEY_PROFILES_PATH
from composer.key_finding import PARENTS, KeyProfiles, find_key, key_as_written
from composer.music import PARENT_MODE, TICKS_PER_QUARTER, Note, Tune

OPENINGS = (12, 24)  # quarter notes: a hummed clip is often only a tune's opening


def learn(tunes: Sequence[Tune]) -> dict:
    """{"degrees", "first", "last": {parent mode: 12 shares from the tonic up}, "modes":
    {parent mode: share of tunes}, "tunes": n}. Counts start at one, so no degree is
    impossible."""
    degrees, first, last = ({m: np.zeros(12) for m in PARENTS} for _ in range(3))
    modes = dict.fromkeys(PARENTS, 0)
    for tune in tunes:
        parent = PARENT_MODE[tune.mode]
        pitched = [n for n in tune.melody() if n.pitch is not None]
        if not pitched:
            continue
        modes[parent] += 1
        for note in pitched:
            degrees[parent][(note.pitch - tune.tonic) % 12] += note.ticks
        first[parent][(pitched[0].pitch - tune.tonic) % 12] += 1
        last[parent][(pitched[-1].pitch - tune.tonic) % 12] += 1
    total = sum(modes.values())

    def shares(table: dict[str, np.ndarray]) -> dict[str, list[float]]:
        return {m: [round(float(v), 6) for v in (1 + row) / (1 + row).sum()]
                for m, row in table.items()}

    return {"tunes": total, "degrees": shares(degrees), "first": shares(first),
            "last": shares(last), "modes": {m: round(modes[m] / total, 4) for m in PARENTS}}


def opening(tune: Tune, quarters: float) -> list[Note]:
    """The tune's notes from its first sounding one, until `quarters` have passed."""
    notes: list[Note] = []
    length = 0.0
    for note in tune.melody():
        if note.pitch is None and not notes:
            continue
        if length >= quarters:
            break
        notes.append(note)
        length += note.ticks / TICKS_PER_QUARTER
    return notes


def held_out_accuracy(tunes: Sequence[Tune], find_key) -> dict[str, float]:
    """Share of tunes whose tonic and major/minor `find_key(notes)` gets right: from their
    openings and from the whole tune."""
    def right(notes: list[Note], tune: Tune) -> bool:
        tonic, mode = find_key(notes)
        return tonic == tune.tonic and PARENT_MODE[mode] == PARENT_MODE[tune.mode]

    result = {f"opening_{q}_quarters": float(np.mean([right(opening(t, q), t) for t in tunes]))
              for q in OPENINGS}
    result["whole_tune"] = float(np.mean([right(t.melody(), t) for t in tunes]))
    return {k: round(v, 4) for k, v in result.items()}


def signature_accuracy(tunes: Sequence[Tune], as_written) -> dict[str, float]:
    """Whole tunes read under a MIDI key signature, `as_written(notes, tonic, parent)`:
    right when it is their own; right when it is the C major that programs write when
    nobody set a key (tunes not in C major)."""
    def right(key: tuple[int, str], tune: Tune) -> bool:
        return key[0] == tune.tonic and PARENT_MODE[key[1]] == PARENT_MODE[tune.mode]

    def share(keys: list[tuple[int, str]], asked: Sequence[Tune]) -> float:
        return round(float(np.mean([right(k, t) for k, t in zip(keys, asked, strict=True)])), 4)

    not_c = [t for t in tunes if (t.tonic, PARENT_MODE[t.mode]) != (0, "major")]
    return {"own_signature": share([as_written(t.melody(), t.tonic, PARENT_MODE[t.mode])
                                    for t in tunes], tunes),
            "c_major_by_default": share([as_written(t.melody(), 0, "major") for t in not_c],
                                        not_c)}


def write(tunes: Sequence[Tune], path: Path = KEY_PROFILES_PATH) -> dict:
    """Learn from the training split's folk tunes (not the chorales), measure on the held-out
    ones, write `path`."""
    from composer.training.corpus import split_of

    folk = [t for t in tunes if t.style != "chorale"]
    profiles = learn([t for t in folk if split_of(t.id) == "train"])
    learned = KeyProfiles.from_json(profiles)
    held_out = [t for t in folk if split_of(t.id) != "train"]
    if held_out:
        profiles["held_out_accuracy"] = held_out_accuracy(
            held_out, lambda notes: find_key(notes, learned))
        profiles["held_out_under_signature"] = signature_accuracy(
            held_out, lambda notes, tonic, parent: key_as_written(notes, tonic, parent, learned))
    path.write_text(json.dumps(profiles, indent=1) + "\n")
    return profiles


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CACHE_PATH)
    parser.add_argument("--out", type=Path, default=KEY_PROFILES_PATH)
    args = parser.parse_args(argv)
    from composer.training.corpus import load_corpus

    profiles = write(load_corpus(args.corpus), args.out)
    print(f"learned from {profiles['tunes']} tunes; held out: {profiles.get('held_out_accuracy')}; "
          f"under a MIDI key signature: {profiles.get('held_out_under_signature')}")


if __name__ == "__main__":
    main()
