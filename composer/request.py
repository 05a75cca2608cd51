"""What the user asked for, and the parser that turns free text into it.

`parse` reads English and Russian as people write it ("сыграй грустный вальсок на
скрипке", "a happy jig in D, fast, 2 min, seed 42", "something for my daughter's birthday").
It is forgiving and never raises: what it cannot use it leaves at the default, and what it
chose or adjusted it says in `notes`, in the request's language.

Matching works on lowercased text with "ё" as "е", through the alias patterns of
composer.instruments ("~" = any Russian case ending, "*" = any ending), so
"грустный/грустную/грустной вальс/вальса" all count. The vocabulary is composer/wishes.py;
numbers are composer/amounts.py; names in the user's language are composer/naming.py.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import asdict, dataclass, field, fields

from composer.amounts import SEED_LIMIT, first, parse_length, parse_seed, parse_tempo, tempo_at
from composer.form import MAX_SECONDS
from composer.i18n import SOURCE, Words, script_language, words_for
from composer.instruments import INSTRUMENTS, Instrument, alias_pattern, normalise
from composer.music import SOLFEGE_LETTERS
from composer.naming import ACCUSATIVE, NOMINATIVE, tempo_word
from composer.naming import describe as describe_in
from composer.styles import DEFAULT_STYLE, STYLE_ALIASES, STYLES, Style
from composer.tokens import METERS
from composer.wishes import (
    ACCOMPANIMENT_CUES,
    CHORDAL,
    EMOJI_WORDS,
    FOLK_WORD,
    HINT,
    HINTS,
    MAJOR_WORDS,
    MAPPED,
    METER_WORDS,
    MINOR_WORDS,
    MODE_NAMES,
    NAMED,
    PLAIN_WORD,
    SLOW_PLACE,
    SLOW_TUNE_OF_HINT,
    TEMPO_WORDS,
    WISHES,
    Wish,
)

# A word this close to a style's name (difflib's ratio) names it: "lullabye", "walz", "jigg",
# "strathspay", "вальц" (0.8-0.93), but not "real" (reel, 0.75), "chorus" (chorale, 0.77).
MISSPELT_CUTOFF = 0.8
MISSPELT_MIN_LETTERS = 4
STYLE_WORDS = {alias.rstrip("~*"): style for style, aliases in STYLE_ALIASES.items()
               for alias in aliases if alias.rstrip("~*").isalpha()}
TEXT_LIMIT = 500  # characters of the original words kept in `SongRequest.text`
PARSE_LIMIT = 2000  # characters read at all: nobody hides the key at character 9,000
__all__ = ["SEED_LIMIT", "SongRequest", "clean_text", "describe", "describe_ru", "parse"]


@dataclass
class SongRequest:
    style: str = DEFAULT_STYLE
    mode: str | None = None  # composer.music.MODES, or None (the style's choice)
    key: str | None = None  # tonic: "D", "F#", "Bb"
    meter: str | None = None  # "3/4", or None (the style's choice)
    tempo_bpm: int | None = None
    length_seconds: int | None = None
    instrument: str | None = None  # General MIDI name of the melody instrument
    accompaniment: str | None = None  # General MIDI name of the chords, when asked for
    seed: int | None = None
    notes: list[str] = field(default_factory=list)  # what was chosen, not understood, adjusted
    text: str = ""  # the original words, for titles and logs
    lang: str | None = None  # the language of the notes and of the song's words ("ru")
    # A user's own tune to build the song around: what `isadei listen --json` prints.
    # It travels with the request (job records, the queue), so nothing else carries it.
    tune: dict | None = None

    def to_json(self) -> dict:
        """The `isadei parse --json` contract (DESIGN.md); "tune" only when there is one."""
        data = asdict(self)
        data.pop("text")
        data.pop("lang")
        if data["tune"] is None:
            data.pop("tune")
        return data

    @classmethod
    def from_json(cls, data: dict) -> SongRequest:
        """The request `to_json` wrote (a job record may add "text" and "lang"); unknown keys
        are ignored, so a record written by a newer version still reads."""
        known = {f.name for f in fields(cls)}
        request = cls(**{k: v for k, v in data.items() if k in known})
        request.notes = list(request.notes or [])
        return request


def longer_length(seconds: float) -> int:
    """A length twice `seconds`, at least a minute, at most the longest song we compose."""
    return int(min(MAX_SECONDS, max(60, 2 * float(seconds))))


def describe(request: SongRequest, lang: str | None = None) -> str:
    """A short phrase: "a sad waltz in D minor for violin" (composer.naming.describe)."""
    return describe_in(request, lang or SOURCE)


def describe_ru(request: SongRequest, accusative: bool = False) -> str:
    """The same in Russian; accusative=True gives the form after "сочиняю"."""
    return describe_in(request, "ru", ACCUSATIVE if accusative else NOMINATIVE)


def clean_text(text: object, limit: int = TEXT_LIMIT) -> str:
    """Printable text: no control or format characters, single spaces, at most `limit` chars."""
    text = str(text)[: limit * 4]
    text = unicodedata.normalize("NFKC", text)
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(text.split())[:limit].strip()


def _plain_signs(text: str) -> str:
    """One kind of dash and apostrophe; musical sharps and flats as "#" and "b"; emoji as
    the words they stand for."""
    for dash in "‐‑‒–—−":
        text = text.replace(dash, "-")
    for emoji, word in EMOJI_WORDS.items():
        text = text.replace(emoji, f" {word} ")
    return text.replace("’", "'").replace("♯", "#").replace("♭", "b")


# --- the parser -----------------------------------------------------------------------------

def parse(text: str, lang: str | None = None) -> SongRequest:
    """Understand a free-text request in English or Russian; never raises. Notes are in
    `lang`, or in the language the text is written in."""
    words = words_for(lang or script_language(text if isinstance(text, str) else "") or SOURCE)
    try:
        return _parse(text, words)
    except Exception as error:  # a parser bug must not cost the user their song
        request = SongRequest(text=clean_text(text) if isinstance(text, str) else "",
                              lang=words.lang)
        request.notes.append(words("could not read the request ({error})",
                                   error=type(error).__name__))
        return request


def style_said(text: str) -> bool:
    """Whether the words say anything about the style (a style's name, a wish, a hint; not
    "a song", "a tune"). A user's tune sent with words that do not gets the style the tune
    suggests instead."""
    low = normalise(_plain_signs(clean_text(text, PARSE_LIMIT)))
    style, how, _ = _parse_style(low, SongRequest())
    return how is not None and not (how == "hint" and style.id == DEFAULT_STYLE)


def _parse(text: str, words: Words) -> SongRequest:
    raw = text if isinstance(text, str) else str(text)
    clean = clean_text(raw, PARSE_LIMIT)
    request = SongRequest(text=clean_text(raw, TEXT_LIMIT), lang=words.lang)
    if len(raw) > PARSE_LIMIT * 2 or len(clean) >= PARSE_LIMIT:
        request.notes.append(words("only the first {limit} characters were read",
                                   limit=PARSE_LIMIT))
    cased = _plain_signs(clean)  # letter case matters for keys: "Bb", "Am"
    low = normalise(cased)

    style, how, wish = _parse_style(low, request)
    _parse_mode_and_key(low, cased, request, words)
    low = _parse_meter(low, request, words)
    if how != "named":
        style = _style_for_meter(style, request)
    low = parse_tempo(low, style, request, words)  # takes "60 ударов в минуту" out of the text
    parse_length(low, request, words)
    parse_seed(low, request, words)
    _parse_instruments(_without_style_name(low, style) if how == "named" else low, request)
    _fulfil(wish, style, how, clean, request, words)
    return request


def _without_style_name(low: str, style: Style) -> str:
    """The text with the style's name blanked: "a horn pipe" names no french horn."""
    match = first(low, STYLE_ALIASES[style.id])
    return low[:match.start()] + " " * (match.end() - match.start()) + low[match.end():] \
        if match else low


