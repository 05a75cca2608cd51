"""The gettext catalogues: every message translated, placeholders kept, CLDR plurals, numbers,
and the language a user gets."""

from __future__ import annotations

import string

import pytest

from bot.telegram.texts import LOCALES, TEXTS, duration, lang_of, ordinal, t, wait_time
from composer.catalogue import templates
from composer.i18n import client_language, languages, number, plural_category, script_language


def fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


@pytest.mark.parametrize("directory,domain,pot", templates(), ids=["composer", "bot"])
def test_every_message_is_translated_with_the_same_placeholders(directory, domain, pot):
    from babel.messages.pofile import read_po

    for lang in languages(directory)[1:]:
        with open(directory / lang / "LC_MESSAGES" / f"{domain}.po", "rb") as po:
            catalog = read_po(po, locale=lang)
        for message in pot:
            if not message.id:
                continue
            translated = catalog.get(message.id, context=message.context)
            assert translated is not None and translated.string, (lang, message.id)
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = translated.string if isinstance(translated.string, tuple) \
                else (translated.string,)
            assert all(s for s in strings), (lang, message.id)
            want = set().union(*map(fields, ids))
            for text in strings:
                assert fields(text) <= want and (fields(text) or not want), (lang, text)


@pytest.mark.parametrize("count,song,second", [
    (1, "1 песню", "1 секунда"), (2, "2 песни", "2 секунды"), (5, "5 песен", "5 секунд"),
    (21, "21 песню", "21 секунда"), (22, "22 песни", "22 секунды"), (25, "25 песен", "25 секунд"),
    (11, "11 песен", "11 секунд"), (111, "111 песен", "1 мин 51 с"),
])
def test_russian_plurals_follow_cldr(count: int, song: str, second: str) -> None:
    assert song in t("ru", "cancel_done", count=count)
    assert duration("ru", count) == second
    category = {1: "one", 21: "one", 2: "few", 22: "few"}.get(count, "many")
    assert plural_category(count, "ru") == category


def test_english_plurals_numbers_and_waits() -> None:
    assert t("en", "cancel_done", count=1).startswith("✖️ Cancelled 1 song that was")
    assert t("en", "cancel_done", count=21).startswith("✖️ Cancelled 21 songs that were")
    assert number(1234.5, "en") == "1,234.5" and number(1234.5, "ru") == "1\xa0234,5"
    assert wait_time("en", 30) == "30 seconds" and wait_time("en", 60) == "1 minute"
    assert wait_time("en", 600) == "10 minutes" and wait_time("ru", 600) == "10 минут"
    assert wait_time("ru", 1260) == "21 минута"
    assert [ordinal("en", n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "111th"]
    assert ordinal("ru", 2) == "2-й"


def test_the_users_language() -> None:
    assert client_language("ru-RU") == "ru" and client_language("uk") == "ru"
    assert client_language("be") == "ru" and client_language("de") == "en"
    assert client_language(None) == "en" and client_language("pt-br") == "en"
    assert lang_of("en", "сыграй вальс") == "ru"  # the words' own script wins
    assert lang_of("ru", "a sad waltz please") == "en"
    assert lang_of("uk", "jig") == "ru"  # one word says nothing: the client's language
    assert lang_of(None, "") == "en"
    assert script_language("12345 🙂") is None
    assert "en" in languages(LOCALES) and "ru" in languages(LOCALES)


def test_every_text_renders_in_every_language() -> None:
    for lang in languages(LOCALES):
        for key, message in TEXTS.items():
            needed = {f for m in (message if isinstance(message, tuple) else (message,))
                      for f in fields(m)}
            given: dict[str, object] = {name: 3 if name == "count" else "x" for name in needed}
            assert t(lang, key, **given)
