"""The soak of issue 11: many requests over many minutes in Redis mode, with trouble in the
middle, and every request answered exactly once.

    python -m bench.soak                      # 500 requests, 50 users, 10 minutes
    python -m bench.soak --requests 60 --minutes 1   # a quick look

Everything runs on 127.0.0.1: a real redis-server, the real `isadei bot` (python -m bot.cli
bot) against the fake Bot API of the tests, and two real `isadei worker` processes whose
composer is the tests' stand-in (tests/test_worker.py STANDIN: real tiny MIDI/MP3/PNG files
and a real SongRecord, written in well under a second) — the real composer takes seconds of
CPU per song on this machine, and the soak is about the bot, the queue and the workers.

On the way: at 1/4 of the time a worker is killed -9 (a fresh one replaces it), at 1/2 Redis
is down for 20 s (and comes back empty: no persistence), at 3/4 the bot is killed -9 and
started again. Then every request must have exactly one audio reply (with its MIDI and
sheet), none lost, none twice. Memory, SQLite size and disk use are measured before and after.
Writes bench/soak.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bot.cli.redis_server import RedisServer
from tests.conftest import BOT_TOKEN, BotProcess
from tests.fake_bot_api import FAKE_DELAY_ENV, FakeBotApi, private_chat, user
from tests.test_distributed import WorkerProcess

STYLES = ["waltz", "jig", "reel", "folk song", "lullaby", "march", "hornpipe", "air", "ballad"]
OUTAGE_S = 20.0


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of a process (MB), from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        return None
    return None


def du_mb(path: Path) -> float:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0
    return round(total / 1e6, 2)


def measure(bot: BotProcess, workers: list[WorkerProcess], redis: RedisServer) -> dict:
    db = bot.data_dir / "jobs.sqlite3"
    sqlite = sum(p.stat().st_size for p in db.parent.glob("jobs.sqlite3*"))
    return {
        "bot_rss_mb": rss_mb(bot.proc.pid if bot.proc else None),
        "workers_rss_mb": {w.name: rss_mb(w.proc.pid if w.proc else None) for w in workers},
        "sqlite_mb": round(sqlite / 1e6, 3),
        "bot_data_mb": du_mb(bot.data_dir),
        "workers_data_mb": round(sum(du_mb(Path(w.env["ISADEI_DATA_DIR"])) for w in workers), 2),
        "redis_used_mb": round(int(redis.client().info("memory")["used_memory"]) / 1e6, 2),
    }


def replies(api: FakeBotApi, method: str) -> Counter:
    """(chat, message replied to) → how many successful calls of `method` replied to it."""
    return Counter(
        (int(c["chat_id"]), c["reply_parameters"]["message_id"])
        for c in api.find(method)
        if c.get("reply_parameters") and isinstance(c.result, dict) and c.result.get("ok", 1)
    )


def tally(api: FakeBotApi, asked: list[dict]) -> dict:
    """How each request was answered."""
    wanted = [(m["chat"]["id"], m["message_id"]) for m in asked]
    audio = replies(api, "sendAudio")
    texts = [c["text"] for c in api.find("sendMessage")] + [
        c["text"] for c in api.find("editMessageText")
    ]
    audio_msgs = {
        (int(c["chat_id"]), c.result["message_id"])
        for c in api.find("sendAudio")
        if isinstance(c.result, dict) and "message_id" in c.result
    }
    docs, photos = replies(api, "sendDocument"), replies(api, "sendPhoto")
    return {
        "asked": len(wanted),
        "answered_once": sum(1 for key in wanted if audio[key] == 1),
        "unanswered": sum(1 for key in wanted if audio[key] == 0),
        "answered_twice_or_more": sum(1 for key in wanted if audio[key] > 1),
        "midi_and_sheet_once": sum(1 for k in audio_msgs if docs[k] == 1 and photos[k] == 1),
        # a kill -9 during an upload cannot know whether Telegram got it: sent again
        "midi_or_sheet_twice": sum(1 for k in audio_msgs if docs[k] > 1 or photos[k] > 1),
        "midi_or_sheet_missing": sum(1 for k in audio_msgs if not docs[k] or not photos[k]),
        "refusals": sum("on the way" in t or "this hour" in t or "swamped" in t for t in texts),
        "apologies": sum(t.startswith("😔") or "Sorry" in t for t in texts),
        "busy_notices": sum("busy" in t for t in texts),
    }


def soak(requests: int, users: int, minutes: float, out: Path) -> dict:
    base = Path(tempfile.mkdtemp(prefix="isadei-soak-"))
    (base / "redis").mkdir()
    redis = RedisServer(base / "redis").start()
    api = FakeBotApi(BOT_TOKEN).start()
    settings = {
        "ISADEI_REDIS_URL": redis.url,
        "ISADEI_MAX_ACTIVE_PER_USER": "10",
        "ISADEI_MAX_PER_HOUR": "100",
        "ISADEI_QUEUE_CAP": "2000",
        "ISADEI_IDLE_TIMEOUT_S": "5",
        "ISADEI_HEARTBEAT_S": "1",
        "ISADEI_LOG_LEVEL": "INFO",
    }
    bot = BotProcess(api, base / "bot-data", base / "bot.log", ISADEI_TEST_COMPOSER="real")
    bot.env.update(settings)  # "real": `python -m bot.cli bot` as is (it composes nothing here)
    worker_env = {k: v for k, v in settings.items() if "IDLE" in k or "HEARTBEAT" in k}
    worker_env[FAKE_DELAY_ENV] = "0.5"  # one batched "sampling run"
    workers = [WorkerProcess(redis, base, f"w{i}", **worker_env).start() for i in (1, 2)]
    bot.start()
    time.sleep(2)
    before = measure(bot, workers, redis)
    people = [user(100_000 + i, f"U{i}") for i in range(users)]
    span = minutes * 60
    events = {"kill_worker": span / 4, "redis_outage": span / 2, "restart_bot": 3 * span / 4}
    log: list[str] = []
    asked: list[dict] = []
    started = time.monotonic()
    redis_back_at: float | None = None
    for i in range(requests):
        due = started + i * span / requests
        while time.monotonic() < due:
            now = time.monotonic() - started
            if "kill_worker" in events and now >= events["kill_worker"]:
                del events["kill_worker"]
                workers[0].kill()
                log.append(f"{now:.0f}s: worker w1 killed -9")
                workers.append(WorkerProcess(redis, base, "w1b", **worker_env).start())
            if "redis_outage" in events and now >= events["redis_outage"]:
                del events["redis_outage"]
                redis.stop()
                redis_back_at = time.monotonic() + OUTAGE_S
                log.append(f"{now:.0f}s: Redis stopped for {OUTAGE_S:.0f} s")
            if redis_back_at is not None and time.monotonic() >= redis_back_at:
                redis_back_at = None
                redis.start()
                log.append(f"{time.monotonic() - started:.0f}s: Redis back (empty)")
            if "restart_bot" in events and now >= events["restart_bot"]:
                del events["restart_bot"]
                bot.kill()
                log.append(f"{now:.0f}s: bot killed -9")
                bot.start()
                log.append(f"{time.monotonic() - started:.0f}s: bot up again")
            time.sleep(0.05)
        u = people[i % users]
        asked.append(api.push_message(u, private_chat(u), f"a {STYLES[i % len(STYLES)]} {i}"))
    sent_in = time.monotonic() - started
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        counts = tally(api, asked)
        if counts["unanswered"] == 0:
            break
        time.sleep(1)
    time.sleep(3)  # a late duplicate would show now
    counts = tally(api, asked)
    live = [w for w in workers if w.proc and w.proc.poll() is None]
    after = measure(bot, live, redis)
    when = {(m["chat"]["id"], m["message_id"]): m["date"] for m in asked}
    latencies = sorted(
        round(c.at - when[key], 1)
        for c in api.find("sendAudio")
        if c.get("reply_parameters")
        and (key := (int(c["chat_id"]), c["reply_parameters"]["message_id"])) in when
    )
    report = {
        "requests": requests,
        "users": users,
        "minutes": minutes,
        "sent_over_s": round(sent_in, 1),
        "drained_after_s": round(time.monotonic() - started, 1),
        "events": log,
        "outcome": counts,
        "latency_s": {
            "p50": latencies[len(latencies) // 2] if latencies else None,
            "p95": latencies[int(len(latencies) * 0.95)] if latencies else None,
            "max": latencies[-1] if latencies else None,
        },
        "before": before,
        "after": after,
        "composer": "stand-in (tests/test_worker.py STANDIN: tiny real files, 0.5 s a batch)",
    }
    for worker in live:
        worker.stop()
    bot.stop()
    redis.stop()
    api.stop()
    out.write_text(json.dumps(report, indent=2) + "\n")
    if os.environ.get("ISADEI_SOAK_KEEP"):
        print(f"logs kept in {base}")
    else:
        shutil.rmtree(base, ignore_errors=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--out", default="bench/soak.json")
    args = parser.parse_args()
    report = soak(args.requests, args.users, args.minutes, Path(args.out))
    print(json.dumps(report, indent=2))
    outcome = report["outcome"]
    ok = outcome["answered_once"] == outcome["asked"] and not outcome["answered_twice_or_more"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
