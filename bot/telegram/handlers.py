"""The handlers: one per kind of update, wired in bot/telegram/app.py. In a private chat every
message gets an answer; in groups the bot speaks only when spoken to."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import Chat, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.telegram import tunes
from bot.telegram.delivery import log_job
from bot.telegram.guard import may_press
from bot.telegram.intake import (
    ACTIONS,
    accept,
    accept_text,
    derive,
    parse_request,
    style_request,
    user_lang,
)
from bot.telegram.jobs import Job
from bot.telegram.menus import MENUS, apply_choice, menu_keyboard, menu_title
from bot.telegram.runtime import runtime
from bot.telegram.settings_menu import change_setting, settings_keyboard, settings_text
from bot.telegram.sharing import (
    COMPOSE_RESULT,
    INLINE_SOURCE,
    deep_link,
    inline_results,
    read_payload,
    replay_request,
    watch_inline_job,
)
from bot.telegram.small_talk import small_talk
from bot.telegram.status import edit_status
from bot.telegram.texts import clip, t
from bot.telegram.user_settings import user_settings
from bot.telegram.words import describe, song_keyboard, styles_keyboard
from composer.i18n import number
from composer.styles import STYLES
from composer.written import written_tune

logger = logging.getLogger("isadei.bot")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say who Isadei is; a deep link's payload starts a style or replays a shared song."""
    lang = user_lang(update, context)
    message = update.effective_message
    link = read_payload(context.args[0]) if context.args else None
    if link and link[0] == "style":
        await start_job(update, context, style_request(link[1], lang), lang, "dl")
        return
    if link and link[0] == "song":
        parent = runtime(context.application).store.get(link[1])
        if parent is not None and parent.audio_file_id:
            await message.reply_text(t(lang, "replay"))
            request, seed = replay_request(parent)
            await start_job(update, context, request, lang, "dl", seed=seed, parent=parent)
            return
    await message.reply_text(t(lang, "start"), reply_markup=styles_keyboard(lang))


async def start_job(update: Update, context: ContextTypes.DEFAULT_TYPE, request: dict,
                    lang: str, kind: str, seed: int | None = None,
                    parent: Job | None = None) -> None:
    """Accept a job made by a command or link (not by words); say why not if refused."""
    message = update.effective_message
    _, reason = accept(context.application, update, request,
                       source=f"{kind}:{message.chat_id}:{message.message_id}", lang=lang,
                       seed=seed, parent_id=parent.id if parent else None)
    if reason and runtime(context.application).refusals.allow(update):
        await message.reply_text(reason)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands and what a request can say."""
    await update.effective_message.reply_text(
        t(user_lang(update, context), "help", bot=context.bot.username)
    )


async def styles_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the styles as buttons; a tap composes one."""
    lang = user_lang(update, context)
    await update.effective_message.reply_text(t(lang, "styles"), reply_markup=styles_keyboard(lang))


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the user's defaults (language, instrument, length) with buttons to change them."""
    lang = user_lang(update, context)
    saved = user_settings(context.application).get(update.effective_user.id)
    await update.effective_message.reply_text(
        settings_text(saved, lang), reply_markup=settings_keyboard(lang))


async def compose_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/compose TEXT: compose what the text asks for (no text: offer the styles)."""
    message = update.effective_message
    parts = (message.text or "").split(maxsplit=1)
    text = parts[1].strip() if len(parts) > 1 else ""
    if not text:
        lang = user_lang(update, context)
        await message.reply_text(t(lang, "compose_empty"), reply_markup=styles_keyboard(lang))
        return
    await accept_words(update, context, text)


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text in a private chat is a request (a tune written in it: a song around it)."""
    await accept_words(update, context, update.effective_message.text or "")