def _parse_style(low: str, request: SongRequest) -> tuple[Style, str | None, Wish | None]:
    """The style; how it was found ("named" by the user, a "wish", a "hint", None: nothing
    said); the wish that chose it or may colour it (an occasion, a genre we map, an artist:
    the first of composer.wishes.WISHES in the text)."""
    found: list[tuple[int, int, str, str]] = []  # (weight, -position, style, how)
    for style_id, aliases in STYLE_ALIASES.items():
        match = first(low, aliases)
        if match:
            weight = FOLK_WORD if style_id == "folk" else NAMED
            found.append((weight, -match.start(), style_id, "named"))
    if not found and (misspelt := _misspelt_style(low)):
        found.append((NAMED, -misspelt[0], misspelt[1], "named"))
    wish = None
    for candidate in WISHES:
        match = first(low, candidate.aliases)
        if match:
            wish = candidate
            found.append((MAPPED, -match.start(), wish.style, "wish"))
            break
    for style_id, aliases in HINTS:
        match = first(low, aliases)
        if match:
            weight = PLAIN_WORD if style_id == "folk" else HINT
            found.append((weight, -match.start(), style_id, "hint"))
    if not found:
        request.style = DEFAULT_STYLE
        return STYLES[DEFAULT_STYLE], None, None
    _, _, style_id, how = max(found)
    if how == "hint" and style_id in SLOW_TUNE_OF_HINT and _slow(low):
        style_id = SLOW_TUNE_OF_HINT[style_id]  # a slow tune from Ireland is an air, not a jig
    request.style = style_id
    return STYLES[style_id], how, wish


