"""Distributed mode end to end: the real `isadei bot` with ISADEI_REDIS_URL, `isadei worker`
processes, a real redis-server and the fake Bot API, all on 127.0.0.1.

Workers run the stand-in engine (tests/test_worker.py) unless a test says otherwise; the bot
never composes in this mode, so it is the real bot. The smoke test runs by default; the long
scenarios (100 requests, Redis outage, bot restart) are marked slow.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import mido
import pytest

from tests.conftest import BOT_TOKEN, REPO, BotProcess, RedisServer, free_port
from tests.fake_bot_api import FAKE_DELAY_ENV, FakeBotApi, private_chat, user
from tests.test_bot_e2e import is_mp3

SONG_TIMEOUT = 60


class WorkerProcess:
    """`isadei worker` in its own process group (kill() takes its render processes too)."""

    def __init__(self, redis: RedisServer, base: Path, name: str, real: bool = False, **env: str):
        self.name, self.real, self.log_path = name, real, base / f"{name}.log"
        self.env = {
            **os.environ,
            "ISADEI_REDIS_URL": redis.url,
            "ISADEI_DATA_DIR": str(base / name),
            "ISADEI_WORKER_NAME": name,
            "ISADEI_IDLE_TIMEOUT_S": "2",
            "ISADEI_HEARTBEAT_S": "0.3",
            "ISADEI_BATCH_WAIT_MS": "100",
            "ISADEI_RENDER_PROCESSES": "1",
            "ISADEI_LOG_LEVEL": "INFO",
            "PYTHONFAULTHANDLER": "1",
            FAKE_DELAY_ENV: "0.3",
            **env,
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        module = "bot.cli" if self.real else "tests.test_worker"
        args = [sys.executable, "-m", module] + (["worker"] if self.real else [])
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args, cwd=REPO, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + 120
        while f"worker {self.name} up" not in self.log():
            assert self.proc.poll() is None, self.log()[-3000:]
            assert time.monotonic() < deadline, "worker did not start"
            time.sleep(0.1)
        return self

    def kill(self) -> None:
        """kill -9, render processes and all: a crash, a power cut."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        """SIGTERM, as systemd and docker stop do."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.terminate()
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGABRT)  # faulthandler: its stacks go to the log
            time.sleep(1)
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            raise AssertionError(f"worker {self.name} did not stop: {self.log()[-3000:]}") from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def distributed_bot(api: FakeBotApi, redis: RedisServer, base: Path, **env: str) -> BotProcess:
    bot = BotProcess(api, base / "bot-data", base / "bot.log", ISADEI_TEST_COMPOSER="fake")
    bot.env.update(
        {
            "ISADEI_REDIS_URL": redis.url,
            "ISADEI_MAX_ACTIVE_PER_USER": "5",
            "ISADEI_QUEUE_CAP": "500",
            "ISADEI_MAX_PER_HOUR": "100",
            **env,
        }
    )
    return bot


def ask(api: FakeBotApi, users: list[dict], count: int, text: str = "a waltz") -> list[dict]:
    """count requests, round robin over users; the messages sent."""
    return [
        api.push_message(u, private_chat(u), f"{text} {i}")
        for i, u in zip(range(count), users * count, strict=False)
    ]


def answered_once(api: FakeBotApi, asked: list[dict], timeout: float = SONG_TIMEOUT) -> None:
    """Every request got exactly one song: one audio replying to it, and one MIDI file and one
    sheet replying to that audio."""
    deadline = time.monotonic() + timeout
    wanted = {(m["chat"]["id"], m["message_id"]) for m in asked}

    def replies(method: str) -> Counter:
        return Counter(
            (int(c["chat_id"]), c["reply_parameters"]["message_id"])
            for c in api.find(method)
            if c.get("reply_parameters") and isinstance(c.result, dict) and c.result.get("ok", 1)
        )

    while not wanted <= set(replies("sendAudio")):
        missing = wanted - set(replies("sendAudio"))
        assert time.monotonic() < deadline, f"{len(missing)} request(s) unanswered: {missing}"
        time.sleep(0.2)
    audio_ids = {
        (int(c["chat_id"]), c.result["message_id"])
        for c in api.find("sendAudio")
        if (int(c["chat_id"]), (c.get("reply_parameters") or {}).get("message_id")) in wanted
    }
    while not audio_ids <= set(replies("sendDocument")) & set(replies("sendPhoto")):
        assert time.monotonic() < deadline + 30, "MIDI or sheet music missing"
        time.sleep(0.2)
    time.sleep(1.0)  # a late duplicate would show now
    audio, documents, photos = (replies(m) for m in ("sendAudio", "sendDocument", "sendPhoto"))
    assert all(audio[key] == 1 for key in wanted), [k for k in wanted if audio[k] != 1]
    assert all(documents[key] == 1 and photos[key] == 1 for key in audio_ids)


