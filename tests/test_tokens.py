"""Tokenizer: tunes survive the round trip, and bad tunes are refused clearly."""

import pytest

from composer.music import Bar, Chord, Meter, Note, Tune
from composer.tokens import INDEX, VOCAB, TokenError, decode, encode

C, TONIC, DOM = 60, Chord(0, "maj"), Chord(7, "dom7")


def jig_with_pickup_and_triplet() -> Tune:
    meter = Meter(6, 8)  # 36 ticks a bar
    pickup = Bar([Note(None, 30), Note(67, 6)], [(0, TONIC), (18, TONIC)])
    triplet = Bar([Note(72, 4), Note(74, 4), Note(76, 4), Note(77, 6), Note(79, 18)],
                  # eighth-note triplet, then an eighth and a dotted quarter
                  [(0, TONIC), (18, DOM)])
    plain = Bar([Note(76, 18), Note(None, 6), Note(72, 12)], [(0, DOM), (18, TONIC)])
    part_b = [Bar([Note(79, 36)], [(0, TONIC), (18, TONIC)]),
              Bar([Note(72, 36)], [(0, DOM), (18, TONIC)])]
    return Tune("t1", "", "jig", meter, 2, "major", [[pickup, triplet, plain, triplet], part_b],
                pickup_ticks=30)


def test_round_trip_keeps_pickup_triplets_parts_and_chords():
    tune = jig_with_pickup_and_triplet()
    back = decode(encode(tune), tonic=tune.tonic)
    assert back.parts == tune.parts
    assert (back.style, back.meter, back.mode, back.tonic) == ("jig", Meter(6, 8), "major", 2)
    assert back.pickup_ticks == 30


def test_round_trip_with_and_without_copies_is_the_same_tune():
    tune = jig_with_pickup_and_triplet()
    with_copies, without = encode(tune), encode(tune, copies=False)
    assert INDEX["COPY:2"] in with_copies  # the repeated triplet bar two bars back
    assert len(with_copies) < len(without)
    assert decode(with_copies, tonic=2).parts == decode(without, tonic=2).parts


def test_pitches_are_key_normalised():
    tune = jig_with_pickup_and_triplet()
    words = [VOCAB[i] for i in encode(tune)]
    assert "P:65" in words  # G (67) in D major is the fourth degree: F in C


def test_incomplete_bar_is_refused():
    tune = Tune("bad", "", "folk", Meter(4, 4), 0, "major", [[Bar([Note(C, 12)], [(0, TONIC)])]])
    with pytest.raises(TokenError, match="bar of 12 ticks"):
        encode(tune)


def test_unknown_style_is_refused():
    tune = Tune("bad", "", "disco", Meter(4, 4), 0, "major", [[Bar([Note(C, 48)], [(0, TONIC)])]])
    with pytest.raises(TokenError, match="unknown style"):
        encode(tune)
