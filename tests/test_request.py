"""The request parser: English and Russian as people write it, and hostile text."""

from __future__ import annotations

import json
import random
import re

import pytest

from composer.instruments import INSTRUMENTS, find_instrument, get_instrument
from composer.music import KEY_NAMES, tonic_pitch_class
from composer.request import (
    SongRequest,
    clean_text,
    describe,
    describe_ru,
    longer_length,
    parse,
)
from composer.styles import STYLES

CONTRACT = {"style", "mode", "key", "meter", "tempo_bpm", "length_seconds", "instrument",
            "accompaniment", "seed", "notes"}


@pytest.mark.parametrize("text,style", [
    ("make me a folk song", "folk"),
    ("народная песня", "folk"),
    ("Irish jig", "jig"),
    ("джига", "jig"),
    ("сыграй джигу", "jig"),
    ("колыбельная", "lullaby"),
    ("спой колыбельную", "lullaby"),
    ("lullaby for my daughter", "lullaby"),
    ("something to help the baby sleep", "lullaby"),
    ("a hymn", "chorale"),
    ("гимн", "chorale"),
    ("хорал Баха", "chorale"),
    ("something to dance to", "reel"),
    ("вальс", "waltz"),
    ("вальсок", "waltz"),
    ("грустный вальс", "waltz"),
    ("грустную вальса", "waltz"),
    ("грустной вальс", "waltz"),
    ("марш", "march"),
    ("a quickstep", "march"),
    ("баллада", "ballad"),
    ("романс", "ballad"),
    ("a slip jig", "slip-jig"),
    ("slip-jig please", "slip-jig"),
    ("слип-джига", "slip-jig"),
    ("reel", "reel"),
    ("рил", "reel"),
    ("hornpipe", "hornpipe"),
    ("strathspey", "strathspey"),
    ("шотландская", "strathspey"),
    ("a slow air", "air"),
    ("chorale", "chorale"),
    ("chinese folk song", "chinese-folk"),
    ("китайская народная песня", "chinese-folk"),
    ("pentatonic tune", "chinese-folk"),
    ("a folk waltz", "waltz"),  # the named style beats "folk"
    ("народный вальс", "waltz"),
    ("a waltz to dance to", "waltz"),  # and beats a hint
    ("WALTZ", "waltz"),
    ("marching band tune", "march"),
    ("маршевую музыку", "march"),
    ("a gigue", "jig"),
    ("ein deutsches Volkslied", "folk"),
    ("мелодию в стиле шотландии", "strathspey"),  # a hint beats "melody", wherever it stands
    ("music from ireland", "jig"),
    ("медленная мелодия из ирландии", "air"),  # a slow Irish tune is an air
    ("slow scottish tune", "air"),
    ("a slow irish jig", "jig"),  # unless the jig is named
    ("медленный танец", "waltz"),  # a slow dance
    ("быстрый танец", "reel"),
    ("a lullabye for my son", "lullaby"),  # misspelt names are still names
    ("walz please", "waltz"),
    ("a jigg", "jig"),
    ("strathspay", "strathspey"),
    ("вальц", "waltz"),
    ("marsh", "march"),
    ("walzer", "waltz"),
])
def test_styles(text: str, style: str) -> None:
    request = parse(text)
    assert request.style == style
    assert not any("no style" in n for n in request.notes)


@pytest.mark.parametrize("text,style", [
    ("rock", "march"),
    ("play some jazz", "hornpipe"),
    ("techno", "reel"),
    ("рок", "march"),
    ("блюз", "ballad"),
    ("sea shanty", "hornpipe"),
    ("морская песня", "hornpipe"),
    ("polka", "march"),
    ("мазурка", "waltz"),
])
def test_unknown_genres_map_to_the_closest_style_with_a_note(text: str, style: str) -> None:
    request = parse(text)
    assert request.style == style
    assert len(request.notes) == 1
    assert len(request.notes[0]) < 80  # short enough for a chat message


def test_genre_note_names_the_genre_and_the_style() -> None:
    note = parse("rock").notes[0]
    assert "rock" in note and "march" in note