def composing(api: FakeBotApi, chat_id: int, count: int = 1, timeout: float = 30) -> None:
    """Wait until a worker has taken the chat's request(s) (the status says "composing")."""
    api.wait_for(
        "editMessageText",
        chat_id=chat_id,
        count=count,
        timeout=timeout,
        where=lambda c: (
            c["text"].startswith("🎼 composing")
            and not any(word in c["text"] for word in ("line", "next"))
        ),
    )


@pytest.fixture
def cluster(redis_server, tmp_path: Path):
    """A fake Bot API, a Redis, and lists the test fills with its bot and workers."""
    api = FakeBotApi(BOT_TOKEN).start()
    started: dict[str, list] = {"bots": [], "workers": []}
    yield api, redis_server, tmp_path, started
    for worker in started["workers"]:
        worker.stop()
    for bot in started["bots"]:
        bot.stop()
    api.stop()


def test_smoke_bot_and_worker_through_redis(cluster):
    """One bot, one worker, a few requests; then kill -9 the worker mid-batch: its jobs are
    taken over by the next worker and answered, once."""
    api, redis, base, started = cluster
    bot_metrics = free_port()
    bot = distributed_bot(api, redis, base, ISADEI_METRICS_PORT=str(bot_metrics))
    started["bots"].append(bot)
    metrics_port = free_port()
    worker = WorkerProcess(redis, base, "w1", ISADEI_METRICS_PORT=str(metrics_port)).start()
    started["workers"].append(worker)
    bot.start()
    ann, bo = user(3001, "Ann"), user(3002, "Bo")
    asked = ask(api, [ann, bo], 4)
    answered_once(api, asked)
    assert "composing" in api.find("sendMessage", chat_id=3001)[0]["text"]
    assert "batch" in worker.log()
    page = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
    assert 'isadei_worker_jobs_total{status="done"} 4.0' in page
    page = urllib.request.urlopen(f"http://127.0.0.1:{bot_metrics}/metrics").read().decode()
    assert 'isadei_bot_jobs_total{status="done"} 4.0' in page

    worker.stop()
    slow = WorkerProcess(redis, base, "w2", **{FAKE_DELAY_ENV: "30"}).start()
    started["workers"].append(slow)
    cy = user(3003, "Cy")
    asked = ask(api, [cy], 2, "a jig")
    composing(api, 3003, count=2)  # w2 holds both, in one batch
    slow.kill()
    rescuer = WorkerProcess(redis, base, "w3").start()
    started["workers"].append(rescuer)
    answered_once(api, asked)
    assert "took over 2 job(s)" in rescuer.log()
    assert "Isadei is up" in bot.log() and BOT_TOKEN not in bot.log()


@pytest.mark.slow
def test_hundred_requests_from_twenty_users_two_workers(cluster):
    """100 requests from 20 users, two workers, one of them killed -9 on the way: every
    request answered exactly once."""
    api, redis, base, started = cluster
    bot = distributed_bot(api, redis, base)
    started["bots"].append(bot)
    w1 = WorkerProcess(redis, base, "w1", **{FAKE_DELAY_ENV: "5.0"}).start()  # a slow GPU
    w2 = WorkerProcess(redis, base, "w2", **{FAKE_DELAY_ENV: "1.0"}).start()
    started["workers"] += [w1, w2]
    bot.start()
    users = [user(4000 + i, f"U{i}") for i in range(20)]
    asked = ask(api, users, 100)
    deadline = time.monotonic() + SONG_TIMEOUT
    while json.loads(redis.client().get("isadei:worker:w1") or "{}").get("in_hand", 0) < 2:
        assert time.monotonic() < deadline, "w1 took no jobs"
        time.sleep(0.05)
    w1.kill()  # in the middle of a batch (its jobs are in one for 5 s)
    w1b = WorkerProcess(redis, base, "w1b", **{FAKE_DELAY_ENV: "1.0"}).start()
    started["workers"].append(w1b)
    answered_once(api, asked, timeout=240)
    batches = [line for w in (w1, w2, w1b) for line in w.log().splitlines() if "generated" in line]
    assert len(batches) < 100  # batched
    assert "took over" in w2.log() + w1b.log()


