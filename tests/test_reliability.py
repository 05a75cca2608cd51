"""Issue 11, the fast half: settings and `isadei config`, what is read back from Redis, Redis
errors that are not ours, retention, the guards, sending, the lock, the watchdog, packaging.
(The half that needs whole processes is in test_bot_e2e.py and test_distributed.py.)"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from telegram import Update
from telegram.error import NetworkError, TimedOut

from bot.queue import wire
from bot.queue.client import QueueClient, QueueUnavailable
from bot.queue.results import read_manifest, unpack
from bot.settings import Settings, SettingsError
from bot.telegram import housekeeping, jobs, sending
from bot.telegram.guard import RefusalThrottle, may_press
from bot.telegram.intake import refusal
from bot.telegram.jobs import DONE, QUEUED, JobStore
from bot.telegram.runtime import Runtime
from tests.conftest import BOT_TOKEN, REPO
from tests.test_bot_units import make_job

DEPLOY_ENV = REPO / "deploy" / ".env.example"


def isadei(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=REPO,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


# -- settings: `isadei config`, deploy/.env.example as it is --


def test_config_prints_effective_settings_with_secrets_masked():
    done = isadei(
        "config",
        env={
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "ISADEI_REDIS_URL": "redis://:hunter2@redis:6379/0",
            "ISADEI_REDIS_PASSWORD": "hunter3",
            "ISADEI_MAX_PER_HOUR": "7",
        },
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["ISADEI_MAX_PER_HOUR"] == 7 and shown["TELEGRAM_BOT_TOKEN"] == "***"
    assert shown["ISADEI_REDIS_URL"] == "redis://:***@redis:6379/0"
    assert shown["ISADEI_REDIS_PASSWORD"] == "***" and shown["ISADEI_KEEP_SONGS_DAYS"] == 7
    for secret in (BOT_TOKEN, "hunter2", "hunter3"):
        assert secret not in done.stdout


def test_config_rejects_an_invalid_configuration_clearly():
    done = isadei("config", env={"ISADEI_MAX_PER_HOUR": "lots", "ISADEI_QUEUE_CAP": "-1"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "ISADEI_MAX_PER_HOUR" in done.stderr and "'lots'" in done.stderr
    done = isadei("config", env={"ISADEI_QUEUE_CAP": "0"})
    assert done.returncode == 2 and "ISADEI_QUEUE_CAP must be above 0" in done.stderr
    done = isadei("config", env={"ISADEI_REDIS_CA_FILE": "/etc/hostname"})
    assert done.returncode == 2 and "rediss://" in done.stderr


def parse_env_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines, # comments: how docker compose's env_file and systemd's
    EnvironmentFile read a file like .env.example (no quotes, no expansion in it)."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value
    return env


def test_env_example_loads_as_it_is(tmp_path: Path):
    """Loaded unchanged (compose env_file, systemd EnvironmentFile, `set -a; . .env`), the
    example gives the defaults: an empty value is unset, never "" or the current folder."""
    env = parse_env_file(DEPLOY_ENV.read_text())
    assert env["ISADEI_DATA_DIR"] == "" and env["ISADEI_METRICS_PORT"] == ""  # what is tested
    home = {"HOME": str(tmp_path)}
    by_parser = isadei("config", env={**env, **home})
    assert by_parser.returncode == 0, by_parser.stderr
    shell = subprocess.run(
        ["bash", "-c", f"set -a; . {DEPLOY_ENV}; set +a; exec {sys.executable} -m bot.cli config"],
        cwd=tmp_path,  # "the current folder" would show up as this
        env={"PATH": os.environ["PATH"], **home, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shell.returncode == 0, shell.stderr
    for shown in (json.loads(by_parser.stdout), json.loads(shell.stdout)):
        assert shown["ISADEI_DATA_DIR"] == str(tmp_path / ".local" / "share" / "isadei")
        assert shown["ISADEI_METRICS_PORT"] is None and shown["ISADEI_SHARED_DIR"] is None
        assert shown["ISADEI_REDIS_URL"] is None and shown["TELEGRAM_BOT_TOKEN"] is None
        assert shown["ISADEI_TORCH_THREADS"] is None and shown["ISADEI_WORKER_NAME"] is None


def test_python_311_to_313_accepted_with_audioop_replaced():
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    python = SpecifierSet(project["requires-python"])
    assert all(v in python for v in ("3.11.7", "3.12.3", "3.13.1")) and "3.14.0" not in python
    audioop = [Requirement(d) for d in project["dependencies"] if d.startswith("audioop-lts")]
    assert audioop and audioop[0].marker.evaluate({"python_version": "3.13"})
    assert not audioop[0].marker.evaluate({"python_version": "3.12"})


def test_ci_runs_the_slow_tests():
    assert "test-ci" in (REPO / ".ci" / "run").read_text()
    makefile = (REPO / "Makefile").read_text()
    assert "-m slow" in makefile and "test-ci: test test-slow" in makefile


# -- what comes back from Redis --


def test_names_read_back_stay_in_their_folder(tmp_path: Path):
    for bad in ("../x.mp3", "/etc/passwd", "a/b.mp3", ".hidden", "..", "", "x\x00.mp3", 7):
        with pytest.raises(wire.Untrusted):
            wire.file_name(bad)
    assert wire.file_name("waltz-7 (D minor).mp3") == "waltz-7 (D minor).mp3"
    for bad in ("../../etc", "j1/..", "", "j" * 65, None):
        with pytest.raises(wire.Untrusted):
            wire.job_id(bad)
    with pytest.raises(wire.Untrusted):
        wire.task_id_of("jother.0", "jmine")
    # A manifest naming a file outside its folder: not read, not sent to Telegram.
    song = tmp_path / "songs" / "j1"
    song.mkdir(parents=True)
    (song / "job-result.json").write_text(json.dumps({"mp3": "../../../../etc/passwd"}))
    with pytest.raises(wire.Untrusted):
        read_manifest(song)
    with pytest.raises(wire.Untrusted):
        unpack({b"../../evil.sh": b"rm -rf /", b"job-result.json": b"{}"}, tmp_path / "j2")
    assert not (tmp_path.parent / "evil.sh").exists()


def test_results_are_json_and_errors_stay_text(tmp_path: Path):
    payload = pickle.dumps({"is_err": False})  # what taskiq-redis would unpickle by default
    with pytest.raises(wire.Untrusted):
        wire.outcome(payload)
    marker = tmp_path / "ran"
    forged = {  # taskiq would look up os.system and call it with these arguments
        "is_err": True,
        "return_value": None,
        "execution_time": 0,
        "error": {"exc_type": "system", "exc_module": "os", "exc_message": [f"touch {marker}"]},
    }
    value, error = wire.outcome(json.dumps(forged))
    assert value is None and "touch" in error and not marker.exists()
    assert wire.stage(b'{"state": "STARTED", "meta": "composing"}') == "composing"
    assert wire.stage(b"\x80\x04junk") is None and wire.stage(b'{"meta": "rm -rf"}') is None


def redis_settings(redis_server, tmp_path: Path, **more) -> Settings:
    return Settings(redis_url=redis_server.url, data_dir=tmp_path / "data", **more)


def test_the_bot_fetches_only_what_it_can_trust(redis_server, tmp_path: Path):
    """Forged results in Redis: a pickle, a shared folder of the attacker's choosing, a file
    hash whose manifest points at /etc/passwd. Each fails its attempt; nothing is read."""
    r = redis_server.client()
    queue = QueueClient(redis_settings(redis_server, tmp_path))
    ok = {"is_err": False, "return_value": {}, "execution_time": 0}

    async def fetch(tid: str, job: str):
        await queue.start()
        try:
            return await queue.fetch(tid, job)
        finally:
            await queue.shutdown()

    r.set("isadei:result:ja.0", pickle.dumps(ok))
    assert "untrusted" in asyncio.run(fetch("ja.0", "ja"))[1]
    r.set("isadei:result:jb.0", json.dumps({**ok, "return_value": {"transport": "shared",
                                                                   "dir": "/etc"}}))
    assert "untrusted" in asyncio.run(fetch("jb.0", "jb"))[1]
    r.set("isadei:result:jc.0", json.dumps({**ok, "return_value": {"transport": "redis"}}))
    r.hset("isadei:files:jc", mapping={"job-result.json": json.dumps({"mp3": "../../x"})})
    assert "untrusted" in asyncio.run(fetch("jc.0", "jc"))[1]
    r.set("isadei:result:jd.0", json.dumps({**ok, "return_value": {"transport": "redis"}}))
    assert "untrusted" in asyncio.run(fetch("jd.0", "../../jd"))[1]


def test_redis_refusing_writes_means_busy_not_failed(redis_server, tmp_path: Path):
    """Out of memory, or a read-only replica: the job waits (the user hears "busy")."""
    r = redis_server.client()
    queue = QueueClient(redis_settings(redis_server, tmp_path))
    request = {"style": "waltz", "text": "a waltz"}

    async def submit() -> None:
        await queue.start()
        try:
            await queue.submit("joom", request, 1, 0)
        finally:
            await queue.shutdown()

    r.config_set("maxmemory", "1")
    with pytest.raises(QueueUnavailable, match="maxmemory"):
        asyncio.run(submit())
    r.config_set("maxmemory", "0")
    r.execute_command("REPLICAOF", "127.0.0.1", "1")  # a replica of nothing: read-only
    try:
        with pytest.raises(QueueUnavailable, match="read only"):
            asyncio.run(submit())
    finally:
        r.execute_command("REPLICAOF", "NO", "ONE")
    asyncio.run(submit())  # writable again: it goes through
    assert r.xlen("isadei:jobs") == 1


# -- the job records: a running typical wait, the lock, retention --


def test_typical_wait_is_a_running_figure_not_a_scan(tmp_path: Path, monkeypatch):
    store = JobStore(tmp_path / "jobs.sqlite3")
    now = time.time()
    for latency in [10.0] * 300:
        job = make_job(store, user_id=9, created_at=now - latency)
        store.update(job.id, state=DONE, finished_at=now)
    assert store.typical_seconds() == pytest.approx(10.0)
    decoded = []
    real = jobs._job
    monkeypatch.setattr(jobs, "_job", lambda row: decoded.append(1) or real(row))
    rt = Runtime(settings=Settings(max_active_per_user=1), store=store, queue=None)  # type: ignore[arg-type]
    make_job(store, user_id=1)
    assert "1 song" in refusal(rt, 1, "en")
    assert len(decoded) <= 2  # the user's own active job, not 300 finished ones
    store.close()


def test_one_bot_per_data_folder(tmp_path: Path):
    first = JobStore(tmp_path / "jobs.sqlite3")
    with pytest.raises(SettingsError, match="one bot per data folder"):
        JobStore(tmp_path / "jobs.sqlite3")
    first.close()
    JobStore(tmp_path / "jobs.sqlite3").close()  # free again once the first one is gone


def test_retention_deletes_old_songs_rows_and_partial_folders(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, keep_songs_days=7, keep_jobs_days=7)
    store = JobStore(settings.db_path)
    rt = Runtime(settings=settings, store=store, queue=None)  # type: ignore[arg-type]
    now, week = time.time(), 7 * 86400
    old = make_job(store, state=DONE, created_at=now - week - 100, finished_at=now - week - 50)
    recent = make_job(store, state=DONE, created_at=now - 100, finished_at=now - 50)
    waiting = make_job(store, state=QUEUED, created_at=now - 2 * week)  # never touched
    songs = settings.songs_dir
    for name, age in ((old.id, week + 60), (recent.id, 60), (waiting.id, 2 * week),
                      (f"{old.id}.partial", 3600), (f"{waiting.id}.partial", 3600),
                      ("jorphan", week + 1)):
        (songs / name).mkdir(parents=True)
        (songs / name / "x.mp3").write_bytes(b"x")
        os.utime(songs / name, (now - age, now - age))
    cleaned = asyncio.run(housekeeping.clean(rt, now))
    assert (cleaned.rows, cleaned.songs, cleaned.partial) == (1, 2, 1)
    left = sorted(p.name for p in songs.iterdir())
    assert left == sorted([recent.id, waiting.id, f"{waiting.id}.partial"])
    assert store.get(old.id) is None and store.get(recent.id) and store.get(waiting.id)
    store.close()


# -- the guards: buttons, refusals --


def update_from(user_id: int, chat_id: int, chat_type: str = "private") -> Update:
    return Update.de_json(
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": chat_id, "type": chat_type},
                "from": {"id": user_id, "is_bot": False, "first_name": "A"},
                "text": "x",
            },
        },
        None,
    )


def test_buttons_act_only_where_the_song_belongs(tmp_path: Path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    private = make_job(store, user_id=1)  # chat 1, private
    group = make_job(store, user_id=2, chat_type="supergroup")
    store.update(group.id, chat_id=-50)
    group = store.get(group.id)
    assert may_press(private, update_from(1, 1))
    assert not may_press(private, update_from(3, 3))  # forged data from another chat
    assert not may_press(private, update_from(3, 1))  # another user, in that private chat
    assert may_press(group, update_from(5, -50, "supergroup"))  # anyone in the group
    assert not may_press(group, update_from(2, -51, "supergroup"))  # not in another group
    store.close()


def test_at_most_one_refusal_per_user_and_group_a_minute():
    throttle = RefusalThrottle()
    ann, bo = update_from(1, 1), update_from(2, 2)
    assert throttle.allow(ann, now=0) and not throttle.allow(ann, now=30)
    assert throttle.allow(bo, now=30) and throttle.allow(ann, now=61)
    in_group = update_from(3, -9, "group")
    assert throttle.allow(in_group, now=100)
    assert not throttle.allow(update_from(4, -9, "group"), now=110)  # the group heard one
    assert throttle.allow(update_from(4, 4), now=110)  # that user, privately: not yet


# -- sending: retried only when it surely did not arrive --


def test_uploads_are_retried_only_when_they_surely_did_not_arrive(monkeypatch):
    monkeypatch.setattr(sending, "SEND_ATTEMPTS", 4)
    real_sleep = asyncio.sleep
    monkeypatch.setattr(sending.asyncio, "sleep", lambda s: real_sleep(0))
    calls: list[dict] = []

    def method(name: str, errors: list[Exception]):
        async def call(**kwargs):
            calls.append(kwargs)
            if errors:
                raise errors.pop(0)
            return "sent"

        call.__name__ = name
        return call

    def failed(error: Exception, cause: Exception) -> Exception:
        error.__cause__ = cause
        return error

    read_timeout = failed(TimedOut(), httpx.ReadTimeout("slow"))
    with pytest.raises(TimedOut):  # it may have arrived: not sent again
        asyncio.run(sending.send(method("send_audio", [read_timeout]), audio=b"x"))
    assert len(calls) == 1 and calls[0]["read_timeout"] == sending.UPLOAD_TIMEOUT_S
    assert calls[0]["write_timeout"] == sending.UPLOAD_TIMEOUT_S
    calls.clear()
    refused = failed(NetworkError("httpx.ConnectError"), httpx.ConnectError("refused"))
    assert asyncio.run(sending.send(method("send_audio", [refused]), audio=b"x")) == "sent"
    assert len(calls) == 2  # it never left: sent again
    calls.clear()
    dropped = failed(NetworkError("reset"), httpx.RemoteProtocolError("reset"))
    assert asyncio.run(sending.send(method("edit_message_text", [dropped]), text="x")) == "sent"
    assert len(calls) == 2  # an edit is safe to repeat


# -- the runner: /cancel while the result is fetched; the worker's watchdog --


class RecordingBot:
    """Any Bot method: recorded, answered with a message."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str):
        async def call(**kwargs):
            self.calls.append(name)
            return SimpleNamespace(message_id=len(self.calls))

        call.__name__ = name
        return call