def _misspelt_style(low: str) -> tuple[int, str] | None:
    """(position, style) of the first word near one of a style's one-word names ("lullabye",
    "walz", "strathspay", "вальц"), or of two words that are one ("horn pipe")."""
    words = list(re.finditer(r"[^\W\d_]+", low))
    pairs = [(a.start(), a.group() + b.group()) for a, b in zip(words, words[1:], strict=False)]
    for start, word in sorted([(w.start(), w.group()) for w in words] + pairs):
        if len(word) >= MISSPELT_MIN_LETTERS:
            close = difflib.get_close_matches(word, STYLE_WORDS, n=1, cutoff=MISSPELT_CUTOFF)
            if close:
                return start, STYLE_WORDS[close[0]]
    return None


def _slow(low: str) -> bool:
    return any(first(low, words) for place, words in TEMPO_WORDS
               if place is not None and place <= SLOW_PLACE)


def _fulfil(wish: Wish | None, style: Style, how: str | None, clean: str,
            request: SongRequest, words: Words) -> None:
    """Fill what the words left open from the wish, and say what was chosen and why."""
    if wish is None:
        if how is None:
            what = describe_in(request, words.lang)
            request.notes.insert(0, words("no style recognised, so here is {what}", what=what)
                                 if clean else words("empty request, so here is {what}",
                                                     what=what))
        return
    before = (request.mode, request.tempo_bpm, request.instrument, request.key)
    if request.mode is None:
        request.mode = wish.mode
    # The wish's pace goes with another style too where it is one to speak of (slow or
    # lively in that style's range): a funeral march is walked slowly, a birthday waltz is
    # quick; a lullaby for a child keeps its own pace.
    paced = tempo_at(style, wish.tempo) if wish.tempo is not None else None
    if request.tempo_bpm is None and paced is not None \
            and (wish.style == request.style or tempo_word(style.id, paced)):
        request.tempo_bpm = paced
    if wish.style == request.style:  # the wish chose the style: its colours too
        if request.instrument is None:
            request.instrument = wish.instrument
        if request.key is None and wish.key and request.mode in (None, "minor", "major"):
            request.key = wish.key
    elif request.mode == style.default_mode:
        request.mode = before[0]  # nothing new to say for this style
    if (request.mode, request.tempo_bpm, request.instrument, request.key) != before \
            or how == "wish":
        request.notes.insert(0, words("{reason} — here is {what}", reason=words(wish.reason),
                                      what=describe_in(request, words.lang)))