@pytest.mark.parametrize("text,mode", [
    ("a happy song", "major"),
    ("cheerful jig", "major"),
    ("весёлую песню", "major"),
    ("веселую песню", "major"),
    ("радостный марш", "major"),
    ("a sad song", "minor"),
    ("melancholic waltz", "minor"),
    ("грустный вальс", "minor"),
    ("печальную балладу", "minor"),
    ("минорную песенку", "minor"),
    ("in major", "major"),
    ("minor please", "minor"),
    ("в мажоре", "major"),
    ("в миноре", "minor"),
    ("a happy song in minor", "minor"),  # the mode name beats the mood
    ("a minor waltz", "minor"),  # "a" is the article here, not the key of A
    ("blues", "minor"),
])
def test_moods_and_modes(text: str, mode: str) -> None:
    assert parse(text).mode == mode


def test_no_mood_leaves_the_style_default() -> None:
    assert parse("a waltz").mode is None


@pytest.mark.parametrize("text,key,mode", [
    ("a waltz in D minor", "D", "minor"),
    ("in F# major", "F#", "major"),
    ("a tune in Bb", "Bb", None),
    ("B flat reel", "Bb", None),
    ("E-flat major march", "Eb", "major"),
    ("in C", "C", None),
    ("play in d", "D", None),
    ("key of a", "A", None),
    ("in a minor", "A", "minor"),
    ("waltz in A", "A", None),
    ("a jig in G", "G", None),
    ("F#m jig", "F#", "minor"),
    ("Am ballad", "A", "minor"),
    ("a sad song in A flat", "Ab", "minor"),
    ("in G# minor", "Ab", "minor"),
    ("D♭ major", "Db", "major"),
    ("ре минор", "D", "minor"),
    ("вальс в ре миноре", "D", "minor"),
    ("до мажор", "C", "major"),
    ("фа-диез минор", "F#", "minor"),
    ("фа диез минор", "F#", "minor"),
    ("си бемоль", "Bb", None),
    ("в тональности соль", "G", None),
    ("ми-бемоль мажор", "Eb", "major"),
    # German names, as Russian musicians write them: H is B, B is B flat
    ("вальс a-moll", "A", "minor"),
    ("a folk song in H-moll", "B", "minor"),
    ("марш B-dur", "Bb", "major"),
    ("джига fis-moll", "F#", "minor"),
    ("a waltz in Es-Dur", "Eb", "major"),
    ("As-dur ballad", "Ab", "major"),
    ("песня в C-dur", "C", "major"),
    ("cis - moll", "C#", "minor"),
])
def test_keys(text: str, key: str, mode: str | None) -> None:
    request = parse(text)
    assert request.key == key
    assert request.key in KEY_NAMES
    if mode:
        assert request.mode == mode


@pytest.mark.parametrize("text", [
    "a song", "A sad waltz", "a flat melody", "in a hurry, a jig", "play it in a minor key",
    "до 2 минут", "соль и перец", "I am here", "Bach chorale", "E-mail me a jig", "a minute",
    "ля-ля-ля", "do re mi", "the best song", "ABBA", "a b c d e f g", "Cs-dur", "Bes-dur",
    "Moll and Dur", "a dur-moll tune",
])
def test_no_false_keys(text: str) -> None:
    assert parse(text).key is None


def test_respelled_key_gets_a_note() -> None:
    request = parse("a jig in D#")
    assert request.key == "Eb"
    assert any("Eb" in n for n in request.notes)


@pytest.mark.parametrize("text,tempo", [
    ("120 bpm reel", 120),
    ("a reel at 100 BPM", 100),
    ("темп 90 вальс", 90),
    ("вальс в темпе 150", 150),
    ("tempo: 110 jig", 110),
    ("вальс 100 ударов в минуту", 100),
])
def test_tempo_numbers(text: str, tempo: int) -> None:
    request = parse(text)
    assert request.tempo_bpm == tempo
    assert request.length_seconds is None  # "в минуту" is not a length


@pytest.mark.parametrize("text", ["9999 bpm march", "march at 5 bpm", "march tempo -40",
                                  "march 99999999999 bpm"])
def test_tempo_out_of_range_is_clamped_with_a_note(text: str) -> None:
    request = parse(text)
    low, high = STYLES["march"].tempo_range
    if request.tempo_bpm is not None:
        assert low <= request.tempo_bpm <= high
    if "99999999999" not in text:
        assert any("tempo" in n for n in request.notes)


def test_tempo_words_land_inside_the_style_range() -> None:
    for style in STYLES.values():
        low, high = style.tempo_range
        fast = parse(f"fast {style.id}").tempo_bpm
        slow = parse(f"slow {style.id}").tempo_bpm
        assert fast is not None and slow is not None
        assert low <= slow < style.default_tempo <= fast <= high or (low <= slow < fast <= high)
    assert parse("быстрый марш").tempo_bpm > STYLES["march"].default_tempo
    assert parse("медленный вальс").tempo_bpm < STYLES["waltz"].default_tempo
    assert parse("very fast reel").tempo_bpm == STYLES["reel"].tempo_range[1]
    assert parse("a reel").tempo_bpm is None