def test_cancel_while_the_result_is_fetched_sends_nothing(tmp_path: Path):
    from bot.queue.client import Progress
    from bot.telegram import runner

    store = JobStore(tmp_path / "jobs.sqlite3")
    job = make_job(store, user_id=5)

    class CancelDuringFetch:  # the queue: done at once; the user's /cancel lands mid-fetch
        async def poll(self, tid):
            return Progress(ready=True, stage=None, queued=True)

        async def fetch(self, tid, job_id):
            store.cancel_queued(5)
            return {"mp3": str(tmp_path / "x.mp3"), "midi": None, "png": None}, None

        async def cancel(self, job_id):
            pass

    settings = Settings(redis_url="redis://127.0.0.1:1/0", data_dir=tmp_path)
    rt = Runtime(settings=settings, store=store, queue=CancelDuringFetch())  # type: ignore[arg-type]
    bot = RecordingBot()
    app = SimpleNamespace(bot=bot, bot_data={"rt": rt})
    asyncio.run(runner.run_job(app, job.id))  # type: ignore[arg-type]
    assert store.get(job.id).state == "cancelled"
    assert not [name for name in bot.calls if name.startswith("send_") and name != "send_message"]
    store.close()


def test_watchdog_notices_a_hung_generation_and_a_stalled_loop():
    from bot.queue.watchdog import Watchdog

    reasons: list[str] = []
    dog = Watchdog(generate_limit_s=0.3, loop_limit_s=60, on_hang=reasons.append).start()
    dog.generating(True)
    time.sleep(0.1)
    dog.generating(False)  # a normal batch: nothing happens
    time.sleep(0.5)
    assert not reasons
    dog.generating(True)
    deadline = time.monotonic() + 5
    while not reasons and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reasons and "generation" in reasons[0]
    stalled = Watchdog(generate_limit_s=60, loop_limit_s=0.3, on_hang=reasons.append)
    stalled.last_tick -= 1
    assert "event loop" in stalled.hang()