@pytest.mark.slow
def test_redis_outage_and_bot_restart(cluster):
    """Redis stopped for a few seconds: users are told the bot is busy, and everything is
    answered once Redis is back (empty: it kept nothing). Then the bot is killed -9 while its
    jobs are with a worker: after a restart, none is lost and none is sent twice."""
    api, redis, base, started = cluster
    bot = distributed_bot(api, redis, base)
    started["bots"].append(bot)
    worker = WorkerProcess(redis, base, "w1", **{FAKE_DELAY_ENV: "1.0"}).start()
    started["workers"].append(worker)
    bot.start()
    users = [user(5000 + i, f"U{i}") for i in range(3)]
    first = ask(api, users, 3)
    answered_once(api, first)

    in_flight = ask(api, users, 3, "a reel")
    composing(api, 5000, count=2)  # the worker has them (and a status was edited before)
    redis.stop()
    late = ask(api, [user(5010, "Late")], 1, "a march")
    busy = api.wait_for(
        "editMessageText", chat_id=5010, timeout=30, where=lambda c: "busy" in c["text"]
    )
    assert "march" in busy["text"]
    time.sleep(3)
    redis.start()  # the same port, nothing in it
    answered_once(api, in_flight + late)
    assert "Redis is back" in worker.log()

    again = ask(api, users, 3, "a hornpipe")
    for u in users:
        api.wait_for("sendMessage", chat_id=u["id"], where=lambda c: "hornpipe" in c["text"])
    bot.kill()  # the worker goes on; its results wait in Redis
    time.sleep(2)
    bot.start()
    answered_once(api, again)
    assert "resumed" in bot.log()


def test_real_composer_through_redis(cluster):
    """The real composer in a real worker: songs come back through Redis."""
    weights = REPO / "weights"
    assert any(weights.glob("*.safetensors")), "the trained weights are part of the repo"
    api, redis, base, started = cluster
    bot = distributed_bot(api, redis, base)
    started["bots"].append(bot)
    worker = WorkerProcess(redis, base, "gpu1", real=True, ISADEI_TORCH_THREADS="1").start()
    started["workers"].append(worker)
    bot.start()
    ann, ivan = user(6001, "Ann"), user(6002, "Иван", "ru")
    asked = [
        api.push_message(ann, private_chat(ann), "a sad waltz in D minor, 20 seconds"),
        api.push_message(ivan, private_chat(ivan), "весёлая джига, 20 секунд"),
    ]
    answered_once(api, asked, timeout=300)
    audio = api.find("sendAudio", chat_id=6001)[0]
    assert is_mp3(audio.files["audio"].data) and audio["duration"] >= 10
    assert "D minor" in audio["caption"] and "Form: " in audio["caption"]  # 20 s: no intro
    midi = api.find("sendDocument", chat_id=6001)[0].files["document"].data
    assert "Melody" in {track.name for track in mido.MidiFile(file=io.BytesIO(midi)).tracks}
    assert api.find("sendPhoto", chat_id=6001)[0].files["photo"].data.startswith(b"\x89PNG")
    assert "джига" in api.find("sendAudio", chat_id=6002)[0]["caption"]
    assert "on cpu" in worker.log() or "on cuda" in worker.log()


# -- issue 11: deadlines, Redis refusing, a hung worker, password and TLS --


def test_bot_down_past_the_result_ttl_still_answers(cluster):
    """The bot is down longer than the results live in Redis while a worker finishes: after
    the restart the job is composed again (not "you're next" for a week), answered once."""
    api, redis, base, started = cluster
    ttl = {"ISADEI_RESULT_TTL_S": "2"}
    bot = distributed_bot(api, redis, base, **ttl)
    started["bots"].append(bot)
    worker = WorkerProcess(redis, base, "w1", **{FAKE_DELAY_ENV: "1.0", **ttl}).start()
    started["workers"].append(worker)
    bot.start()
    pat = user(3101, "Pat")
    asked = ask(api, [pat], 1, "a polka")
    composing(api, 3101)  # the worker has it
    bot.kill()
    r = redis.client()
    deadline = time.monotonic() + 30
    while not r.keys("isadei:files:*"):  # stored: the result is next, then the ack
        assert time.monotonic() < deadline, "the worker did not finish"
        time.sleep(0.1)
    time.sleep(3.5)  # the result and the files expire
    assert not r.keys("isadei:result:*") and not r.keys("isadei:files:*")
    assert not r.keys("isadei:submitted:*")  # done: the marker went with the entry
    bot.start()
    answered_once(api, asked)


