"""The style catalogue: what each style sounds like and which real tunes teach it."""

from __future__ import annotations

from dataclasses import dataclass

from composer.music import Meter


@dataclass(frozen=True)
class Style:
    id: str
    description: str
    meters: tuple[str, ...]  # first is the default
    tempo_range: tuple[int, int]  # beats (felt beats) per minute
    default_tempo: int
    form: str  # "song" (intro/verse/chorus/bridge/coda), "dance" (AABB parts), "chorale"
    chords_per_bar: int  # harmonic rhythm
    melody_instrument: str  # General MIDI instrument name (see composer.instruments)
    accompaniment: str  # pattern name used by the arranger
    bass_instrument: str
    chord_instrument: str
    drums: bool
    modes: tuple[str, ...]  # first is the default (composer.music.MODES)
    # How often a song of the style is in each meter and mode when the request does not
    # say: the corpus's own shares (composer/data/corpus_stats.json, per_style_meter and
    # per_style_mode). Meters are nudged where one would make the style sound like another
    # (a ballad in 3/4 is heard as a waltz, as 20 of 21 held-out human ones are, and so is a
    # chorale; a march in 6/8 as a jig, in 2/4 as an air, while the corpus's common-time
    # marches are heard as marches: `isadei eval songs`). An air is drawn as the corpus
    # holds it: in 3/4 ours were heard as airs 9 times in 12 (human 10 of 12), in 6/8 as
    # jigs 9 times in 12 (human 5 of 9). Modes are the corpus's: drawn more modal than that
    # (reels 65% major against the corpus's 82%), our reels and strathspeys held twice the
    # human share of flat sevenths and minor thirds.
    meter_weights: tuple[int, ...] = (1,)
    mode_weights: tuple[int, ...] = (1,)
    # >0: every phrase of this many bars ends on a held note (a chorale). Not an air: held
    # every 4 bars, 0.65 of its two-bar phrases ended held against 0.16 in human airs.
    phrase_bars: int = 0
    # Dance sets: how many times round each tune goes before the next one (a march's trio
    # follows its strains at once).
    rounds_per_tune: int = 2
    # Dance tunes and chorales: (part A, part B) lengths in bars, the usual one first (the
    # planner takes a later one when it fits the length asked for better).
    part_bars: tuple[tuple[int, int], ...] = ((8, 8), (4, 4))
    # Songs: how many verses come before each chorus. A ballad tells its story in pairs of
    # verses to one tune: with a chorus after every verse, 0.27 of its bars repeated an
    # earlier one against 0.44 in human ballads sung twice through; in pairs, 0.36.
    verses_per_chorus: int = 1
    # Songs: the last chorus after a bridge (or sung again) may go up a whole step, as
    # singers lift it; a lullaby or a Chinese folk song stays where it is.
    lifts_last_chorus: bool = False
    # How much of the sampler's style guidance (SamplingOptions.style_guidance) this style
    # takes. Guidance caricatures what a style has most of: strathspeys guided in full
    # snapped 0.10 of their notes against 0.068 in the corpus's and 0.031 in the held-out
    # ones (`isadei eval songs`, four seeds: told from human ones 0.69; at 0.4 of it, 0.60).
    guidance: float = 1.0
    # True: the style is written by a network of its own, beside the shared one in weights/
    # (isadei-lstm-<style>.safetensors): the shared network trained on the style's tunes
    # alone and mixed back with it (composer/training/train.py, TrainConfig.mix).
    own_network: bool = False
    # How much the style's own rhythm, counted in its corpus tunes (composer.style_rhythm),
    # weighs against the network's in each note length it picks (0: the network's alone;
    # log-linear, so 0.5 is the two models' geometric mean).
    rhythm_fusion: float = 0.0
    # Irish dance tunes: cuts and rolls in the played audio (composer/ornaments.py).
    ornamented: bool = False
    # >0: eighths written even are played long-short, the first taking this share of a
    # quarter, as a hornpipe is played however it is written (composer/swing.py).
    swing: float = 0.0
    # What a song's very last note may be, above the final chord's root: the root or the
    # third (the corpus: 72-90% root, up to 19% third); Chinese tunes end on the fifth half
    # the time (their sol-mode close).
    final_tones: tuple[int, ...] = (0, 3, 4)
    # Where the melody's middle sits: the corpus's median pitch per tune, as written in its
    # own key, averaged over the style (MIDI; 69 = A4). Folk songs, waltzes and lullabies
    # are sung around A4; Irish and Scottish dance tunes are played around C#5.
    register: int = 72
    # The style's own share of the sampler's COPY nudge, where its form's share (below:
    # copying) is wrong for it; None: the form's.
    copy_share: float | None = None

    @property
    def default_mode(self) -> str:
        return self.modes[0]

    @property
    def copying(self) -> float:
        """How much of the sampler's COPY nudge (SamplingOptions.copy_bias) the style takes."""
        if self.copy_share is not None:
            return self.copy_share
        return DANCE_COPYING if self.form == "dance" else 1.0


