"""The bot's latency from a request to its MP3, through the fake Bot API (tests/fake_bot_api.py).

    .venv/bin/python -m bench.bot_latency [--songs 5] [--out bench/bot_latency.json]

Starts the real `isadei bot` (embedded mode, the real composer, as tests/test_bot_e2e.py does,
ISADEI_WARM_START on), waits --settle seconds (a bot's first request seldom comes the instant
it is up; the composer warms meanwhile), then one user after another asks for a 2-minute folk
song, each once the previous one is sent whole; latency = the request pushed to getUpdates →
the bot's sendAudio arriving (the audio goes out as soon as the MP3 is ready, before the sheet
music). The first song after start is reported on its own; p50/p95 over the rest. The fake
API answers at once: no network time is counted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from tests.conftest import BOT_TOKEN, BotProcess
from tests.fake_bot_api import FakeBotApi, private_chat, user

TEXT = "a folk song, 2 minutes"
STAGES = ("generate", "midi", "audio", "master", "encode", "engrave", "render")


def measure(songs: int, settle: float = 5.0) -> dict:
    api = FakeBotApi(BOT_TOKEN).start()
    with tempfile.TemporaryDirectory(prefix="isadei-latency-") as tmp:
        bot = BotProcess(api, Path(tmp) / "data", Path(tmp) / "bot.log",
                         ISADEI_TEST_COMPOSER="real", ISADEI_WARM_START="1")
        try:
            started = time.time()
            bot.start()
            up = time.time() - started
            time.sleep(settle)
            latencies, whole = [], []
            for i in range(songs + 1):
                person = user(3000 + i, "Ann", "en")
                pushed = time.time()
                api.push_message(person, private_chat(person), TEXT)
                audio = api.wait_for("sendAudio", chat_id=person["id"], timeout=300)
                latencies.append(audio.at - pushed)
                done = api.wait_for("sendMediaGroup", chat_id=person["id"], timeout=300)
                whole.append(done.at - pushed)  # the last part: the score's album
                records = sorted((Path(tmp) / "data").rglob("*.json"),
                                 key=lambda p: p.stat().st_mtime)
                timings = next((json.loads(p.read_text()).get("timings") for p in
                                reversed(records) if "timings" in p.read_text()), {})
                print(f"  song {i}: {latencies[-1]:.2f} s (whole {whole[-1]:.2f} s); to MP3 "
                      f"{timings.get('to_mp3', 0) + timings.get('generate', 0):.2f} s "
                      f"{ {k: round(timings[k], 2) for k in STAGES if k in timings} }",
                      flush=True)
        finally:
            bot.stop()
            api.stop()
    warm = sorted(latencies[1:])
    return {"song": TEXT, "bot_start_s": round(up, 2), "settle_s": settle,
            "whole_song_p50_s": round(statistics.median(whole[1:]), 2),
            "first_song_after_start_s":
            round(latencies[0], 2), "p50_s": round(statistics.median(warm), 2),
            "p95_s": round(warm[min(len(warm) - 1, round(0.95 * (len(warm) - 1)))], 2),
            "latencies_s": [round(x, 2) for x in latencies],
            "when": time.strftime("%Y-%m-%d %H:%M:%S")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=5)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after start")
    parser.add_argument("--out", default="bench/bot_latency.json")
    args = parser.parse_args()
    result = measure(args.songs, args.settle)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
