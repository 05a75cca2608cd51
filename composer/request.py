"""What the user asked for, and the parser that turns free text into it.

`parse` reads English and Russian as people write it ("сыграй грустный вальсок на
скрипке", "a happy jig in D, fast, 2 min, seed 42"). It is forgiving and never
raises: what it cannot use it leaves at the default and says so in `notes`.

Matching works on lowercased text with "ё" as "е", through the alias patterns of
composer.instruments ("~" = any Russian case ending, "*" = any ending), so
"грустный/грустную/грустной вальс/вальса" all count.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field, fields
from functools import cache

from composer.form import MAX_SECONDS, MIN_SECONDS
from composer.instruments import alias_pattern, find_instrument, get_instrument, normalise
from composer.styles import DEFAULT_STYLE, STYLE_ALIASES, STYLE_LABELS, STYLES, Style

TEXT_LIMIT = 500  # characters of the original words kept in `SongRequest.text`
PARSE_LIMIT = 2000  # characters read at all: nobody hides the key at character 9,000
SEED_LIMIT = 2**32


@dataclass
class SongRequest:
    style: str = DEFAULT_STYLE
    mode: str | None = None  # "major" | "minor" | None (the style's default)
    key: str | None = None  # tonic: "D", "F#", "Bb"
    tempo_bpm: int | None = None
    length_seconds: int | None = None
    instrument: str | None = None  # General MIDI instrument name
    seed: int | None = None
    notes: list[str] = field(default_factory=list)  # what was not understood or adjusted
    text: str = ""  # the original words, for titles and logs

    def to_json(self) -> dict:
        """The `isadei parse --json` contract (DESIGN.md)."""
        data = asdict(self)
        data.pop("text")
        return data

    @classmethod
    def from_json(cls, data: dict) -> SongRequest:
        """The request `to_json` wrote (a job record may add "text"); unknown keys are ignored,
        so a record written by a newer version still reads."""
        known = {f.name for f in fields(cls)}
        request = cls(**{k: v for k, v in data.items() if k in known})
        request.notes = list(request.notes or [])
        return request


def longer_length(seconds: float) -> int:
    """A length twice `seconds`, at least a minute, at most the longest song we compose."""
    return int(min(MAX_SECONDS, max(60, 2 * float(seconds))))


# --- vocabulary -----------------------------------------------------------------------------
# Weights decide between several style words in one request: a named style beats a
# genre we map, which beats a hint ("a folk waltz" is a waltz, "a waltz to dance to" too).
NAMED, FOLK_WORD, MAPPED, HINT = 3, 2, 2, 1

# Genres we do not have, the closest style we do, and a mood that goes with it.
GENRES: list[tuple[str, str, str | None, tuple[str, ...]]] = [
    # (name in the note, style, mode, aliases)
    ("rock", "march", None, ("rock", "rock'n'roll", "rock and roll", "рок", "рока", "року",
                             "роком", "рок-н-ролл~")),
    ("metal", "march", "minor", ("metal", "heavy metal", "метал~", "металл~")),
    ("punk", "reel", None, ("punk", "панк~")),
    ("pop", "folk", None, ("pop", "pop song", "k-pop", "j-pop", "попс~", "поп", "поп-музык~")),
    ("jazz", "hornpipe", None, ("jazz", "swing", "джаз~", "джазов~", "свинг~")),
    ("blues", "ballad", "minor", ("blues", "блюз~", "блюзов~")),
    ("soul", "ballad", None, ("soul music", "r&b", "rnb", "соул", "ритм-н-блюз~")),
    ("funk", "hornpipe", None, ("funk", "funky", "фанк~")),
    ("electronic music", "reel", None,
     ("techno", "edm", "house music", "trance", "dubstep", "drum and bass", "electronic",
      "electro", "техно", "хаус~", "транс", "дабстеп~", "электронн~ музык~", "электроник~")),
    ("disco", "reel", None, ("disco", "диско")),
    ("hip-hop", "march", None, ("hip-hop", "hip hop", "hiphop", "rap", "хип-хоп~", "рэп~",
                                "реп")),
    ("reggae", "folk", None, ("reggae", "регги")),
    ("country", "folk", None, ("country", "кантри")),
    ("bluegrass", "reel", None, ("bluegrass", "блюграсс~")),
    ("classical music", "chorale", None,
     ("classical music", "baroque", "классик~", "классическ~ музык~", "барокко")),
    ("opera", "ballad", None, ("opera", "aria", "опер~", "ари~")),
    ("gospel", "chorale", None, ("gospel", "госпел~", "спиричуэлс")),
    ("tango", "march", "minor", ("tango", "танго")),
    ("polka", "march", None, ("polka", "польк~")),
    ("mazurka", "waltz", None, ("mazurka", "мазурк~")),
    ("minuet", "waltz", None, ("minuet", "менуэт~")),
    ("Latin music", "reel", None, ("latin", "salsa", "samba", "bossa nova", "cumbia", "сальс~",
                                   "самб~", "босса-нов~", "латин~")),
    ("flamenco", "air", "minor", ("flamenco", "фламенко")),
    ("ambient", "air", None, ("ambient", "lo-fi", "lofi", "chillout", "эмбиент~", "лоуфай")),
    ("chiptune", "reel", None, ("chiptune", "8-bit", "video game", "восьмибитн~")),
    ("Japanese music", "chinese-folk", None, ("japanese", "japan", "anime", "японск~", "аниме")),
    ("Korean music", "chinese-folk", None, ("korean", "корейск~")),
    ("chanson", "ballad", None, ("chanson", "шансон~", "бардовск~", "авторск~ песн~")),
]
SHANTY = ("sea shanty", "shanty", "shanties", "шанти", "морск~ песн~", "пиратск~ песн~")

# Words that hint at a style without naming it.
HINTS: list[tuple[str, tuple[str, ...]]] = [
    ("reel", ("dance", "dancing", "dance to", "танц*", "потанц*", "пляс*", "celtic", "кельтск~")),
    ("lullaby", ("sleep*", "bedtime", "good night", "goodnight", "спать", "усн*", "засн*",
                 "усып*", "на ночь", "спокойной ночи", "baby", "малыш*", "младен*")),
    ("jig", ("irish", "ирландск~")),
    ("strathspey", ("scottish", "scots", "шотландск~")),
    ("chorale", ("church", "церковн~", "bach", "бах~", "prayer", "молитв~", "christmas",
                 "carol*", "рождеств*", "choral", "хоров~")),
    ("march", ("military", "воен*", "soldier*", "солдат*", "parade", "парад*")),
    ("waltz", ("wedding", "свадьб*", "свадеб*")),
    ("hornpipe", ("sailor*", "матрос*", "sea", "морск~", "pirate*", "пират*")),
    ("chinese-folk", ("pentatonic*", "пентатоник*", "oriental", "восточн~", "asian",
                      "азиатск~")),
    ("folk", ("song*", "песн*", "песен*", "tune*", "мелоди*", "music", "музык*", "melody",
              "piece*", "пьес~", "произведени~")),
]

MINOR_WORDS = (
    "minor", "минор~", "минорн~", "sad", "sadder", "saddest", "sadly", "melanchol*", "gloomy",
    "dark", "darker", "mournful", "sorrow*", "lonely", "tragic", "moody", "wistful", "nostalgic",
    "грустн~", "грусть", "печальн~", "печаль", "тоскл*", "тоск~", "меланхол*", "мрачн~",
    "трагич*", "скорбн~", "ностальг*", "тревожн~",
)
MAJOR_WORDS = (
    "major", "мажор~", "мажорн~", "happy", "happier", "cheerful", "joyful", "joyous", "merry",
    "bright", "upbeat", "sunny", "fun", "funny", "playful", "uplifting", "jolly", "festive",
    "весел~", "веселеньк~", "веселее", "радостн~", "радост~", "бодр~", "светл~", "позитивн~",
    "жизнерадостн~", "солнечн~", "задорн~", "игрив~", "праздничн~",
)
# Mode words proper: they outrank mood words ("a happy song in minor" is in minor).
MINOR_NAMES = ("minor", "минор~", "минорн~")
MAJOR_NAMES = ("major", "мажор~", "мажорн~")

# Tempo words: where in the style's tempo range they land (0 = slowest, 1 = fastest).
TEMPO_WORDS: list[tuple[float | None, tuple[str, ...]]] = [
    (1.0, ("very fast", "super fast", "really fast", "as fast as", "presto", "очень быстр~",
           "очень быстро", "как можно быстрее", "бешен~")),
    (0.0, ("very slow", "really slow", "super slow", "largo", "grave", "очень медленн~",
           "совсем медленн~")),
    (0.8, ("fast", "faster", "quick", "quickly", "rapid", "lively", "energetic", "brisk",
           "allegro", "vivace", "быстр~", "быстрее", "побыстрее", "живеньк~", "энергичн~",
           "задорн~", "стремительн~", "резв~", "бодр~")),
    (0.2, ("slow", "slower", "slowly", "adagio", "медленн~", "медленно", "помедленн*",
           "неспешн~", "нетороплив~")),
    (0.3, ("calm", "relaxed", "relaxing", "gentle", "peaceful", "andante", "спокойн~", "нежн~",
           "плавн~", "умиротвор*")),
    (None, ("moderate", "medium", "moderato", "normal tempo", "умеренн~", "средн~ темп~")),
]

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

# Respellings into the key names every part of Isadei uses (composer.music.KEY_NAMES).
RESPELL = {"D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb", "Cb": "B", "Fb": "E", "E#": "F",
           "B#": "C"}
RU_NOTES = {"до": "C", "ре": "D", "ми": "E", "фа": "F", "соль": "G", "ля": "A", "си": "B"}


# --- matching helpers -----------------------------------------------------------------------

@cache
def _regex(alias: str) -> re.Pattern[str]:
    return re.compile(alias_pattern(alias))


def _first(text: str, aliases: tuple[str, ...]) -> re.Match[str] | None:
    """The earliest (then longest) match of any alias in text."""
    best = None
    for alias in aliases:
        match = _regex(alias).search(text)
        if match and (best is None or (match.start(), -match.end()) < (best.start(), -best.end())):
            best = match
    return best


def clean_text(text: object, limit: int = TEXT_LIMIT) -> str:
    """Printable text: no control or format characters, single spaces, at most `limit` chars."""
    text = str(text)[: limit * 4]
    text = unicodedata.normalize("NFKC", text)
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(text.split())[:limit].strip()


def _plain_signs(text: str) -> str:
    """One kind of dash and apostrophe; musical sharps and flats as "#" and "b"."""
    for dash in "‐‑‒–—−":
        text = text.replace(dash, "-")
    return text.replace("’", "'").replace("♯", "#").replace("♭", "b")


# --- the parser -----------------------------------------------------------------------------

def parse(text: str) -> SongRequest:
    """Understand a free-text request in English or Russian; never raises."""
    try:
        return _parse(text)
    except Exception as error:  # a parser bug must not cost the user their song
        request = SongRequest(text=clean_text(text) if isinstance(text, str) else "")
        request.notes.append(f"could not read the request ({type(error).__name__})")
        return request


def _parse(text: str) -> SongRequest:
    raw = text if isinstance(text, str) else str(text)
    words = clean_text(raw, PARSE_LIMIT)
    request = SongRequest(text=clean_text(raw, TEXT_LIMIT))
    if len(raw) > PARSE_LIMIT * 2 or len(words) >= PARSE_LIMIT:
        request.notes.append(f"only the first {PARSE_LIMIT} characters were read")
    cased = _plain_signs(words)  # letter case matters for keys: "Bb", "Am"
    low = normalise(cased)

    style = _parse_style(low, words, request)
    _parse_mode_and_key(low, cased, request)
    low = _parse_tempo(low, style, request)  # takes "60 ударов в минуту" out of the text
    _parse_length(low, request)
    _parse_seed(low, request)
    instrument = find_instrument(low)
    if instrument is not None:
        request.instrument = instrument.name
    return request



def _parse_style(low: str, words: str, request: SongRequest) -> Style:
    # (weight, -position, style, note, mode): the heaviest, then the earliest mention wins.
    found: list[tuple[int, int, str, str | None, str | None]] = []
    for style_id, aliases in STYLE_ALIASES.items():
        match = _first(low, aliases)
        if match:
            weight = FOLK_WORD if style_id == "folk" else NAMED
            found.append((weight, -match.start(), style_id, None, None))
    for name, style_id, mode, aliases in GENRES:
        match = _first(low, aliases)
        if match:
            label = STYLE_LABELS[style_id][0]
            note = f"I don't know {name} yet, so here is {_article(label)} {label} instead"
            found.append((MAPPED, -match.start(), style_id, note, mode))
    match = _first(low, SHANTY)
    if match:
        note = "no sea shanties yet, so here is a hornpipe, the sailors' dance"
        found.append((MAPPED, -match.start(), "hornpipe", note, None))
    for style_id, aliases in HINTS:
        match = _first(low, aliases)
        if match:
            found.append((HINT, -match.start(), style_id, None, None))

    if not found:
        request.style = DEFAULT_STYLE
        if not words:
            request.notes.append("empty request, so here is a folk song")
        else:
            request.notes.append("no style recognised, so here is a folk song")
        return STYLES[DEFAULT_STYLE]
    _, _, style_id, note, mode = max(found, key=lambda f: (f[0], f[1]))
    if note:
        request.notes.append(note)
    request.mode = mode  # blues and tango are minor unless the words say otherwise
    request.style = style_id
    return STYLES[style_id]


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


# --- mode and key ---------------------------------------------------------------------------

_KEY_EN = re.compile(
    r"(?<![\w#'-])(?P<letter>[A-Ga-g])"
    r"(?P<acc>\s?-?\s?(?:sharp|flat)(?![a-z])|#|b(?![A-Za-z]))?"
    r"(?:\s?-?\s?(?P<mode>major|minor|maj|min|m)(?![A-Za-z]))?"
    r"(?![\w#])",
    re.IGNORECASE,
)
_KEY_RU = re.compile(
    r"(?<![\w-])(?P<note>до|ре|ми|фа|соль|ля|си)"
    r"(?:\s?-?\s?(?P<acc>диез|бемоль))?"
    r"(?:\s?-?\s?(?P<mode>мажор\w*|минор\w*))?"
    r"(?![\w-])"
)
_STRONG_CONTEXT = re.compile(r"(?:key of|key|keys|tonality|тональност\w*)\s*[:=]?\s*$")
_WEAK_CONTEXT = re.compile(r"(?:^|\s)(?:in|в)\s*$")


def _parse_mode_and_key(low: str, cased: str, request: SongRequest) -> None:
    named = _first(low, MINOR_NAMES), _first(low, MAJOR_NAMES)
    mood = _first(low, MINOR_WORDS), _first(low, MAJOR_WORDS)
    for minor, major in (named, mood):  # mode names outrank mood words
        if minor or major:
            if minor and (not major or minor.start() < major.start()):
                request.mode = "minor"
            else:
                request.mode = "major"
            break

    key = _find_key_en(cased) or _find_key_ru(low)
    if key is None:
        return
    name, mode = key
    spelled = RESPELL.get(name, name)
    if spelled != name:
        request.notes.append(f"{name} is written {spelled}")
    request.key = spelled
    if mode:
        request.mode = mode


def _find_key_en(text: str) -> tuple[str, str | None] | None:
    for match in _KEY_EN.finditer(text):
        letter, acc, mode = match["letter"], (match["acc"] or ""), (match["mode"] or "")
        before = text[: match.start()].lower()
        strong = bool(_STRONG_CONTEXT.search(before))
        weak = bool(_WEAK_CONTEXT.search(before))
        sentence_start = not before.strip() or before.rstrip()[-1:] in ".!?"
        # "a"/"A" is mostly the English article: "a minor waltz", "a flat tune", "A sad song".
        article = letter.lower() == "a" and (letter == "a" or sentence_start) and mode != "m"
        acc_sign = acc.strip(" -").lower()
        if mode == "m" and (letter.islower() or acc_sign in ("sharp", "flat")):
            continue  # "Am", "F#m" only as chord-style names
        if article and not strong and acc_sign != "#" and not (weak and mode):
            continue
        if acc_sign == "b" and letter.islower() and not (strong or weak or mode):
            continue
        if not acc_sign and not mode and not (strong or weak):
            continue  # a bare letter needs "in" or "key": "in D"
        if not acc_sign and not mode and weak and letter == "a":
            continue  # "in a hurry"
        if article and re.match(r"\s+key", text[match.end():], re.IGNORECASE):
            continue  # "in a minor key": the article, then a mode
        if mode.lower() in ("min", "maj") and not (strong or weak) and letter.islower():
            continue
        accidental = "#" if acc_sign in ("#", "sharp") else "b" if acc_sign in ("b", "flat") else ""
        mode_name = None
        if mode:
            mode_name = "major" if mode.lower().startswith("maj") else "minor"
        return letter.upper() + accidental, mode_name
    return None


def _find_key_ru(text: str) -> tuple[str, str | None] | None:
    for match in _KEY_RU.finditer(text):
        acc, mode = match["acc"], match["mode"]
        strong = bool(_STRONG_CONTEXT.search(text[: match.start()]))
        if not (acc or mode or strong):
            continue  # "до 2 минут" is not C
        accidental = {"диез": "#", "бемоль": "b"}.get(acc or "", "")
        mode_name = None
        if mode:
            mode_name = "major" if mode.startswith("мажор") else "minor"
        return RU_NOTES[match["note"]] + accidental, mode_name
    return None


# --- tempo, length, seed --------------------------------------------------------------------

_NUMBER = r"(?<![\w.,])(-?\d{1,7}(?:[.,]\d{1,3})?)(?![\d])"
_TEMPO_AFTER = re.compile(
    _NUMBER + r"\s*(?:bpm|b\.p\.m\.?|beats? (?:per|a) min\w*|уд(?:ар\w*)?\.?\s*(?:в|/)\s*мин\w*"
    r"|ударов|бпм)(?!\w)"
)
_TEMPO_BEFORE = re.compile(
    r"(?<!\w)(?:tempo|темп\w*|bpm|♩)\s*(?:of|at|=|:|в|-)?\s*(-?\d{1,7})(?!\d)"
)


def _parse_tempo(low: str, style: Style, request: SongRequest) -> str:
    """Set the tempo; return the text without the tempo words (they hold "minute")."""
    lo, hi = style.tempo_range
    match = _TEMPO_AFTER.search(low) or _TEMPO_BEFORE.search(low)
    if match:
        asked = round(float(match[1].replace(",", ".")))
        tempo = min(max(asked, lo), hi)
        if tempo != asked:
            request.notes.append(
                f"tempo {asked} bpm is outside the {style.id} range {lo}-{hi}, so {tempo} bpm"
            )
        request.tempo_bpm = tempo
        return low[: match.start()] + " " * (match.end() - match.start()) + low[match.end():]
    best = None
    for place, aliases in TEMPO_WORDS:
        found = _first(low, aliases)
        if found and (best is None or found.start() < best[0]):
            best = (found.start(), place)
    if best is not None:
        place = best[1]
        request.tempo_bpm = style.default_tempo if place is None else round(lo + place * (hi - lo))
    return low


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
_ONE_MINUTE = re.compile(r"(?<!\w)(?<!в )(?:минуту|минутку|минутн\w*|minute-long)(?!\w)")


def _parse_length(low: str, request: SongRequest) -> None:
    seconds = _length_seconds(low)
    if seconds is None:
        return
    length = round(min(max(seconds, MIN_SECONDS), MAX_SECONDS))
    if abs(length - seconds) > 0.5:
        request.notes.append(
            f"length {_format_seconds(seconds)} is outside {MIN_SECONDS}-{MAX_SECONDS} s, "
            f"so {length} s"
        )
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
    if re.search(r"(?<!\w)минут[ауы]? с половиной(?!\w)", low):
        return 90
    if _ONE_MINUTE.search(low):
        return 60
    best = None
    for seconds, aliases in LENGTH_WORDS:
        found = _first(low, aliases)
        if found and (best is None or found.start() < best[0]):
            best = (found.start(), seconds)
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


def _format_seconds(seconds: float) -> str:
    if abs(seconds) >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if abs(seconds) >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


_SEED = re.compile(
    r"(?:(?<!\w)(?:seed|сид|зерно|зерном)\s*(?:=|:|#|-|is)?\s*|(?<![\w#])#\s?)"
    r"-?(\d{1,30})(?!\d)"
)


def _parse_seed(low: str, request: SongRequest) -> None:
    match = _SEED.search(low)
    if match is None:
        return
    seed = int(match[1])
    if seed >= SEED_LIMIT:
        request.notes.append(f"seed {seed} is too large, so {seed % SEED_LIMIT}")
        seed %= SEED_LIMIT
    request.seed = seed


# --- describing a request ---------------------------------------------------------------------

RU_KEY_NAMES = {"C": "до", "C#": "до-диез", "Db": "ре-бемоль", "D": "ре", "Eb": "ми-бемоль",
                "E": "ми", "F": "фа", "F#": "фа-диез", "G": "соль", "Ab": "ля-бемоль", "A": "ля",
                "Bb": "си-бемоль", "B": "си"}
RU_MOODS = {  # (mode, gender, accusative) -> adjective
    ("minor", "m", False): "грустный", ("minor", "f", False): "грустная",
    ("minor", "m", True): "грустный", ("minor", "f", True): "грустную",
    ("major", "m", False): "весёлый", ("major", "f", False): "весёлая",
    ("major", "m", True): "весёлый", ("major", "f", True): "весёлую",
}


def _instrument_of(request: SongRequest):
    if not request.instrument:
        return None
    try:
        return get_instrument(request.instrument)
    except ValueError:
        return None


def describe(request: SongRequest) -> str:
    """A short English phrase: "a sad waltz in D minor for violin"."""
    style = STYLES.get(request.style)
    label = STYLE_LABELS.get(request.style, (request.style,))[0]
    default_mode = style.default_mode if style else "major"
    mode = request.mode or default_mode
    mood = ""
    if request.mode and request.mode != default_mode:  # say the mood only when it is news
        mood = "sad " if request.mode == "minor" else "cheerful "
    phrase = f"{mood}{label}"
    phrase = f"{_article(phrase)} {phrase}"
    if request.key:
        phrase += f" in {request.key} {mode}"
    instrument = _instrument_of(request)
    if instrument:
        phrase += f" for {instrument.label}"
    return phrase


def describe_ru(request: SongRequest, accusative: bool = False) -> str:
    """The same in Russian: "грустный вальс в ре миноре (скрипка)".

    accusative=True gives the form after "сочиняю": "грустную колыбельную".
    """
    style = STYLES.get(request.style)
    labels = STYLE_LABELS.get(request.style)
    if labels is None:
        phrase = request.style
        gender = "m"
    else:
        _, nominative, accusative_form, gender = labels
        phrase = accusative_form if accusative else nominative
    default_mode = style.default_mode if style else "major"
    mode = request.mode or default_mode
    if request.mode and request.mode != default_mode:
        phrase = f"{RU_MOODS[(request.mode, gender, accusative)]} {phrase}"
    if request.key:
        key = RU_KEY_NAMES.get(request.key, request.key)
        phrase += f" в {key} {'миноре' if mode == 'minor' else 'мажоре'}"
    instrument = _instrument_of(request)
    if instrument:
        phrase += f" ({instrument.ru})"
    return phrase