# Dance tunes repeat a part as it was, and inside a part they repeat bars less than the full
# nudge makes ours do: written out (two 8-bar parts, 16 takes a style) our jigs repeated
# 0.43 of their bars against 0.26 in the corpus's jigs of that shape, reels 0.40 against
# 0.30, marches 0.37 against 0.26, airs 0.29 against 0.18; at a nudge of +0.5 near the
# corpus's. At 0.45 of the nudge (+0.5), with repeats played closer to as they were
# (composer/compose.py REPEAT_SHARE), songs were told from human tunes 0.552 of the time
# against 0.577 (four seeds, `isadei eval songs`; boosted trees 0.658 against 0.653). Songs
# keep the full nudge: at +0.5 for every style, folk songs were told apart 0.68 (0.58).
DANCE_COPYING = 0.45


STYLES: dict[str, Style] = {
    s.id: s
    for s in [
        Style("folk", "a German/European folk song with verses and a chorus", ("4/4", "2/4", "6/8"),
              (80, 132), 104, "song", 2, "acoustic guitar (nylon)", "boom-chick",
              "acoustic bass", "acoustic guitar (steel)", False,
              modes=("major", "minor", "dorian", "mixolydian"),
              meter_weights=(45, 35, 20), mode_weights=(89, 9, 2, 1), lifts_last_chorus=True,
              register=69),
        Style("ballad", "a story-telling ballad, slow and lyrical", ("4/4", "6/8", "3/4", "2/4"),
              (60, 96), 76, "song", 1, "flute", "arpeggio",
              "acoustic bass", "acoustic grand piano", False,
              modes=("major", "minor", "dorian"),
              meter_weights=(35, 35, 10, 20), mode_weights=(83, 13, 3),
              verses_per_chorus=2, lifts_last_chorus=True, register=69),
        Style("lullaby", "a gentle cradle song", ("6/8", "2/4", "4/4"),
              (50, 80), 63, "song", 1, "music box", "arpeggio",
              "cello", "celesta", False,
              modes=("major",),
              meter_weights=(50, 35, 15), mode_weights=(1,), register=69),
        # A waltz is a dance: two parts, each played twice, then the next waltz of the set
        # (as a song with verse and chorus, 0.81 of its 16-bar windows were told from human
        # waltzes; as a dance, 0.60). Its parts are 16 bars: the corpus's waltzes are tunes of
        # one 8-16 bar strain (1,105 of 1,110), and with 8-bar parts our windows repeated an
        # earlier bar 0.52 of the time against 0.37 in human waltzes played twice (16: 0.40).
        Style("waltz", "a waltz: one-two-three, oom-pah-pah", ("3/4",),
              (84, 180), 144, "dance", 1, "violin", "waltz",
              "tuba", "accordion", False,
              modes=("major", "minor", "dorian"),
              meter_weights=(1,), mode_weights=(91, 7, 1), register=69,
              part_bars=((16, 16), (8, 8), (4, 4))),
        # A quickstep goes at 100-126; a slow or funeral march is walked at 60-75 (asked for
        # in words: "a slow march", "похоронный марш").
        Style("march", "a march or quickstep, brisk and square", ("2/4", "6/8", "4/4"),
              (60, 132), 112, "dance", 2, "trumpet", "march",
              "tuba", "brass section", True,
              modes=("major", "minor"),
              meter_weights=(35, 20, 45), mode_weights=(96, 2), rounds_per_tune=1,
              # Its own network: wave 3 trained on the 124 marches and mixed back (0.7):
              # 32 marches in 4/4 heard as marches 9 times against 3, eighth notes 0.48 of
              # their notes against 0.63 (human 4/4 marches 0.12: dotted pairs, quarters).
              # Its corpus rhythm mixed in, half and half: over eight seeds (`make eval`)
              # heard as marches 0.23 of the time (0.15 without; in 4/4 19 of 43, were 11),
              # told from human marches 0.51 (0.58). 48 marches in 4/4 (one seed): heard as
              # marches 27 times (14 without) at 0.5, 26 at 0.75; eighths 0.44 -> 0.37, 0.34.
              register=73, own_network=True, rhythm_fusion=0.5),
        Style("jig", "an Irish double jig in 6/8", ("6/8",),
              (96, 126), 112, "dance", 2, "violin", "jig",
              "acoustic bass", "acoustic guitar (steel)", True,
              modes=("major", "minor", "dorian", "mixolydian"),
              meter_weights=(1,), mode_weights=(77, 16, 4, 4), ornamented=True,
              register=72),
        Style("slip-jig", "an Irish slip jig in 9/8", ("9/8",),
              (96, 126), 110, "dance", 3, "flute", "jig",
              "acoustic bass", "acoustic guitar (steel)", True,
              modes=("major", "minor", "dorian", "mixolydian"),
              meter_weights=(1,), mode_weights=(78, 17, 3, 2), ornamented=True,
              register=72),
        Style("reel", "an Irish/Scottish reel, fast and even", ("2/2", "4/4"),
              (96, 128), 112, "dance", 2, "violin", "reel",
              "acoustic bass", "acoustic guitar (steel)", True,
              modes=("major", "minor", "dorian", "mixolydian"),
              meter_weights=(2, 1), mode_weights=(82, 12, 4, 2), ornamented=True,
              register=73),
        Style("hornpipe", "a hornpipe with its dotted swing", ("2/2", "4/4"),
              (70, 96), 84, "dance", 2, "violin", "reel",
              "acoustic bass", "acoustic guitar (steel)", True,
              modes=("major", "minor"),
              meter_weights=(1, 1), mode_weights=(98, 2), ornamented=True, swing=0.65,
              # Its own network: wave 3 trained on the 435 hornpipes (384 steps, not mixed
              # back). The shared one wrote 79% of its 2/2 hornpipes even, where 55% of the
              # corpus's are dotted (this one 42%); held-out hornpipes 0.750 -> 0.687 nats/token.
              register=73, own_network=True),
        Style("strathspey", "a Scottish strathspey with snaps", ("4/4", "2/2"),
              (108, 150), 128, "dance", 2, "violin", "reel",
              "cello", "acoustic grand piano", True,
              modes=("major", "minor", "dorian", "mixolydian"),
              meter_weights=(3, 1), mode_weights=(75, 20, 4, 1), register=73, guidance=0.4),
        Style("air", "a slow Irish/Scottish air", ("4/4", "2/4", "3/4", "6/8"),
              (50, 84), 66, "dance", 1, "flute", "arpeggio",
              "cello", "orchestral harp", False,
              modes=("minor", "major", "dorian", "mixolydian"),
              # The meters of the airs their own words or book section call airs (110, 34,
              # 131 and 103 tunes; corpus.named): 2/4 was 25 when the tunes of Aird's with no
              # style word, airs by their meter alone and many of them quicksteps, counted.
              meter_weights=(29, 9, 35, 27), mode_weights=(20, 73, 4, 3), register=72,
              # Its corpus rhythm mixed in, half and half: the network ran its airs in eighths
              # and sixteenths (quarter notes 0.06 of their notes against 0.23 in human airs);
              # 36 airs on each of seeds 7-10, told from the held-out airs 0.68 -> 0.64, heard
              # as airs 23 -> 25 of 36 (seed 7). The ballad took it badly (0.55 -> 0.64).
              # Its own network (wave 18) learned the named airs alone, and the rhythm is
              # theirs: 36 airs (seeds 0-2) heard as airs 0.42 -> 0.69 by a classifier that
              # learned named tunes only; over eight seeds 0.60 (the corpus's airs: 0.63).
              rhythm_fusion=0.5, own_network=True,
              # No COPY nudge: nudged as a dance tune, our airs repeated 0.46 of their bars
              # (human airs in 3/4: 0.34, waltzes 0.37) and 3/4 ones were heard as waltzes;
              # without it 0.42, and 48 airs on each of seeds 0-2 were heard as airs 0.61 ->
              # 0.67 (in 3/4 28 -> 41 of 55).
              copy_share=0.0),
        Style("chorale", "a four-part Bach-style chorale (hymn)", ("4/4", "3/4"),
              (56, 84), 72, "chorale", 4, "church organ", "chorale",
              "church organ", "church organ", False,
              modes=("major", "minor"),
              meter_weights=(95, 5), mode_weights=(48, 52), phrase_bars=2,
              part_bars=((4, 8), (4, 4), (8, 8)),
              register=71),
        Style("chinese-folk", "a Chinese folk song (pentatonic)", ("2/4", "4/4"),
              (60, 100), 76, "song", 1, "shakuhachi", "arpeggio",
              "cello", "koto", False,
              modes=("major", "minor"),
              meter_weights=(90, 10), mode_weights=(82, 17), final_tones=(0, 3, 4, 7),
              register=71),
    ]
}