# --- mode and key ---------------------------------------------------------------------------

_KEY_EN = re.compile(
    r"(?<![\w#'-])(?P<letter>[A-Ga-g])"
    r"(?P<acc>\s?-?\s?(?:sharp|flat)(?![a-z])|#|b(?=m?(?![A-Za-z])))?"  # Bb, Ebm
    r"(?:\s?-?\s?(?P<mode>major|minor|maj|min|m|dorian|mixolydian)(?![A-Za-z]))?"
    r"(?![\w#])",
    re.IGNORECASE,
)
_KEY_RU = re.compile(
    r"(?<![\w-])(?P<note>до|ре|ми|фа|соль|ля|си)"
    r"(?:\s?-?\s?(?P<acc>диез|бемоль))?"
    r"(?:\s?-?\s?(?P<mode>мажор\w*|минор\w*|дорийск\w*|миксолидийск\w*))?"
    r"(?![\w-])"
)
# German names, as Russian and German musicians write keys: "a-moll", "Fis-Dur", "Es-dur",
# "h-moll" (H is B, and B is B flat); always with -dur or -moll, so never an ordinary word.
_KEY_DE = re.compile(
    r"(?<![\w-])(?P<letter>[A-Ha-h])(?P<acc>is|es|s)?\s?-\s?(?P<mode>dur|moll)(?![\w-])",
    re.IGNORECASE,
)
DE_LETTERS = {"h": "B", "b": "Bb"}  # the rest are the English letters
DE_ACCIDENTALS = {"": "", "is": "#", "es": "b", "s": "b"}
DE_MODES = {"dur": "major", "moll": "minor"}
_STRONG_CONTEXT = re.compile(r"(?:key of|key|keys|tonality|тональност\w*)\s*[:=]?\s*$")
_WEAK_CONTEXT = re.compile(r"(?:^|\s)(?:in|в)\s*$")
# Respellings into the key names every part of Isadei uses (composer.music.KEY_NAMES).
RESPELL = {"D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb", "Cb": "B", "Fb": "E", "E#": "F",
           "B#": "C"}
MODE_STEMS = {"maj": "major", "min": "minor", "m": "minor", "dor": "dorian", "mix": "mixolydian",
              "мажор": "major", "минор": "minor", "дорийск": "dorian",
              "миксолидийск": "mixolydian"}


def _mode_of(word: str) -> str | None:
    word = (word or "").lower()
    for stem in sorted(MODE_STEMS, key=len, reverse=True):
        if word.startswith(stem):
            return MODE_STEMS[stem]
    return None


def _parse_mode_and_key(low: str, cased: str, request: SongRequest, words: Words) -> None:
    named = earliest_mode(low, MODE_NAMES)
    if named:  # mode names outrank mood words ("a happy song in minor")
        request.mode = named
    else:
        minor, major = first(low, MINOR_WORDS), first(low, MAJOR_WORDS)
        if minor or major:
            request.mode = "minor" if minor and (not major or minor.start() < major.start()) \
                else "major"
    key = _find_key_de(cased) or _find_key_en(cased) or _find_key_ru(low)
    if key is None:
        return
    name, mode = key
    spelled = RESPELL.get(name, name)
    if spelled != name:
        request.notes.append(words("{name} is written {spelled}", name=name, spelled=spelled))
    request.key = spelled
    if mode:
        request.mode = mode


def earliest_mode(low: str, table: list[tuple[str, tuple[str, ...]]]) -> str | None:
    hits = [(match.start(), mode) for mode, aliases in table if (match := first(low, aliases))]
    return min(hits)[1] if hits else None


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
        return letter.upper() + accidental, _mode_of(mode) if mode else None
    return None