@pytest.mark.parametrize("text,seconds", [
    ("2 minutes", 120),
    ("1.5 min", 90),
    ("1,5 минуты", 90),
    ("30 seconds", 30),
    ("90 sec", 90),
    ("на 2 минуты", 120),
    ("на две минуты", 120),
    ("три минуты", 180),
    ("полминуты", 30),
    ("вальс на полчаса", 300),  # half an hour: the longest song, with a note
    ("half a minute", 30),
    ("a minute", 60),
    ("на минуту", 60),
    ("полторы минуты", 90),
    ("a minute and a half", 90),
    ("минута с половиной", 90),
    ("две с половиной минуты", 150),
    ("2 минуты 30 секунд", 150),
    ("2 min 30 sec", 150),
    ("2:30", 150),
    ("минуты на две", 120),
    ("short", 45),
    ("короткую песню", 45),
    ("a long song", 180),
    ("длинную балладу", 180),
])
def test_lengths(text: str, seconds: int) -> None:
    request = parse(text)
    assert request.length_seconds == seconds
    assert not any("length" in n for n in request.notes)


@pytest.mark.parametrize("text,seconds", [
    ("-5 minutes", 15), ("0 seconds", 15), ("10 hours", 300), ("5 seconds", 15),
    ("20 минут", 300), ("1000000 min", 300),
])
def test_length_out_of_range_is_clamped_with_a_note(text: str, seconds: int) -> None:
    request = parse(text)
    assert request.length_seconds == seconds
    assert any("length" in n or "длина" in n for n in request.notes)  # (notes: their language)


@pytest.mark.parametrize("text,instrument", [
    ("on piano", "acoustic grand piano"),
    ("на фортепиано", "acoustic grand piano"),
    ("на пианино", "acoustic grand piano"),
    ("на рояле", "acoustic grand piano"),
    ("на скрипке", "violin"),
    ("на скрипочке", "violin"),
    ("a fiddle tune", "violin"),
    ("for guitar", "acoustic guitar (nylon)"),
    ("на гитаре", "acoustic guitar (nylon)"),
    ("on acoustic guitar", "acoustic guitar (steel)"),
    ("на флейте", "flute"),
    ("pan flute", "pan flute"),
    ("на блокфлейте", "recorder"),
    ("на органе", "church organ"),
    ("на баяне", "accordion"),
    ("на аккордеоне", "accordion"),
    ("на губной гармошке", "harmonica"),
    ("on the tin whistle", "whistle"),
    ("music box lullaby", "music box"),
    ("на виолончели", "cello"),
    ("with bagpipes", "bagpipe"),
    ("на трубе", "trumpet"),
    ("хор", "choir aahs"),
])
def test_instruments(text: str, instrument: str) -> None:
    assert parse(text).instrument == instrument


@pytest.mark.parametrize("text", ["хорошую песню", "a hornpipe", "горную песню", "гармония",
                                  "которую", "a basic song", "хорал"])
def test_no_false_instruments(text: str) -> None:
    assert parse(text).instrument is None


@pytest.mark.parametrize("text,style,mode,instrument", [
    ("🎻 jig please", "jig", None, "violin"),
    ("грустный вальс на 🎹", "waltz", "minor", "acoustic grand piano"),
    ("a march🎺", "march", None, "trumpet"),  # glued to the word
    ("😢", "folk", "minor", None),
    ("😊 waltz", "waltz", "major", None),
    ("🎂 for mom", "folk", "major", "glockenspiel"),  # the birthday wish
    ("колыбельная 👶", "lullaby", None, None),
    ("💃💃", "reel", None, None),
    ("🏴‍☠️ song", "hornpipe", None, None),  # the pirate flag, its joiner dropped
])
def test_emoji_read_as_the_words_they_stand_for(text: str, style: str, mode: str | None,
                                                instrument: str | None) -> None:
    request = parse(text)
    assert (request.style, request.mode, request.instrument) == (style, mode, instrument)


@pytest.mark.parametrize("text,seed", [
    ("seed 42", 42), ("seed=7", 7), ("сид 42", 42), ("сид: 5", 5), ("#42", 42),
    ("a jig #1234", 1234), ("seed -3", 3),
])
def test_seeds(text: str, seed: int) -> None:
    assert parse(text).seed == seed