def test_a_job_no_worker_takes_gets_an_apology(cluster):
    """No worker at all: past ISADEI_QUEUE_TIMEOUT_S the user hears sorry, and the slot is
    free again."""
    api, redis, base, started = cluster
    bot = distributed_bot(api, redis, base, ISADEI_QUEUE_TIMEOUT_S="3",
                          ISADEI_MAX_ACTIVE_PER_USER="1")
    started["bots"].append(bot)
    bot.start()
    quin = user(3102, "Quin")
    ask(api, [quin], 1, "a reel")
    apology = api.wait_for(
        "editMessageText", chat_id=3102, timeout=30, where=lambda c: "Sorry" in c["text"]
    )
    assert "(job j" in apology["text"]
    assert redis.client().keys("isadei:cancelled:*")  # a worker that comes later skips it
    ask(api, [quin], 1, "a jig")  # the slot is free: accepted, not refused
    status = api.wait_for("sendMessage", chat_id=3102, count=2)
    assert "jig" in status["text"]


def test_redis_out_of_memory_is_busy_then_answered(cluster):
    """Redis refuses writes (maxmemory reached): the user is told the bot is busy, and the
    song comes once Redis accepts writes again; the job does not fail."""
    api, redis, base, started = cluster
    bot = distributed_bot(api, redis, base)
    started["bots"].append(bot)
    worker = WorkerProcess(redis, base, "w1").start()
    started["workers"].append(worker)
    bot.start()
    r = redis.client()
    r.config_set("maxmemory", "1")
    rae = user(3103, "Rae")
    asked = ask(api, [rae], 1, "a hornpipe")
    api.wait_for("editMessageText", chat_id=3103, timeout=30, where=lambda c: "busy" in c["text"])
    time.sleep(2)
    r.config_set("maxmemory", "0")
    answered_once(api, asked)
    assert not any("Sorry" in c["text"] for c in api.find("editMessageText", chat_id=3103))


def test_a_hung_worker_exits_for_its_supervisor(cluster):
    """A generation that never returns: the worker notices and exits (code 75), so that
    systemd or docker restarts it, instead of taking jobs it cannot do."""
    api, redis, base, started = cluster
    bot = distributed_bot(api, redis, base)
    started["bots"].append(bot)
    worker = WorkerProcess(redis, base, "w1", ISADEI_JOB_TIMEOUT_S="1").start()
    started["workers"].append(worker)
    bot.start()
    ask(api, [user(3104, "Sid")], 1, "a waltz, hang")
    assert worker.proc.wait(30) == 75
    assert "worker hung" in worker.log()


def test_dead_worker_names_are_forgotten(redis_server, tmp_path: Path):
    """kill -9 leaves a consumer name in the group forever; a live worker removes those with
    nothing pending and no heartbeat, and keeps those with pending jobs."""
    import asyncio

    from bot.queue.stream import WorkerStream
    from bot.settings import Settings

    r = redis_server.client()
    r.xgroup_create("isadei:jobs", "isadei:workers", id="0", mkstream=True)
    r.xadd("isadei:jobs", {"data": b"x"})
    r.xreadgroup("isadei:workers", "gone-with-a-job", {"isadei:jobs": ">"}, count=1)
    r.xgroup_createconsumer("isadei:jobs", "isadei:workers", "gone-idle")
    r.xgroup_createconsumer("isadei:jobs", "isadei:workers", "alive")
    r.set("isadei:worker:alive", "{}")
    settings = Settings(redis_url=redis_server.url, data_dir=tmp_path, idle_timeout_s=1.0,
                        heartbeat_s=0.3)
    time.sleep(1.2)

    async def prune() -> list[str]:
        stream = WorkerStream(settings, "me", tmp_path)
        try:
            return await stream.prune()
        finally:
            await stream.close()

    assert asyncio.run(prune()) == ["gone-idle"]
    names = {c["name"] for c in r.xinfo_consumers("isadei:jobs", "isadei:workers")}
    assert {n.decode() if isinstance(n, bytes) else n for n in names} == {
        "gone-with-a-job", "alive"}