def _find_key_de(text: str) -> tuple[str, str | None] | None:
    match = _KEY_DE.search(text)
    if match is None:
        return None
    letter, acc = match["letter"].lower(), (match["acc"] or "").lower()
    if (acc == "s" and letter not in "ae") or (acc and letter == "b"):
        return None  # "Es" and "As" only ("Cs-dur" is no key); "Bes" would be B double flat
    name = DE_LETTERS.get(letter, letter.upper())
    return name + DE_ACCIDENTALS[acc], DE_MODES[match["mode"].lower()]


def _find_key_ru(text: str) -> tuple[str, str | None] | None:
    for match in _KEY_RU.finditer(text):
        acc, mode = match["acc"], match["mode"]
        strong = bool(_STRONG_CONTEXT.search(text[: match.start()]))
        if not (acc or mode or strong):
            continue  # "до 2 минут" is not C
        accidental = {"диез": "#", "бемоль": "b"}.get(acc or "", "")
        return SOLFEGE_LETTERS[match["note"]] + accidental, _mode_of(mode) if mode else None
    return None


# --- meter ----------------------------------------------------------------------------------

_METER = re.compile(r"(?<![\d/.,:])(\d{1,2})\s?/\s?(\d{1,2})(?![\d/])")


def _parse_meter(low: str, request: SongRequest, words: Words) -> str:
    """ "3/4", "в размере 6/8", "waltz time"; return the text without a numeric meter (so
    "3/4" is not read as a length or a seed)."""
    match = _METER.search(low)
    if match:
        meter = f"{int(match[1])}/{int(match[2])}"
        low = low[: match.start()] + " " * (match.end() - match.start()) + low[match.end():]
        if meter in METERS:
            request.meter = meter
        else:
            request.notes.append(words("I can't play in {meter} yet, so the style's own meter",
                                       meter=meter))
        return low
    best = [(found.start(), meter) for meter, aliases in METER_WORDS
            if (found := first(low, aliases))]
    if best:
        request.meter = min(best)[1]
    return low


def _style_for_meter(style: Style, request: SongRequest) -> Style:
    """A meter the guessed style never uses picks the style that lives in it (3/4: a waltz)."""
    if request.meter is None or request.meter in style.meters:
        return style
    own = [s for s in STYLES.values() if s.meters[0] == request.meter]
    if own:
        request.style = own[0].id
        return own[0]
    return style


# --- instruments ----------------------------------------------------------------------------

def _mentions(low: str) -> list[tuple[int, int, Instrument]]:
    """Every instrument named in the text: (start, end, instrument), in order, each once."""
    hits: list[tuple[int, int, Instrument]] = []
    for instrument in INSTRUMENTS.values():
        for alias in (instrument.name, *instrument.aliases):
            for match in re.finditer(alias_pattern(alias.lower()), low):
                hits.append((match.start(), match.end(), instrument))
    hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
    result: list[tuple[int, int, Instrument]] = []
    for start, end, instrument in hits:
        inside = any(s <= start < e for s, e, _ in result)  # "pan flute" holds "flute"
        if not inside and all(instrument is not i for _, _, i in result):
            result.append((start, end, instrument))
    return result


def _parse_instruments(low: str, request: SongRequest) -> None:
    """One instrument plays the tune; a second one accompanies ("a piano and violin duet":
    the violin has the tune, the piano the chords)."""
    mentions = _mentions(low)
    if not mentions:
        return
    melody = mentions[0][2]
    if len(mentions) > 1:
        second = mentions[1][2]
        cued = [i for s, _, i in mentions[:2] if re.search(ACCOMPANIMENT_CUES, low[:s])]
        if cued:
            accompaniment = cued[-1]
        elif melody.name in CHORDAL and second.name not in CHORDAL:
            accompaniment = melody
        else:
            accompaniment = second
        melody = second if accompaniment is melody else melody
        request.accompaniment = accompaniment.name
    request.instrument = melody.name