def test_sharp_is_not_a_seed() -> None:
    request = parse("in F#42")
    assert request.seed is None


def test_huge_seed_is_folded_with_a_note() -> None:
    request = parse("seed 99999999999999999999")
    assert 0 <= request.seed < 2**32
    assert request.notes


def test_everything_at_once_english() -> None:
    request = parse("A cheerful Irish jig in D, fast, about 2 min, on the fiddle, seed 42")
    assert request.to_json() == {
        "style": "jig", "mode": "major", "key": "D", "meter": None, "tempo_bpm": 120,
        "length_seconds": 120, "instrument": "violin", "accompaniment": None, "seed": 42,
        "notes": [],
    }


def test_everything_at_once_russian() -> None:
    request = parse("Сыграй медленный грустный вальс в ля миноре на фортепиано, 3 минуты, сид 7")
    assert request.style == "waltz"
    assert (request.mode, request.key) == ("minor", "A")
    assert request.tempo_bpm < STYLES["waltz"].default_tempo
    assert request.length_seconds == 180
    assert request.instrument == "acoustic grand piano"
    assert request.seed == 7
    assert request.notes == []


def test_default_request_with_a_note() -> None:
    for text in ("", "   ", "12345", "asdfgh qwerty", "🦄🦄🦄", "\x00\x01"):
        request = parse(text)
        assert request.style == "folk"
        assert request.mode is None and request.key is None
        assert len(request.notes) == 1


def test_text_is_kept_clean_and_short() -> None:
    request = parse("a waltz\x00\x07 for\tme\u200b " + "la " * 1000)
    assert request.text.startswith("a waltz for me")
    assert len(request.text) <= 500
    assert all(ch.isprintable() for ch in request.text)
    assert clean_text("  a\n\nb\r\n") == "a b"


HOSTILE = [
    "x" * 10_000,
    "вальс " * 2000,
    "1" * 10_000,
    "9" * 5000 + " bpm",
    "seed " + "9" * 5000,
    "-" * 10_000,
    "# " * 5000,
    "\ud800 lone surrogate",
    "минут " * 3000,
    "🎵🎶🎹" * 1000,
    "\x00\x1b[31m red \x7f",
    "in in in in key key key of of of",
    "2:99 99:99 :: 1:",
    "в тональности",
    "-5 minutes at -100 bpm in H minor, seed -1",
    "1e309 minutes",
    "NaN bpm inf minutes",
    "٤٢ bpm seed ٤٢",
    "Ⅻ minutes ①②③",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_never_raises(text: str) -> None:
    request = parse(text)
    data = request.to_json()
    assert set(data) == CONTRACT
    json.dumps(data, ensure_ascii=False)
    assert not any("could not read" in n for n in request.notes)  # no bug behind the net
    assert len(request.text) <= 500
    _check_contract(request)


def test_random_text_never_raises() -> None:
    rng = random.Random(7)
    alphabet = "abcdefgABCDEFG#b -:.,0123456789 минутаджигвальсредо♯♭🎵\x00\n"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 80)))
        request = parse(text)
        assert not any("could not read" in n for n in request.notes), text
        _check_contract(request)


def _check_contract(request: SongRequest) -> None:
    data = request.to_json()
    assert set(data) == CONTRACT
    assert data["style"] in STYLES
    assert data["mode"] in (None, "major", "minor")
    assert data["key"] is None or data["key"] in KEY_NAMES
    style = STYLES[data["style"]]
    if data["tempo_bpm"] is not None:
        assert isinstance(data["tempo_bpm"], int)
        assert style.tempo_range[0] <= data["tempo_bpm"] <= style.tempo_range[1]
    if data["length_seconds"] is not None:
        assert isinstance(data["length_seconds"], int)
        assert 15 <= data["length_seconds"] <= 300
    assert data["instrument"] is None or data["instrument"] in INSTRUMENTS
    if data["seed"] is not None:
        assert isinstance(data["seed"], int) and 0 <= data["seed"] < 2**32
    assert isinstance(data["notes"], list) and all(isinstance(n, str) for n in data["notes"])


def test_json_contract_keys_and_types() -> None:
    data = parse("a sad waltz in D minor, 90 bpm, 1 minute, violin, seed 3").to_json()
    assert list(data) == ["style", "mode", "key", "meter", "tempo_bpm", "length_seconds",
                          "instrument", "accompaniment", "seed", "notes"]
    assert data == {"style": "waltz", "mode": "minor", "key": "D", "meter": None,
                    "tempo_bpm": 90, "length_seconds": 60, "instrument": "violin",
                    "accompaniment": None, "seed": 3, "notes": []}