DEFAULT_STYLE = "folk"


def slots_per_bar(style: str, meter: Meter, wanted: int | None = None) -> int:
    """The style's harmonic rhythm, reduced so the slots fall on beats (3/4 -> 1, 9/8 -> 3)."""
    wanted = wanted or get_style(style).chords_per_bar
    return max(d for d in range(1, wanted + 1) if meter.beats % d == 0)


def tempo_in_meter(style: Style, meter: Meter, tempo_bpm: int) -> int:
    """A tempo in the style's beats (those of its first meter) as beats of `meter`: the
    same bar written with twice the beats (a reel in 4/4 rather than 2/2, as the corpus
    writes a third of them) goes at the same pace, so twice the beats a minute. Meters of
    another bar length are felt in their own beat at the style's tempo."""
    first = Meter.parse(style.meters[0])
    if meter.bar_ticks != first.bar_ticks:
        return tempo_bpm
    return round(tempo_bpm * meter.beats / first.beats)


def get_style(style_id: str) -> Style:
    """The style with this id; a clear error listing the catalogue otherwise."""
    try:
        return STYLES[style_id]
    except KeyError:
        raise ValueError(
            f"unknown style {style_id!r}; choose one of: {', '.join(STYLES)}"
        ) from None


# How people name each style, in English and Russian (see composer.instruments.alias_pattern:
# "~" = any Russian case ending, "*" = any ending). The request parser reads these.
STYLE_ALIASES: dict[str, tuple[str, ...]] = {
    "folk": ("folk", "folk song", "folksong", "folk tune", "folk music", "volkslied*", "народн~",
             "фолк~", "фольклор~", "частушк~", "хоровод~"),
    "ballad": ("ballad", "баллад~", "romance", "романс~", "serenade", "серенад~", "love song",
               "песн~ о любви", "песн~ про любовь"),
    "lullaby": ("lullaby", "lullabies", "cradle song", "berceuse", "колыбельн~", "баю-бай",
                "баюшки", "баю-баюшки"),
    "waltz": ("waltz", "valse", "walzer", "вальс~", "вальсок~", "вальсочек", "вальсочк~"),
    "march": ("march", "marches", "marching", "quickstep", "марш~", "маршик~", "маршев~"),
    "jig": ("jig", "double jig", "gigue", "джиг~", "жиг~"),
    "slip-jig": ("slip jig", "slipjig", "слип-джиг~", "слип жиг~", "9/8"),
    "reel": ("reel", "рил~", "рилл~"),
    "hornpipe": ("hornpipe", "horn pipe", "хорнпайп~", "хорнпайпа", "sailor's hornpipe",
                 "матросск~ танец", "матросск~ танц~"),
    "strathspey": ("strathspey", "стратспей~", "стратспе~"),
    "air": ("air", "slow air", "эйр~", "lament", "плач~"),
    "chorale": ("chorale", "hymn", "гимн~", "хорал~", "psalm", "псалом", "псалм~"),
    "chinese-folk": ("chinese", "china", "chinese folk", "китайск~", "китай~"),
}

