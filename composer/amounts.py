"""Numbers in a request: tempo ("90 bpm", "быстро"), length ("2 минуты", "1:30", "short"),
seed ("seed 42", "#42"). Each reader sets its field and notes what it had to adjust, in the
request's language (`words`)."""

from __future__ import annotations

import re
from functools import cache

from composer.form import MAX_SECONDS, MIN_SECONDS
from composer.i18n import Words
from composer.instruments import alias_pattern
from composer.naming import style_name
from composer.styles import Style
from composer.wishes import TEMPO_WORDS

SEED_LIMIT = 2**32

# Length words, in seconds.
LENGTH_WORDS: list[tuple[int, tuple[str, ...]]] = [
    (20, ("very short", "tiny", "super short", "очень коротк~", "крошечн~", "совсем коротк~")),
    (300, ("very long", "really long", "очень длинн~", "очень долг~")),
    (45, ("short", "shorter", "brief", "коротк~", "короче", "небольш~",
          "маленьк~")),
    (180, ("long", "longer", "extended", "длинн~", "долг~", "подлиннее")),
]

NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "ninety": 90, "a couple of": 2, "couple of": 2, "a few": 3,
    "одну": 1, "одна": 1, "один": 1, "две": 2, "два": 2, "пару": 2, "три": 3, "четыре": 4,
    "пять": 5, "шесть": 6, "семь": 7, "восемь": 8, "девять": 9, "десять": 10,
    "пятнадцать": 15, "двадцать": 20, "тридцать": 30, "сорок": 40, "пятьдесят": 50,
    "девяносто": 90, "полторы": 1.5, "полтора": 1.5, "one and a half": 1.5, "half a": 0.5,
    "half an": 0.5, "half": 0.5,
}


@cache
def _regex(alias: str) -> re.Pattern[str]:
    return re.compile(alias_pattern(alias))


def first(text: str, aliases: tuple[str, ...]) -> re.Match[str] | None:
    """The earliest (then longest) match of any alias in text."""
    best = None
    for alias in aliases:
        match = _regex(alias).search(text)
        if match and (best is None or (match.start(), -match.end()) < (best.start(), -best.end())):
            best = match
    return best


def earliest(text: str, table: list[tuple[object, tuple[str, ...]]]) -> tuple[int, object] | None:
    """(position, value) of the table row whose alias comes first in text."""
    best = None
    for value, aliases in table:
        found = first(text, aliases)
        if found and (best is None or found.start() < best[0]):
            best = (found.start(), value)
    return best


_NUMBER = r"(?<![\w.,])(-?\d{1,7}(?:[.,]\d{1,3})?)(?![\d])"
_TEMPO_AFTER = re.compile(
    _NUMBER + r"\s*(?:bpm|b\.p\.m\.?|beats? (?:per|a) min\w*|уд(?:ар\w*)?\.?\s*(?:в|/)\s*мин\w*"
    r"|ударов|бпм)(?!\w)"
)
_TEMPO_BEFORE = re.compile(
    r"(?<!\w)(?:tempo|темп\w*|bpm|♩)\s*(?:of|at|=|:|в|-)?\s*(-?\d{1,7})(?!\d)"
)


def parse_tempo(low: str, style: Style, request, words: Words) -> str:
    """Set the tempo; return the text without the tempo words (they hold "minute")."""
    lo, hi = style.tempo_range
    match = _TEMPO_AFTER.search(low) or _TEMPO_BEFORE.search(low)
    if match:
        asked = round(float(match[1].replace(",", ".")))
        tempo = min(max(asked, lo), hi)
        if tempo != asked:
            request.notes.append(words(
                "tempo {asked} bpm is outside the {style} range {low}–{high}, so {tempo} bpm",
                asked=asked, style=style_name(style.id, words.lang), low=lo, high=hi, tempo=tempo))
        request.tempo_bpm = tempo
        return low[: match.start()] + " " * (match.end() - match.start()) + low[match.end():]
    best = earliest(low, TEMPO_WORDS)
    if best is not None:
        request.tempo_bpm = tempo_at(style, best[1])
    return low


def tempo_at(style: Style, place: float | None) -> int:
    """The tempo at `place` in the style's range (0 slowest, 1 fastest; None: its default)."""
    lo, hi = style.tempo_range
    return style.default_tempo if place is None else round(lo + place * (hi - lo))