def test_describe() -> None:
    assert describe(parse("a sad waltz in D minor")) == "a waltz in D minor"
    assert describe(parse("a sad waltz")) == "a waltz in a minor key"
    assert describe(parse("Irish jig on the fiddle")) == "a jig for violin"
    assert describe(parse("an air")) == "a slow air"
    assert describe(parse("a sad ballad")) == "a ballad in a minor key"
    assert describe(parse("cheerful ballad")) == "a ballad"  # major is the ballad's own
    assert describe(parse("a very fast reel")) == "a lively reel"
    assert describe(SongRequest()) == "a folk song"
    assert describe_ru(parse("грустный вальс в ре миноре")) == "вальс ре минор"
    assert describe_ru(parse("медленная колыбельная"), accusative=True) == \
        "медленную колыбельную"
    assert describe_ru(parse("джига на скрипке")) == "джига для скрипки"
    assert describe_ru(parse("марш в си-бемоль мажоре")) == "марш си-бемоль мажор"
    assert describe_ru(parse("дуэт скрипки и фортепиано в размере 3/4")) == \
        "вальс для скрипки и фортепиано"


def test_describe_every_style() -> None:
    for style_id in STYLES:
        for mode in (None, "major", "minor", "dorian"):
            request = SongRequest(style=style_id, mode=mode, key="F#", instrument="flute")
            assert describe(request).startswith(("a ", "an "))
            assert describe_ru(request) and describe_ru(request, accusative=True)
            assert not re.search("[a-z]{3}", describe_ru(request))  # no English inside


def test_tonic_pitch_class() -> None:
    assert [tonic_pitch_class(k) for k in KEY_NAMES] == [0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]


def test_instrument_table() -> None:
    assert len(INSTRUMENTS) >= 30
    programs = [i.program for i in INSTRUMENTS.values()]
    assert len(set(programs)) == len(programs)
    for instrument in INSTRUMENTS.values():
        assert 0 <= instrument.program <= 127
        assert 12 <= instrument.low < instrument.high <= 108
        assert instrument.high - instrument.low >= 12  # at least an octave for a melody
        assert get_instrument(instrument.name) is instrument
    assert get_instrument("Fiddle").name == "violin"
    assert get_instrument("скрипка").name == "violin"
    assert get_instrument("piano").program == 0
    with pytest.raises(ValueError, match="unknown instrument"):
        get_instrument("theremin")
    assert find_instrument("play it on the piano, or the violin").name == "acoustic grand piano"
    assert find_instrument("nothing here") is None


def test_from_json_reads_what_to_json_wrote() -> None:
    request = parse("a sad waltz in D minor on the violin, 90 bpm, 1 minute, seed 5")
    assert SongRequest.from_json(request.to_json()) == SongRequest(**{**request.to_json()})
    job = {**request.to_json(), "text": "words", "from_a_newer_version": 1}
    assert SongRequest.from_json(job).text == "words"  # the job's words; unknown keys ignored


def test_longer_length_stays_within_the_longest_song() -> None:
    assert longer_length(31) == 62 and longer_length(10) == 60 and longer_length(250) == 300


# -- wishes: occasions, moods, scenes, genres, artists; meters, modes, two instruments --

@pytest.mark.parametrize("text,style,mode,instrument", [
    ("something cheerful for my daughter's birthday", "folk", "major", "glockenspiel"),
    ("epic battle music", "march", "minor", "brass section"),
    ("спокойная музыка для медитации", "air", "major", "pan flute"),
    ("make it like the Beatles", "folk", "major", "acoustic guitar (steel)"),
    ("a romantic song for my wife", "ballad", "major", "acoustic grand piano"),
    ("music for a wedding", "waltz", "major", "violin"),
    ("christmas music", "chorale", "major", "church organ"),
    ("что-нибудь для учёбы", "air", "major", "acoustic grand piano"),
    ("музыка для сна", "lullaby", "major", "music box"),
    ("звуки моря", "hornpipe", "major", "whistle"),
    ("грустно, за окном дождь", "air", "minor", "acoustic grand piano"),
    ("как Моцарт", "waltz", "major", "harpsichord"),
])
def test_wishes_choose_style_mode_tempo_and_instrument(text, style, mode, instrument) -> None:
    request = parse(text)
    assert (request.style, request.mode, request.instrument) == (style, mode, instrument)
    assert request.tempo_bpm is not None
    assert len(request.notes) == 1 and " — " in request.notes[0]