# Display names: English; Russian nominative, accusative; Russian gender ("m"/"f").
STYLE_LABELS: dict[str, tuple[str, str, str, str]] = {
    "folk": ("folk song", "народная песня", "народную песню", "f"),
    "ballad": ("ballad", "баллада", "балладу", "f"),
    "lullaby": ("lullaby", "колыбельная", "колыбельную", "f"),
    "waltz": ("waltz", "вальс", "вальс", "m"),
    "march": ("march", "марш", "марш", "m"),
    "jig": ("jig", "джига", "джигу", "f"),
    "slip-jig": ("slip jig", "слип-джига", "слип-джигу", "f"),
    "reel": ("reel", "рил", "рил", "m"),
    "hornpipe": ("hornpipe", "хорнпайп", "хорнпайп", "m"),
    "strathspey": ("strathspey", "стратспей", "стратспей", "m"),
    "air": ("slow air", "медленная мелодия", "медленную мелодию", "f"),
    "chorale": ("chorale", "хорал", "хорал", "m"),
    "chinese-folk": ("Chinese folk song", "китайская народная песня", "китайскую народную песню",
                     "f"),
}


def format_catalogue() -> str:
    """The catalogue as a plain-text table, for `isadei styles`."""
    header = ("id", "description", "meters", "tempo (bpm)", "form", "melody / chords / bass")
    rows = [header]
    for s in STYLES.values():
        low, high = s.tempo_range
        instruments = f"{s.melody_instrument} / {s.chord_instrument} / {s.bass_instrument}"
        if s.drums:
            instruments += " + drums"
        rows.append((s.id, s.description, ", ".join(s.meters),
                     f"{low}-{high} ({s.default_tempo})", s.form, instruments))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append("Tempo counts felt beats: a dotted quarter in 6/8 and 9/8, a half note in 2/2. "
                 "Default in brackets.")
    return "\n".join(lines)
