"""The handlers: one per kind of update, wired in bot/telegram/app.py."""

from __future__ import annotations

import json
import logging
import time

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultCachedAudio,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.ext import ContextTypes

from bot.telegram.delivery import log_job
from bot.telegram.intake import ACTIONS, accept, accept_text, derive, style_request
from bot.telegram.jobs import Job
from bot.telegram.runtime import runtime
from bot.telegram.status import edit_status
from bot.telegram.texts import clip, lang_of, style_label, t
from bot.telegram.words import caption_of, describe, styles_keyboard, title_of
from composer.styles import STYLES

logger = logging.getLogger("isadei.bot")


def user_lang(update: Update) -> str:
    user = update.effective_user
    message = update.effective_message
    return lang_of(user.language_code if user else None, (message.text or "") if message else "")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say who Isadei is and what to try."""
    lang = user_lang(update)
    await update.effective_message.reply_text(t(lang, "start"), reply_markup=styles_keyboard(lang))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands and what a request can say."""
    await update.effective_message.reply_text(
        t(user_lang(update), "help", bot=context.bot.username)
    )


async def styles_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the styles as buttons; a tap composes one."""
    lang = user_lang(update)
    await update.effective_message.reply_text(t(lang, "styles"), reply_markup=styles_keyboard(lang))


async def compose_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/compose TEXT: compose what the text asks for (no text: offer the styles)."""
    message = update.effective_message
    parts = (message.text or "").split(maxsplit=1)
    text = parts[1].strip() if len(parts) > 1 else ""
    if not text:
        lang = user_lang(update)
        await message.reply_text(t(lang, "compose_empty"), reply_markup=styles_keyboard(lang))
        return
    await accept_text(update, context, text)


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text in a private chat is a request."""
    await accept_text(update, context, update.effective_message.text or "")
def addressed_text(message: Message, bot_id: int, username: str) -> str | None:
    """The request in a group message meant for the bot (a mention, a reply to the bot, a
    message sent via the bot's inline mode), or None for the group's other chatter."""
    text = message.text or ""
    if message.via_bot and message.via_bot.id == bot_id:
        return text
    for entity, value in message.parse_entities(
        [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    ).items():
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
        await accept_text(update, context, text)


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remove the user's songs that are still waiting in line."""
    rt = runtime(context.application)
    lang = user_lang(update)
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
    lang = user_lang(update)
    if update.effective_user.id not in rt.settings.admin_ids:
        await update.effective_message.reply_text(t(lang, "not_admin"))
        return
    midnight = time.mktime(time.localtime()[:3] + (0, 0, 0, 0, 0, -1))
    stats = rt.store.stats(midnight)
    seconds = {k: "—" if stats[k] is None else f"{stats[k]:.1f} s" for k in ("p50", "p95")}
    await update.effective_message.reply_text(t(lang, "stats", **{**stats, **seconds}))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tap on a style or on a button under a song composes a new one."""
    query = update.callback_query
    rt = runtime(context.application)
    action, _, arg = (query.data or "").partition(":")
    parent = rt.store.get(arg) if action in ACTIONS else None
    lang = lang_of(query.from_user.language_code, parent.request.get("text", "") if parent else "")
    if action == "style" and arg in STYLES:
        request, seed = style_request(arg), None
    elif parent is not None:
        request, seed = derive(action, parent)
    else:
        await query.answer(t(lang, "gone"), show_alert=True)
        return
    if update.effective_chat is None:  # a button on an inline message: no chat to answer in
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
    """@bot TEXT in any chat: the user's songs (already uploaded, shared by file_id), a
    "compose this" entry, and the styles."""
    query = update.inline_query
    rt = runtime(context.application)
    text = query.query.strip()
    lang = lang_of(query.from_user.language_code, text)
    songs = rt.store.recent_songs(query.from_user.id, limit=20)
    words = [w for w in text.lower().split() if len(w) > 2]
    matching = [
        job
        for job in songs
        if any(
            w in json.dumps(job.request, ensure_ascii=False).lower() or w in title_of(job).lower()
            for w in words
        )
    ]
    results: list = [
        InlineQueryResultCachedAudio(
            id=f"song:{job.id}",
            audio_file_id=job.audio_file_id,
            caption=clip(caption_of(job, lang), 1000),
        )
        for job in (matching or songs)
    ]
    if text:
        results.append(
            InlineQueryResultArticle(
                id="compose",
                title=clip(t(lang, "inline_compose", text=text), 100),
                description=t(lang, "inline_compose_desc"),
                input_message_content=InputTextMessageContent(clip(f"🎼 {text}", 4000)),
            )
        )
    for sid in STYLES:
        results.append(
            InlineQueryResultArticle(
                id=f"style:{sid}",
                title=style_label(lang, sid),
                description=t(lang, "inline_style_desc", what=STYLES[sid].description),
                input_message_content=InputTextMessageContent(f"🎼 {sid}"),
            )
        )
    await query.answer(results[:50], cache_time=5, is_personal=True)


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