def test_wish_notes_say_why_in_the_language_of_the_request() -> None:
    assert parse("rock").notes == ["no rock yet — here is a lively march in E minor"]
    assert parse("рок").notes == ["рок я пока не играю — вот бодрый марш ми минор"]
    assert parse("музыка для битвы").notes[0].startswith("для битвы — вот бодрый марш")
    assert parse("rock", "ru").notes[0].startswith("рок я пока не играю")  # the bot's choice


def test_a_named_style_keeps_its_colours_but_takes_the_mood_of_a_wish() -> None:
    request = parse("a waltz for a funeral")
    assert (request.style, request.mode, request.instrument) == ("waltz", "minor", None)
    assert request.notes == ["for a funeral — here is a slow waltz in a minor key"]
    assert parse("lullaby for my daughter").notes == []


@pytest.mark.parametrize("text", ["a funeral march", "похоронный марш", "траурный марш",
                                  "a slow march", "медленный марш"])
def test_a_funeral_or_slow_march_is_walked_slowly(text: str) -> None:
    request = parse(text)
    assert request.style == "march"
    assert request.tempo_bpm is not None and request.tempo_bpm <= 75
    assert parse("a march").tempo_bpm is None  # a quickstep at the style's own pace
    assert parse("a fast march").tempo_bpm > STYLES["march"].default_tempo


@pytest.mark.parametrize("text,meter,style", [
    ("a folk song in 3/4", "3/4", "folk"),
    ("a song in 3/4", "3/4", "waltz"),
    ("в размере 6/8", "6/8", "folk"),
    ("в размере 9/8", "9/8", "slip-jig"),
    ("a tune in waltz time", "3/4", "waltz"),
    ("марш на две четверти", "2/4", "march"),
    ("a reel in cut time", "2/2", "reel"),
    ("a ballad in 6/8", "6/8", "ballad"),
])
def test_meters(text: str, meter: str, style: str) -> None:
    request = parse(text)
    assert (request.meter, request.style) == (meter, style)
    assert request.length_seconds is None and request.seed is None  # "3/4" is no length


def test_unplayable_meter_gets_a_note() -> None:
    request = parse("a waltz in 7/8")
    assert request.meter is None and "7/8" in request.notes[0]


@pytest.mark.parametrize("text,key,mode", [
    ("a jig in D dorian", "D", "dorian"),
    ("a dorian reel", None, "dorian"),
    ("mixolydian hornpipe in A", "A", "mixolydian"),
    ("песня в дорийском ладу", None, "dorian"),
    ("рил ре миксолидийский", "D", "mixolydian"),
    ("Ebm", "Eb", "minor"), ("вальс Bbm", "Bb", "minor"),  # chord names with a flat
])
def test_modes(text: str, key: str | None, mode: str) -> None:
    request = parse(text)
    assert (request.key, request.mode) == (key, mode)


@pytest.mark.parametrize("text,melody,accompaniment", [
    ("a piano and violin duet", "violin", "acoustic grand piano"),
    ("flute with guitar", "flute", "acoustic guitar (nylon)"),
    ("cello accompanied by the harp", "cello", "orchestral harp"),
    ("скрипка под гитару", "violin", "acoustic guitar (nylon)"),
    ("дуэт флейты и фортепиано", "flute", "acoustic grand piano"),
    ("a waltz on the violin", "violin", None),
    ("a jig on the fiddle, fiddle only", "violin", None),
])
def test_two_instruments_are_melody_and_accompaniment(text, melody, accompaniment) -> None:
    request = parse(text)
    assert (request.instrument, request.accompaniment) == (melody, accompaniment)


@pytest.mark.parametrize("text", ["a real song", "a chorus", "the walk", "play a jingle"])
def test_words_near_a_style_name_are_not_taken_for_it(text: str) -> None:
    assert parse(text).style == "folk"


@pytest.mark.parametrize("text,style,instrument", [
    ("play a horn pipe", "hornpipe", None),  # the style's name, not a french horn
    ("a horn-pipe on the fiddle", "hornpipe", "violin"),
    ("a hornpipe for horn", "hornpipe", "french horn"),
    ("a march on the horn", "march", "french horn"),
])
def test_a_style_name_is_not_taken_for_an_instrument(text, style, instrument) -> None:
    request = parse(text)
    assert (request.style, request.instrument) == (style, instrument)
