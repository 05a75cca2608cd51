"""Fast tests of the bot's parts: job records, limits, buttons, texts, settings, the queue task."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from telegram import Message

from bot.queue import embedded
from bot.queue.client import QueueClient
from bot.settings import Settings
from bot.telegram import app as botapp
from bot.telegram.handlers import addressed_text
from bot.telegram.intake import derive, refusal
from bot.telegram.jobs import (
    CANCELLED,
    COMPOSING,
    DONE,
    FAILED,
    QUEUED,
    DuplicateJob,
    Job,
    JobStore,
    new_job_id,
    percentile,
)
from bot.telegram.runtime import Runtime, runtime
from bot.telegram.small_talk import small_talk
from bot.telegram.status import status_text
from bot.telegram.texts import EN, RU
from bot.telegram.words import caption_of, song_keyboard, styles_keyboard
from composer.music import transpose_key
from composer.request import SongRequest
from composer.song import SectionRecord, SongRecord
from tests.conftest import BOT_TOKEN
from tests.fake_bot_api import BOT_ID

REQUEST = {
    "style": "waltz",
    "mode": "minor",
    "key": "D",
    "tempo_bpm": None,
    "length_seconds": 30,
    "instrument": None,
    "seed": None,
    "notes": [],
    "text": "a sad waltz in D minor",
}


def make_job(store: JobStore, user_id: int = 1, state: str = QUEUED, **fields) -> Job:
    fields.setdefault("request", dict(REQUEST))
    job = Job(
        id=new_job_id(),
        source=f"m:{user_id}:{new_job_id()}",
        user_id=user_id,
        chat_id=user_id,
        seed=7,
        state=state,
        **fields,
    )
    return store.create(job)


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    store = JobStore(tmp_path / "jobs.sqlite3")
    yield store
    store.close()


# -- job records --


def test_job_round_trip_and_duplicates(store: JobStore, tmp_path: Path):
    job = make_job(store, timings={"queued": 0.5}, result={"mp3": "/x.mp3", "info": {"key": "D"}})
    again = store.get(job.id)
    assert again == job and again.request["style"] == "waltz" and again.result["info"]["key"] == "D"
    with pytest.raises(DuplicateJob):
        store.create(
            Job(id=new_job_id(), source=job.source, user_id=1, chat_id=1, request={}, seed=1)
        )
    store.update(job.id, state=COMPOSING, audio_file_id="F1")
    store.close()
    reopened = JobStore(tmp_path / "jobs.sqlite3")  # a restart keeps everything
    assert reopened.get(job.id).state == COMPOSING and reopened.get(job.id).audio_file_id == "F1"
    reopened.close()


def test_active_cancel_and_counting(store: JobStore):
    first = make_job(store, user_id=1, state=COMPOSING)
    second = make_job(store, user_id=1)
    other = make_job(store, user_id=2)
    make_job(store, user_id=1, state=DONE)
    assert [j.id for j in store.active()] == [first.id, second.id, other.id]
    assert [j.id for j in store.active(1)] == [first.id, second.id]
    cancelled = store.cancel_queued(1)
    assert [j.id for j in cancelled] == [second.id] and cancelled[0].state == CANCELLED
    assert store.get(first.id).state == COMPOSING  # already composing: not cancelled
    assert len(store.created_since(1, time.time() - 60)) == 2  # cancelled ones do not count


def test_uploaded_needs_every_file_id(store: JobStore):
    job = make_job(store, state=DONE, result={"info": {}}, audio_file_id="A", midi_file_id="M")
    assert store.uploaded(job.song_key) is None
    store.update(job.id, sheet_file_id="S")
    assert store.uploaded(job.song_key).id == job.id
    assert [j.id for j in store.recent_songs(1)] == [job.id]


def test_stats_and_percentiles(store: JobStore):
    now = time.time()
    for latency in (1, 2, 3, 4, 100):
        make_job(store, state=DONE, created_at=now - latency, finished_at=now)
    make_job(store, state=FAILED, finished_at=now)
    make_job(store)
    stats = store.stats(now - 3600)
    assert stats["done"] == 5 and stats["failed"] == 1 and stats["active"] == 1
    assert round(stats["p50"]) == 3 and round(stats["p95"]) == 100
    assert percentile([], 50) is None and percentile([5.0], 95) == 5.0


# -- limits --


def limits_runtime(store: JobStore, **limits) -> Runtime:
    settings = Settings(**limits)
    return Runtime(settings=settings, store=store, queue=QueueClient(settings))


def test_limit_on_songs_in_progress(store: JobStore):
    rt = limits_runtime(store, max_active_per_user=2)
    make_job(store, user_id=1)
    assert refusal(rt, 1, EN) is None
    make_job(store, user_id=1)
    assert "2 songs on the way" in refusal(rt, 1, EN)
    assert "2 песни" in refusal(rt, 1, RU)
    assert refusal(rt, 2, EN) is None  # others are not held up


def test_limit_per_hour_says_when(store: JobStore):
    rt = limits_runtime(store, max_per_hour=3)
    now = time.time()
    for minutes_ago in (50, 20, 10):
        make_job(store, state=DONE, created_at=now - minutes_ago * 60, finished_at=now)
    text = refusal(rt, 1, EN)
    assert "this hour" in text and "10 minutes" in text  # the oldest leaves the hour in 10


def test_limit_on_the_whole_queue(store: JobStore):
    rt = limits_runtime(store, queue_cap=3)
    for user_id in (5, 6, 7):
        make_job(store, user_id=user_id)
    assert "swamped" in refusal(rt, 1, EN)


# -- buttons and words --


def done_job(store: JobStore) -> Job:
    form = tuple(
        SectionRecord(name=name, kind=name.split()[0], material="A", start_bar=1 + 8 * i,
                      bars=8, start_seconds=15.0 * i, seconds=15.0)
        for i, name in enumerate(("Intro", "Part A"))
    )
    record = SongRecord(
        title="The Lark",
        request=SongRequest.from_json(REQUEST),
        style="waltz",
        key="D",
        mode="minor",
        tempo_bpm=100,
        meter="3/4",
        instrument="violin",
        seed=7,
        form=form,
        duration_seconds=31.0,
    )
    assert SongRecord.from_json(record.to_json()).to_json() == record.to_json()  # a round trip
    return make_job(
        store,
        state=DONE,
        result={"duration_seconds": 31.0, "mp3": "/a.mp3", "info": record.to_json()},
    )


def test_buttons_derive_new_requests(store: JobStore):
    parent = done_job(store)
    request, seed = derive("again", parent)
    assert seed != parent.seed and request["seed"] is None and request["style"] == "waltz"
    request, seed = derive("var", parent)
    assert seed == parent.seed and request["key"] == "A" and request["tempo_bpm"] == 110
    request, seed = derive("long", parent)
    assert seed == parent.seed and request["length_seconds"] == 62
    request, _ = derive("inst", parent)
    assert request["instrument"] == "flute"  # the one after violin
    assert transpose_key("Bb", 7, "major") == "F" and transpose_key("F#", 7, "minor") == "C#"
    assert transpose_key(None, 7, "major") is None and transpose_key("x", 7, "major") is None


def test_callback_data_fits_and_captions_stay_short(store: JobStore, fake_composer):
    job = done_job(store)
    hostile = dict(REQUEST, text="<b>" * 2000, notes=["x" * 5000, "y" * 5000])
    loud = make_job(store, state=QUEUED, request=hostile, message_id=None)
    for lang in (EN, RU):
        keyboard = song_keyboard(job, lang).inline_keyboard
        assert all(len((b.callback_data or "").encode()) <= 64 for row in keyboard for b in row)
        styles = styles_keyboard(lang).inline_keyboard
        assert all(len(b.callback_data.encode()) <= 64 for row in styles for b in row)
        caption = caption_of(job, lang)
        title, form = ("Waltz in D minor", "Intro · Part A") if lang == EN else \
            ("Вальс ре минор", "Вступление · Часть A")
        assert title in caption and form in caption and len(caption) <= 1024
        assert len(status_text(loud, lang, 3)) <= 4096


def test_group_messages_addressed_to_the_bot():
    def message(text: str, **extra) -> Message:
        data = {
            "message_id": 5,
            "date": 0,
            "chat": {"id": -1, "type": "group"},
            "text": text,
            "from": {"id": 9, "is_bot": False, "first_name": "A"},
            **extra,
        }
        return Message.de_json(data, None)

    def addressed(msg: Message) -> str | None:
        return addressed_text(msg, BOT_ID, "isadei_test_bot")

    bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "Isadei"}
    assert addressed(message("nice weather")) is None
    mention = [{"type": "mention", "offset": 0, "length": 16}]
    assert addressed(message("@Isadei_test_bot a jig", entities=mention)) == "a jig"
    other = [{"type": "mention", "offset": 0, "length": 10}]
    assert addressed(message("@other_bot a jig", entities=other)) is None
    text_mention = [{"type": "text_mention", "offset": 0, "length": 6, "user": bot_user}]
    assert addressed(message("Isadei a reel", entities=text_mention)) == "a reel"
    reply = {"message_id": 4, "date": 0, "chat": {"id": -1, "type": "group"}, "from": bot_user}
    assert addressed(message("and a march", reply_to_message=reply)) == "and a march"
    assert addressed(message("🎼 waltz", via_bot=bot_user)) == "🎼 waltz"


# -- settings, logging, wiring --


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:1/bot")
    monkeypatch.setenv("ISADEI_ADMIN_IDS", "1, 2 3")
    monkeypatch.setenv("ISADEI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ISADEI_MAX_PER_HOUR", "5")
    settings = Settings()
    assert settings.token.get_secret_value() == BOT_TOKEN and BOT_TOKEN not in repr(settings)
    assert settings.admin_ids == [1, 2, 3] and settings.max_per_hour == 5
    assert settings.db_path == tmp_path / "jobs.sqlite3" and settings.embedded

    app = botapp.build_application(settings)
    assert app.bot.base_url == f"http://127.0.0.1:1/bot{BOT_TOKEN}"
    names = {type(h).__name__ for group in app.handlers.values() for h in group}
    assert {
        "CommandHandler",
        "MessageHandler",
        "CallbackQueryHandler",
        "InlineQueryHandler",
    } <= names
    runtime(app).store.close()


def test_no_token_exits_with_botfather_help(monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        botapp.main(Settings())
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "@BotFather" in err and "TELEGRAM_BOT_TOKEN" in err


def test_token_is_redacted_from_log_lines():
    formatter = botapp.RedactingFormatter([BOT_TOKEN, BOT_TOKEN.split(":")[1]], "%(message)s")
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        "POST https://api.telegram.org/bot%s/getUpdates",
        (BOT_TOKEN,),
        None,
    )
    line = formatter.format(record)
    assert BOT_TOKEN not in line and "<token>" in line


# -- the queue task --


def test_compose_task_is_idempotent_by_job_id(fake_composer, bot_data_dir: Path, monkeypatch):
    calls = []
    real = embedded.compose_files
    monkeypatch.setattr(embedded, "compose_files", lambda *a: calls.append(a) or real(*a))
    queue = QueueClient(Settings())

    async def scenario() -> tuple:
        await queue.start()
        first = await (await queue.submit("jtest1", REQUEST, 11, 0)).wait_result(timeout=30)
        again = await (await queue.submit("jtest1", REQUEST, 11, 1)).wait_result(timeout=30)
        failing = dict(REQUEST, text="fail always")
        failed = await (await queue.submit("jtest2", failing, 11, 0)).wait_result(timeout=30)
        await queue.shutdown()
        return first, again, failed

    first, again, failed = asyncio.run(scenario())
    assert not first.is_err and Path(first.return_value["mp3"]).exists()
    assert first.return_value["info"]["seed"] == 11
    assert Path(first.return_value["mp3"]).parent == bot_data_dir / "songs" / "jtest1"
    assert again.return_value["reused"] is True
    assert [call[2].name for call in calls] == ["jtest1", "jtest2"]  # jtest1 composed once
    assert failed.is_err and "fail" in str(failed.error)
    assert not (bot_data_dir / "songs" / "jtest2").exists()  # no half-written song


@pytest.mark.parametrize("text,answer", [
    ("Hi!", "start"), ("Привет 👋", "start"), ("hey bot", "start"),
    ("thank you so much!!", "thanks"), ("спасибо большое!", "thanks"),
    ("@isadei_bot thanks", "thanks"), ("Что ты умеешь?", "help"), ("what can you do?", "help"),
    ("cool!", "praise"), ("Круто!!", "praise"), ("👍", "praise"), ("🔥🔥", "praise"),
    ("ok", "praise"),
    ("🎻", None),  # an instrument's emoji may be a wish
    # a wish, even one that starts with a greeting or thanks, is a request
    ("hi, play a waltz", None), ("спасибо, а теперь вальс", None), ("a song for my dog", None),
    ("help me compose a jig", None), ("Jig", None), ("", None),
])
def test_small_talk_is_told_from_a_request(text: str, answer: str | None) -> None:
    assert small_talk(text) == answer
