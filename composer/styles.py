"""The style catalogue: what each style sounds like and which real tunes teach it."""

from __future__ import annotations

from dataclasses import dataclass


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
    default_mode: str  # "major" | "minor"


STYLES: dict[str, Style] = {
    s.id: s
    for s in [
        Style("folk", "a German/European folk song with verses and a chorus", ("4/4", "3/4", "2/4"),
              (80, 132), 104, "song", 2, "acoustic guitar (nylon)", "boom-chick",
              "acoustic bass", "acoustic guitar (steel)", False, "major"),
        Style("ballad", "a story-telling ballad, slow and lyrical", ("3/4", "4/4"),
              (60, 96), 76, "song", 1, "flute", "arpeggio",
              "acoustic bass", "acoustic grand piano", False, "minor"),
        Style("lullaby", "a gentle cradle song", ("3/4", "6/8"),
              (50, 80), 63, "song", 1, "music box", "arpeggio",
              "cello", "celesta", False, "major"),
        Style("waltz", "a waltz: one-two-three, oom-pah-pah", ("3/4",),
              (84, 180), 144, "song", 1, "violin", "waltz",
              "tuba", "accordion", False, "major"),
        Style("march", "a march or quickstep, brisk and square", ("2/4", "6/8", "4/4"),
              (96, 126), 112, "dance", 2, "trumpet", "march",
              "tuba", "brass section", True, "major"),
        Style("jig", "an Irish double jig in 6/8", ("6/8",),
              (96, 126), 112, "dance", 2, "violin", "jig",
              "acoustic bass", "acoustic guitar (steel)", True, "major"),
        Style("slip-jig", "an Irish slip jig in 9/8", ("9/8",),
              (96, 126), 110, "dance", 3, "flute", "jig",
              "acoustic bass", "acoustic guitar (steel)", True, "major"),
        Style("reel", "an Irish/Scottish reel, fast and even", ("4/4", "2/2"),
              (96, 128), 112, "dance", 2, "violin", "reel",
              "acoustic bass", "acoustic guitar (steel)", True, "major"),
        Style("hornpipe", "a hornpipe with its dotted swing", ("4/4", "2/2"),
              (70, 96), 84, "dance", 2, "violin", "reel",
              "acoustic bass", "acoustic guitar (steel)", True, "major"),
        Style("strathspey", "a Scottish strathspey with snaps", ("4/4",),
              (60, 80), 68, "dance", 2, "violin", "reel",
              "cello", "acoustic grand piano", True, "major"),
        Style("air", "a slow Irish/Scottish air", ("3/4", "4/4", "6/8"),
              (50, 84), 66, "dance", 1, "flute", "arpeggio",
              "cello", "orchestral harp", False, "minor"),
        Style("chorale", "a four-part Bach-style chorale (hymn)", ("4/4", "3/4"),
              (56, 84), 72, "chorale", 4, "church organ", "chorale",
              "church organ", "church organ", False, "major"),
        Style("chinese-folk", "a Chinese folk song (pentatonic)", ("2/4", "4/4"),
              (60, 100), 76, "song", 1, "shakuhachi", "arpeggio",
              "cello", "koto", False, "major"),
    ]
}

DEFAULT_STYLE = "folk"


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
    "folk": ("folk", "folk song", "folksong", "folk tune", "folk music", "народн~", "фолк~",
             "фольклор~", "частушк~", "хоровод~"),
    "ballad": ("ballad", "баллад~", "romance", "романс~", "serenade", "серенад~", "love song",
               "песн~ о любви", "песн~ про любовь"),
    "lullaby": ("lullaby", "lullabies", "cradle song", "berceuse", "колыбельн~", "баю-бай",
                "баюшки", "баю-баюшки"),
    "waltz": ("waltz", "valse", "вальс~", "вальсок~", "вальсочек", "вальсочк~"),
    "march": ("march", "quickstep", "марш~", "маршик~"),
    "jig": ("jig", "double jig", "джиг~", "жиг~"),
    "slip-jig": ("slip jig", "slipjig", "слип-джиг~", "слип жиг~", "9/8"),
    "reel": ("reel", "рил~", "рилл~"),
    "hornpipe": ("hornpipe", "хорнпайп~", "хорнпайпа", "sailor's hornpipe", "матросск~ танец",
                 "матросск~ танц~"),
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
    lines.append("Tempo counts felt beats: a dotted quarter in 6/8 and 9/8. Default in brackets.")
    return "\n".join(lines)