async def accept_words(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Words are a request; a tune written among them (ABC, note names) is a tune to build
    the song around; a greeting or thanks on its own gets a word back, not a song."""
    if answer := small_talk(text):
        lang = user_lang(update, context, text)
        message = update.effective_message
        await message.reply_text(t(lang, answer, bot=context.bot.username),
                                 reply_markup=None if answer == "help" else styles_keyboard(lang),
                                 do_quote=message.chat.type != ChatType.PRIVATE)
    elif written_tune(text):
        await tunes.tune_message(update, context, text)
    else:
        await accept_text(update, context, text)


def addressed_text(message: Message, bot_id: int, username: str) -> str | None:
    """The request in a group message meant for the bot (a mention, a reply to the bot, a
    message sent via the bot's inline mode), or None for the group's other chatter. A voice
    message or file is addressed the same way, in its caption."""
    text = message.text or message.caption or ""
    if message.via_bot and message.via_bot.id == bot_id:
        return text
    entities = message.parse_entities if message.text else message.parse_caption_entities
    for entity, value in entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        mentioned = entity.type == MessageEntity.MENTION and value.lower() == f"@{username}".lower()
        if mentioned or (entity.user is not None and entity.user.id == bot_id):
            return text.replace(value, " ").strip()
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == bot_id:
        return text
    return None


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer mentions, replies to the bot and inline-mode requests; ignore the rest."""
    text = addressed_text(update.effective_message, context.bot.id, context.bot.username)
    if text is not None:
        await accept_words(update, context, text)


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str) -> None:
    """A short friendly answer in the user's language, with the styles to tap."""
    lang = user_lang(update, context)
    await update.effective_message.reply_text(t(lang, key), reply_markup=styles_keyboard(lang))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have: say which ones it has."""
    await reply(update, context, "unknown_command")


async def edited_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message: the song for the first words is on its way; new words, new message."""
    await update.effective_message.reply_text(t(user_lang(update, context), "edited"))


async def other_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo, a sticker, a location...: say what the bot can do."""
    await reply(update, context, "other")


async def voice_tune(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A voice message: a sung or hummed tune becomes a song."""
    await own_tune(update, context)


async def audio_tune(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An audio file: a recorded tune becomes a song."""
    await own_tune(update, context)


async def text_tune(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An .abc or .txt document: a tune written out (ABC, or note names) becomes a song."""
    await own_tune(update, context)


async def midi_tune(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A .mid document: its melody becomes a song."""
    await own_tune(update, context)


async def own_tune(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A user's tune in a private chat, or in a group when addressed (a mention in the
    caption, a reply to the bot): a song around it (bot/telegram/tunes.py). The caption's
    words say the style ("as a waltz"), else the tune does."""
    message = update.effective_message
    words = (message.caption or "") if message.chat.type == ChatType.PRIVATE else \
        addressed_text(message, context.bot.id, context.bot.username)
    if words is not None:
        await tunes.tune_message(update, context, words)


async def other_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other document: the bot composes from words."""
    await reply(update, context, "document")


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remove the user's songs that are still waiting in line."""
    rt = runtime(context.application)
    lang = user_lang(update, context)
    cancelled = rt.store.cancel_queued(update.effective_user.id)
    for job in cancelled:
        log_job(job)
        await edit_status(
            context.bot, rt, job, t(job.lang, "status_cancelled", what=describe(job, job.lang))
        )
    if cancelled:
        text = t(lang, "cancel_done", count=len(cancelled))
    else:
        text = t(lang, "cancel_none")
        if rt.store.active(update.effective_user.id):
            text += t(lang, "cancel_running")
    await update.effective_message.reply_text(text)


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """For admins: songs today, queue length, p50/p95 latency."""
    rt = runtime(context.application)
    lang = user_lang(update, context)
    if update.effective_user.id not in rt.settings.admin_ids:
        await update.effective_message.reply_text(t(lang, "not_admin"))
        return
    midnight = time.mktime(time.localtime()[:3] + (0, 0, 0, 0, 0, -1))
    stats = rt.store.stats(midnight)
    seconds = {k: "—" if stats[k] is None else t(lang, "seconds_short", seconds=number(
        stats[k], lang)) for k in ("p50", "p95")}
    await update.effective_message.reply_text(t(lang, "stats", **{**stats, **seconds}))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tap: a style composes one; under a song, a button composes a new take or opens a
    menu (instrument, mood, key, length) whose choice does; /settings' buttons save."""
    query = update.callback_query
    rt = runtime(context.application)
    action, _, rest = (query.data or "").partition(":")
    option, _, job_id = rest.rpartition(":")
    if action == "cfg":
        await change_setting(update, context, rest)
        return
    parent = rt.store.get(job_id) if action in (*ACTIONS, "menu", "set", "back") else None
    if parent is not None and not may_press(parent, update):  # forged, or another's song
        parent = None
    lang = parent.lang if parent else user_lang(update, context)
    request, seed = None, None
    if action == "style" and rest in STYLES:
        request = style_request(rest, lang)
    elif parent is not None and action in ACTIONS:
        request, seed = derive(action, parent)
    elif parent is not None and action == "set":
        request, seed = apply_choice(parent.request, option), parent.seed
    elif parent is not None and action in ("menu", "back") and option in (*MENUS, ""):
        markup = menu_keyboard(option, parent, lang) if action == "menu" else \
            song_keyboard(parent, lang)
        await query.answer(menu_title(option, lang) if action == "menu" else None)
        try:
            await query.edit_message_reply_markup(markup)
        except TelegramError as error:  # an old message, or the same markup
            logger.debug("menu not shown: %r", error)
        return
    if request is None or update.effective_chat is None:  # (inline messages have no chat)
        await query.answer(t(lang, "gone"), show_alert=True)
        return
    job, reason = accept(
        context.application,
        update,
        request,
        source=f"cb:{query.id}",
        lang=lang,
        seed=seed,
        parent_id=parent.id if parent else None,
    )
    await query.answer(clip(reason, 200) if reason else t(lang, "on_it"), show_alert=bool(reason))


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """@bot TEXT in any chat: "compose this" (composed right there), the song a Share button
    names, the user's songs (by file_id), and the styles."""
    query = update.inline_query
    text = query.query.strip()
    lang = user_lang(update, context, text)
    results = inline_results(runtime(context.application), query.from_user.id, text, lang,
                             context.bot.username)
    await query.answer(results, cache_time=5, is_personal=True)


async def chosen_inline_result(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The user posted "🎼 composing ..." from inline mode: compose it, and edit the song into
    that message when it is ready (sharing.edit_inline_song)."""
    chosen = update.chosen_inline_result
    if not chosen.result_id.startswith(COMPOSE_RESULT) or not chosen.inline_message_id:
        return
    user, text = chosen.from_user, chosen.query.strip()
    lang = user_lang(update, context, text)
    try:  # the song is made in the user's chat with the bot: is it open?
        await context.bot.send_chat_action(user.id, "record_voice")
    except Forbidden:
        link = deep_link(context.bot.username, "inline")
        await context.bot.edit_message_text(
            t(lang, "inline_need_start", bot=context.bot.username) + "\n" + link,
            inline_message_id=chosen.inline_message_id)
        return
    private = Chat(user.id, ChatType.PRIVATE)
    job, reason = accept(
        context.application, update,
        parse_request(text, lang, user_settings(context.application).get(user.id)),
        source=INLINE_SOURCE + chosen.inline_message_id, lang=lang, chat=private)
    if job is not None:
        task = asyncio.create_task(watch_inline_job(context.application, job.id))
        runtime(context.application).background.add(task)
        task.add_done_callback(runtime(context.application).background.discard)
    elif reason:
        await context.bot.edit_message_text(clip(reason, 4000),
                                            inline_message_id=chosen.inline_message_id)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every error once, with the job id when there is one."""
    if isinstance(update, Job):
        logger.error("job=%s failed: %r", update.id, context.error, exc_info=context.error)
    elif isinstance(update, Update):
        logger.error(
            "update=%s failed: %r", update.update_id, context.error, exc_info=context.error
        )
    else:
        logger.error("error: %r", context.error, exc_info=context.error)

