"""The Telegram bot's wiring: main() builds the Application, adds a handler per update kind,
and runs it (polling, or a webhook). Start-up resumes unfinished jobs; shutdown leaves them in
the job records for the next start.

A request's path: handlers.py (the update) → intake.py (a job record) → runner.py (through
the queue, bot/queue/client.py) → delivery.py (audio, MIDI, sheet music).
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import time
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import metrics
from bot.queue.client import QueueClient
from bot.queue.embedded import warm_in_background
from bot.settings import BOTFATHER_HELP, Settings
from bot.telegram import handlers
from bot.telegram.jobs import ACTIVE, JobStore
from bot.telegram.runner import start_runner
from bot.telegram.runtime import Runtime, runtime
from bot.telegram.texts import COMMANDS, EN, LOCALES, t
from bot.telegram.user_settings import user_settings
from composer.i18n import FALLBACKS, languages

logger = logging.getLogger("isadei.bot")
WARM_IDLE_S = 1.0  # warm the composer once no update has come for this long


def language_codes() -> list[tuple[str, str | None]]:
    """(language, Telegram language_code) for each profile to register: the default (no
    code) in English, then each language we have, and the clients that read one of them."""
    codes: list[tuple[str, str | None]] = [(EN, None)]
    for lang in languages(LOCALES):
        codes.append((lang, lang))
        codes += [(lang, client) for client, read in FALLBACKS.items() if read == lang]
    return codes


async def register_profile(app: Application) -> None:
    """The command menu, the description ("What can this bot do?") and the short description
    (the profile page) in each language."""
    for lang, code in language_codes():
        commands = [BotCommand(name, t(lang, f"cmd_{name}")) for name in COMMANDS]
        await app.bot.set_my_commands(commands, language_code=code)
    for lang, code in language_codes():
        await app.bot.set_my_description(t(lang, "description"), language_code=code)
        await app.bot.set_my_short_description(t(lang, "short_description"), language_code=code)


async def post_init(app: Application) -> None:
    """Register the profile, start the queue, resume unfinished jobs."""
    await register_profile(app)
    rt = runtime(app)
    await rt.queue.start()
    if rt.settings.metrics_port and app.job_queue:
        app.job_queue.run_repeating(update_gauges, interval=5, first=1)
    unfinished = rt.store.active()
    for job in unfinished:
        start_runner(app, job.id)
    if rt.settings.embedded and rt.settings.warm_start:
        task = asyncio.create_task(warm_when_idle(rt), name="warm")
        rt.background.add(task)
        task.add_done_callback(rt.background.discard)
    logger.info(
        "Isadei is up as @%s; resumed %d unfinished job(s)", app.bot.username, len(unfinished)
    )


async def warm_when_idle(rt: Runtime) -> None:
    """Load the composer in the background once the updates waiting at start are answered:
    loading stalls the event loop now and then (torch's C parts hold the GIL), so not
    while the first replies are being made; a song composed before loads what it needs."""
    while time.monotonic() - rt.last_update < WARM_IDLE_S:
        await asyncio.sleep(WARM_IDLE_S / 4)
    warm_in_background()


async def note_update(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every update, before its handler: when the bot last had something to answer."""
    runtime(context.application).last_update = time.monotonic()


async def update_gauges(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Jobs per state, for /metrics (read here, on the event loop: SQLite is not shared)."""
    rt = runtime(context.application)
    counts = rt.store.count_active()
    for state in ACTIVE:
        metrics.bot_active.labels(state).set(counts.get(state, 0))
    if not rt.settings.embedded:
        metrics.redis_up.set(1 if await rt.queue.ping() else 0)


async def post_stop(app: Application) -> None:
    """Stop the runners; their jobs stay in the records and resume on the next start."""
    tasks = list(runtime(app).runners.values())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def post_shutdown(app: Application) -> None:
    """Close the queue and the job records."""
    rt = runtime(app)
    await rt.queue.shutdown()
    rt.store.close()
    user_settings(app).close()


class RedactingFormatter(logging.Formatter):
    """Never let the bot token into the logs (httpx logs URLs that contain it)."""

    def __init__(self, secrets: list[str], fmt: str):
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<token>")
        return text


def setup_logging(settings: Settings, token: str) -> None:
    handler = logging.StreamHandler()
    secrets = [token, token.partition(":")[2]]
    if settings.webhook_secret:
        secrets.append(settings.webhook_secret.get_secret_value())
    handler.setFormatter(
        RedactingFormatter(secrets, "%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.basicConfig(level=settings.log_level.upper(), handlers=[handler], force=True)
    logging.captureWarnings(True)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # INFO lines carry the token in URLs
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    sys.excepthook = lambda *exc: logging.getLogger("isadei").critical("crashed", exc_info=exc)


def build_application(settings: Settings) -> Application:
    """The PTB Application with every handler wired (no network until it runs)."""
    assert settings.token is not None
    builder = (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .rate_limiter(AIORateLimiter(max_retries=3))
        .concurrent_updates(True)  # one slow handler must not hold up the others
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    if settings.api_url:
        builder = builder.base_url(settings.api_url)
    if settings.file_url:
        builder = builder.base_file_url(settings.file_url)
    app = builder.build()
    app.bot_data["rt"] = Runtime(
        settings=settings, store=JobStore(settings.db_path), queue=QueueClient(settings)
    )

    app.add_handler(TypeHandler(Update, note_update), group=-1)  # then the handlers below
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    text = filters.TEXT & ~filters.COMMAND
    groups = filters.ChatType.GROUPS & text & filters.UpdateType.MESSAGE
    for name, callback in (
        ("start", handlers.start),
        ("help", handlers.help_command),
        ("styles", handlers.styles_command),
        ("settings", handlers.settings_command),
        ("compose", handlers.compose_command),
        ("cancel", handlers.cancel_command),
        ("stats", handlers.stats_command),
    ):
        app.add_handler(CommandHandler(name, callback))
    app.add_handler(MessageHandler(private & text, handlers.private_text))
    app.add_handler(MessageHandler(groups, handlers.group_text))
    # A user's own tune (voice, audio, .abc, .txt, .mid) becomes a song: in a private chat, and in
    # a group when addressed (the handlers check: a mention in the caption, a reply to the bot).
    tunes = filters.UpdateType.MESSAGE & (filters.ChatType.PRIVATE | filters.ChatType.GROUPS)
    app.add_handler(MessageHandler(tunes & filters.VOICE, handlers.voice_tune))
    app.add_handler(MessageHandler(tunes & (filters.Document.FileExtension("abc")
                                            | filters.Document.FileExtension("txt")),
                                   handlers.text_tune))
    app.add_handler(MessageHandler(tunes & (filters.Document.FileExtension("mid")
                                            | filters.Document.FileExtension("midi")
                                            | filters.Document.MimeType("audio/midi")),
                                   handlers.midi_tune))
    app.add_handler(MessageHandler(tunes & (filters.AUDIO | filters.Document.AUDIO),
                                   handlers.audio_tune))  # (after .mid: audio/midi)
    app.add_handler(MessageHandler(private & filters.Document.ALL, handlers.other_document))
    app.add_handler(MessageHandler(private & filters.COMMAND, handlers.unknown_command))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.EDITED,
                                   handlers.edited_message))
    app.add_handler(MessageHandler(private, handlers.other_message))  # photos, stickers, ...
    app.add_handler(CallbackQueryHandler(handlers.button))
    app.add_handler(InlineQueryHandler(handlers.inline_query))
    app.add_handler(ChosenInlineResultHandler(handlers.chosen_inline_result))
    app.add_error_handler(handlers.on_error)
    return app


def main(settings: Settings) -> None:
    """`isadei bot`: run the bot with long polling (or a webhook) until Ctrl-C or SIGTERM."""
    if settings.token is None or not settings.token.get_secret_value().strip():
        print(BOTFATHER_HELP, file=sys.stderr)
        sys.exit(2)
    setup_logging(settings, settings.token.get_secret_value())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.webhook and not valid_secret(settings):
        print(WEBHOOK_SECRET_HELP, file=sys.stderr)
        sys.exit(2)
    app = build_application(settings)
    logger.info(
        "starting (data in %s, %s mode, %s)",
        settings.data_dir,
        "embedded" if settings.embedded else "distributed",
        "webhook" if settings.webhook else "polling",
    )
    if settings.metrics_port:
        metrics.serve(settings.metrics_port)
    if settings.webhook:
        assert settings.webhook_url and settings.webhook_secret
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.strip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)


WEBHOOK_SECRET_HELP = (
    "isadei bot: ISADEI_WEBHOOK_URL is set, so ISADEI_WEBHOOK_SECRET must be too: 1-256 "
    "characters A-Z a-z 0-9 _ -. Telegram sends it with every update, and updates without it "
    "are refused, so nobody else can post fake updates to the bot. Make one with\n"
    "    python -c 'import secrets; print(secrets.token_urlsafe(32))'"
)


def valid_secret(settings: Settings) -> bool:
    """Telegram's rule for a webhook secret token."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    return bool(re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret))

