"""/settings: a user's defaults as buttons ("cfg:<what>:<value>", ≤ 64 bytes) and the words
that show them. Saved in bot/telegram/user_settings.py; a wish's own words always win."""

from __future__ import annotations

from contextlib import suppress

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.telegram.menus import INSTRUMENTS, LENGTHS
from bot.telegram.texts import LOCALES, duration, t
from bot.telegram.user_settings import UserSettings, user_settings
from composer import naming
from composer.i18n import client_language, languages

AUTO = "-"


def settings_text(saved: UserSettings, lang: str) -> str:
    auto = t(lang, "settings_auto")
    return t(lang, "settings",
             language=t(saved.lang, "language_name") if saved.lang else auto,
             instrument=naming.instrument_name(saved.instrument, lang) if saved.instrument
             else auto,
             length=duration(lang, saved.length_seconds) if saved.length_seconds else auto)


def settings_keyboard(lang: str) -> InlineKeyboardMarkup:
    auto = t(lang, "settings_auto")
    rows = [[InlineKeyboardButton("🌐 " + t(code, "language_name"), callback_data=f"cfg:l:{code}")
             for code in languages(LOCALES)]
            + [InlineKeyboardButton("🌐 " + auto, callback_data=f"cfg:l:{AUTO}")]]
    instruments = [InlineKeyboardButton(naming.instrument_name(name, lang),
                                        callback_data=f"cfg:i:{i}")
                   for i, name in enumerate(INSTRUMENTS)]
    instruments.append(InlineKeyboardButton("🎹 " + auto, callback_data=f"cfg:i:{AUTO}"))
    rows += [instruments[i : i + 4] for i in range(0, len(instruments), 4)]
    lengths = [InlineKeyboardButton(duration(lang, s), callback_data=f"cfg:n:{s}")
               for s in LENGTHS]
    lengths.append(InlineKeyboardButton("⏱ " + auto, callback_data=f"cfg:n:{AUTO}"))
    rows += [lengths[i : i + 3] for i in range(0, len(lengths), 3)]
    return InlineKeyboardMarkup(rows)


def changed(saved: UserSettings, what: str, value: str) -> bool:
    """Apply one "cfg" choice to the settings; False for data no button sends."""
    if what == "l" and (value == AUTO or value in languages(LOCALES)):
        saved.lang = None if value == AUTO else value
    elif what == "i" and (value == AUTO or value.isdigit() and int(value) < len(INSTRUMENTS)):
        saved.instrument = None if value == AUTO else INSTRUMENTS[int(value)]
    elif what == "n" and (value == AUTO or value.isdigit() and int(value) in LENGTHS):
        saved.length_seconds = None if value == AUTO else int(value)
    else:
        return False
    return True


async def change_setting(update: Update, context: ContextTypes.DEFAULT_TYPE, data: str) -> None:
    """A tap under /settings: save it and show the settings again, in the new language."""
    query, user = update.callback_query, update.effective_user
    store = user_settings(context.application)
    saved = store.get(user.id)
    what, _, value = data.partition(":")
    if changed(saved, what, value):
        store.save(saved)
    lang = saved.lang or client_language(user.language_code)
    await query.answer(t(lang, "settings_saved"))
    with suppress(TelegramError):  # the same text (nothing changed), or an old message
        await query.edit_message_text(settings_text(saved, lang),
                                      reply_markup=settings_keyboard(lang))