_MINUTES = r"(?:minutes?|mins?\.?|минут\w*|мин\.?)"
_SECONDS = r"(?:seconds?|secs?\.?|секунд\w*|сек\.?)"
_HOURS = r"(?:hours?|hrs?|час\w*)"
_AMOUNT = (
    r"(?P<amount>-?\d{1,7}(?:[.,]\d{1,3})?|"
    + "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
    + ")"
)
_DURATION = re.compile(
    r"(?<![\w.,])" + _AMOUNT + r"(?P<half>\s+(?:с половиной|and a half))?"
    + r"[\s-]*(?P<unit>" + _MINUTES + "|" + _SECONDS + "|" + _HOURS
    + r")(?![\w])(?P<half_after>\s+(?:and a half|с половиной)(?!\w))?"
)
# Russian puts the number last for "about": "минуты на две", "секунд на тридцать".
_DURATION_INVERTED = re.compile(
    r"(?<!\w)(?P<unit>" + _MINUTES + "|" + _SECONDS + r")\s+на\s+" + _AMOUNT + r"(?!\w)"
)
_CLOCK = re.compile(r"(?<![\w:.])(\d{1,2}):([0-5]\d)(?![\w:])")
_HALF_MINUTE = re.compile(r"(?<!\w)пол[\s-]?минуты")
_HALF_HOUR = re.compile(r"(?<!\w)пол[\s-]?часа(?!\w)")
_ONE_MINUTE = re.compile(r"(?<!\w)(?<!в )(?:минуту|минутку|минутн\w*|minute-long)(?!\w)")


def parse_length(low: str, request, words: Words) -> None:
    seconds = _length_seconds(low)
    if seconds is None:
        return
    length = round(min(max(seconds, MIN_SECONDS), MAX_SECONDS))
    if abs(length - seconds) > 0.5:
        request.notes.append(words(
            "length {asked} is outside {shortest}–{longest} s, so {length} s",
            asked=_format_seconds(seconds, words), shortest=MIN_SECONDS, longest=MAX_SECONDS,
            length=length))
    request.length_seconds = length


def _length_seconds(low: str) -> float | None:
    inverted = _DURATION_INVERTED.search(low)
    durations = list(_DURATION.finditer(low))
    if inverted and (not durations or inverted.start() < durations[0].start()):
        return _duration_value(inverted)
    if durations:
        first = durations[0]
        total = _duration_value(first)
        # "2 minutes 30 seconds", "2 мин 30 сек": add the seconds that follow the minutes.
        if len(durations) > 1 and re.fullmatch(r"[\s,]*(?:and|и)?\s*",
                                                low[first.end(): durations[1].start()]):
            total += _duration_value(durations[1])
        return total
    clock = _CLOCK.search(low)
    if clock:
        return int(clock[1]) * 60 + int(clock[2])
    if _HALF_MINUTE.search(low):
        return 30
    if _HALF_HOUR.search(low):
        return 1800  # past the longest song: the note says so
    if re.search(r"(?<!\w)минут[ауы]? с половиной(?!\w)", low):
        return 90
    if _ONE_MINUTE.search(low):
        return 60
    best = earliest(low, LENGTH_WORDS)
    return None if best is None else best[1]


def _duration_value(match: re.Match[str]) -> float:
    amount = match["amount"]
    number = NUMBER_WORDS.get(amount)
    value = float(amount.replace(",", ".")) if number is None else float(number)
    if match.groupdict().get("half") or match.groupdict().get("half_after"):
        value += 0.5
    unit = match["unit"]
    if re.fullmatch(_HOURS, unit):
        return value * 3600
    if re.fullmatch(_MINUTES, unit):
        return value * 60
    return value


def _format_seconds(seconds: float, words: Words) -> str:
    if abs(seconds) >= 3600 and seconds % 3600 == 0:
        return words("{hours} h", hours=seconds / 3600)
    if abs(seconds) >= 60 and seconds % 60 == 0:
        return words("{minutes} min", minutes=seconds / 60)
    return words("{seconds} s", seconds=seconds)


_SEED = re.compile(
    r"(?:(?<!\w)(?:seed|сид|зерно|зерном)\s*(?:=|:|#|-|is)?\s*|(?<![\w#])#\s?)"
    r"-?(\d{1,30})(?!\d)"
)


def parse_seed(low: str, request, words: Words) -> None:
    match = _SEED.search(low)
    if match is None:
        return
    seed = int(match[1])
    if seed >= SEED_LIMIT:
        request.notes.append(words("seed {seed} is too large, so {folded}", seed=str(seed),
                                   folded=str(seed % SEED_LIMIT)))
        seed %= SEED_LIMIT
    request.seed = seed
