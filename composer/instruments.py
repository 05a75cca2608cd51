"""The General MIDI instruments Isadei plays, with the words people use for them.

Each instrument has its GM program (0-based), a range that is comfortable for a
*melody* on it (narrower than what the instrument can physically reach, so the
tunes sound idiomatic) and aliases in English and Russian.

Alias spelling: a trailing "~" on a Russian word stands for any case ending
("скрипк~" matches скрипка, скрипке, скрипку, скрипкой), because Russian speakers
write "сыграй на скрипке", not "скрипка".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Instrument:
    name: str  # General MIDI name, lowercase
    program: int  # General MIDI program number, 0-based
    low: int  # lowest comfortable melody pitch (MIDI number)
    high: int  # highest comfortable melody pitch
    label: str  # short English name for messages: "piano", "guitar"
    ru: str  # Russian name (nominative), for messages
    aliases: tuple[str, ...] = ()

    def in_range(self, pitch: int) -> bool:
        return self.low <= pitch <= self.high


_I = Instrument
INSTRUMENTS: dict[str, Instrument] = {
    i.name: i
    for i in [
        _I("acoustic grand piano", 0, 48, 96, "piano", "фортепиано",
           ("piano", "grand piano", "pianoforte", "фортепиано", "пианино", "роял~", "пиано")),
        _I("harpsichord", 6, 48, 89, "harpsichord", "клавесин", ("клавесин~",)),
        _I("electric piano 1", 4, 48, 91, "electric piano", "электропиано",
           ("electric piano", "e-piano", "rhodes", "электропиано", "электрическ~ пианино")),
        _I("celesta", 8, 60, 96, "celesta", "челеста", ("celeste", "челест~")),
        _I("glockenspiel", 9, 72, 103, "glockenspiel", "колокольчики", ("glock", "колокольчик~")),
        _I("music box", 10, 60, 96, "music box", "музыкальная шкатулка",
           ("musicbox", "шкатулк~", "музыкальн~ шкатулк~")),
        _I("vibraphone", 11, 53, 89, "vibraphone", "вибрафон", ("vibes", "вибрафон~")),
        _I("marimba", 12, 48, 91, "marimba", "маримба", ("маримб~",)),
        _I("xylophone", 13, 65, 96, "xylophone", "ксилофон", ("ксилофон~",)),
        _I("tubular bells", 14, 60, 77, "tubular bells", "колокола",
           ("bells", "chimes", "колокол~")),
        _I("church organ", 19, 48, 84, "church organ", "церковный орган",
           ("organ", "pipe organ", "орган~", "церковн~ орган~")),
        _I("accordion", 21, 53, 89, "accordion", "аккордеон",
           ("squeezebox", "аккордеон~", "баян~", "гармошк~", "гармон~")),
        _I("harmonica", 22, 60, 84, "harmonica", "губная гармошка",
           ("mouth organ", "blues harp", "губн~ гармошк~", "губн~ гармоник~")),
        _I("acoustic guitar (nylon)", 24, 48, 79, "guitar", "классическая гитара",
           ("guitar", "nylon guitar", "classical guitar", "spanish guitar", "гитар~",
            "классическ~ гитар~", "ukulele", "укулеле")),
        _I("acoustic guitar (steel)", 25, 48, 79, "steel-string guitar", "акустическая гитара",
           ("steel guitar", "acoustic guitar", "folk guitar", "акустическ~ гитар~")),
        _I("acoustic bass", 32, 28, 55, "double bass", "контрабас",
           ("bass", "double bass", "upright bass", "bass guitar", "contrabass", "контрабас~",
            "бас~", "бас-гитар~")),
        _I("violin", 40, 55, 91, "violin", "скрипка",
           ("fiddle", "скрипк~", "скрипочк~", "скрипач~", "erhu", "эрху")),
        _I("viola", 41, 48, 84, "viola", "альт", ("альт~",)),
        _I("cello", 42, 36, 76, "cello", "виолончель", ("violoncello", "виолончел~")),
        _I("orchestral harp", 46, 36, 91, "harp", "арфа", ("harp", "арф~")),
        _I("string ensemble 1", 48, 48, 88, "strings", "струнный оркестр",
           ("strings", "string orchestra", "string ensemble", "струнн~", "струнн~ оркестр~")),
        _I("choir aahs", 52, 48, 79, "choir", "хор", ("choir", "voices", "хор~")),
        _I("trumpet", 56, 55, 82, "trumpet", "труба",
           ("cornet", "bugle", "труб~", "горн", "корнет~")),
        _I("trombone", 57, 40, 72, "trombone", "тромбон", ("тромбон~",)),
        _I("tuba", 58, 28, 58, "tuba", "туба", ("туб~",)),
        _I("french horn", 60, 41, 77, "french horn", "валторна", ("horn", "валторн~")),
        _I("brass section", 61, 48, 82, "brass band", "духовой оркестр",
           ("brass", "brass band", "духов~ оркестр~", "медн~ духов~")),
        _I("alto sax", 65, 49, 81, "saxophone", "саксофон", ("sax", "saxophone", "саксофон~")),
        _I("oboe", 68, 58, 91, "oboe", "гобой", ("гобо~", "гобой")),
        _I("bassoon", 70, 34, 75, "bassoon", "фагот", ("фагот~",)),
        _I("clarinet", 71, 50, 89, "clarinet", "кларнет", ("кларнет~",)),
        _I("flute", 73, 60, 96, "flute", "флейта", ("флейт~", "dizi", "дицзы")),
        _I("recorder", 74, 60, 86, "recorder", "блокфлейта", ("блокфлейт~", "сопилк~", "свирел~")),
        _I("pan flute", 75, 60, 91, "pan flute", "пан-флейта",
           ("panflute", "pan pipes", "panpipes", "пан-флейт~", "флейт~ пана")),
        _I("shakuhachi", 77, 55, 84, "shakuhachi", "сякухати", ("сякухати", "шакухачи")),
        _I("whistle", 78, 62, 93, "tin whistle", "вистл",
           ("tin whistle", "penny whistle", "irish whistle", "вистл~", "дудочк~", "дудк~")),
        _I("ocarina", 79, 60, 89, "ocarina", "окарина", ("окарин~",)),
        _I("banjo", 105, 48, 79, "banjo", "банджо", ("банджо", "балалайк~")),
        _I("koto", 107, 48, 84, "koto", "кото", ("кото", "guzheng", "гучжэн~")),
        _I("kalimba", 108, 60, 88, "kalimba", "калимба", ("калимб~",)),
        _I("bagpipe", 109, 67, 81, "bagpipe", "волынка", ("bagpipes", "pipes", "волынк~")),
    ]
}

# Case endings a "~" in an alias stands for: nouns and adjectives, all genders and cases.
_RU_ENDINGS = (
    "ыми|ими|ами|ями|ого|его|ому|ему|ая|яя|ую|юю|ое|ее|ые|ие|ый|ий|ой|ей|ых|их|ым|им"
    "|ом|ем|ам|ям|ах|ях|ою|ею|а|я|у|ю|е|ы|и|о|ь"
)


def alias_pattern(alias: str) -> str:
    """A regex for one alias: whole words only, Russian case endings, English plurals.

    In an alias, a trailing "~" means "plus a Russian case ending" and a trailing "*"
    means "plus any ending" ("melanchol*"). Words may be joined by spaces or hyphens.
    Match it against lowercased text with "ё" written as "е".
    """
    words = []
    for word in alias.split():
        if word.endswith("~"):
            words.append(re.escape(word[:-1]) + f"(?:{_RU_ENDINGS})?")
        elif word.endswith("*"):
            words.append(re.escape(word[:-1]) + r"\w*")
        else:
            words.append(re.escape(word))
    body = r"[\s-]+".join(words)
    if alias[-1] not in "~*" and alias[-1].isascii() and alias[-1].isalpha():
        body += "(?:e?s)?"  # pianos, violins, brasses
    return rf"(?<![\w-]){body}(?![\w-])"


@cache
def _patterns() -> list[tuple[re.Pattern[str], Instrument]]:
    result = []
    for instrument in INSTRUMENTS.values():
        for alias in (instrument.name, *instrument.aliases):
            result.append((re.compile(alias_pattern(alias.lower())), instrument))
    return result


def normalise(text: str) -> str:
    """Lowercase, "ё" as "е": the form alias patterns are matched against."""
    return text.lower().replace("ё", "е")


def get_instrument(name: str) -> Instrument:
    """The instrument with this GM name or alias ("fiddle"); a clear error otherwise."""
    key = normalise(name).strip()
    if key in INSTRUMENTS:
        return INSTRUMENTS[key]
    for pattern, instrument in _patterns():
        if pattern.fullmatch(key):  # an alias: "piano", "fiddle", "скрипка"
            return instrument
    raise ValueError(f"unknown instrument {name!r}; choose one of: {', '.join(INSTRUMENTS)}")


def find_instrument(text: str) -> Instrument | None:
    """The first instrument named in free text ("a waltz on the violin", "на скрипке")."""
    text = normalise(text)
    best: tuple[int, int, Instrument] | None = None  # (start, -length, instrument)
    for pattern, instrument in _patterns():
        match = pattern.search(text)
        if match is None:
            continue
        # The earliest mention wins; at the same place the longest ("pan flute" over "flute").
        candidate = (match.start(), -(match.end() - match.start()), instrument)
        if best is None or candidate[:2] < best[:2]:
            best = candidate
    return best[2] if best else None
