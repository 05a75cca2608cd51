"""How long a 20-second voice message takes to become a song, bot to reply, in embedded mode
(the real `isadei bot`, the real composer, the fake Bot API on 127.0.0.1), beside a text
request for the same style in the same run (the machine may be busy: compare the two).

    .venv/bin/python -m bench.voice_to_song [--runs 3] [--out bench/voice_to_song.json]

For each request: the seconds from the update to "what I heard" (voice only), to the status
message, to the song's audio (what the user plays) and to the last file (the sheet music).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.listen_synth import SR, Singer, sing, timings
from tests.fake_bot_api import FakeBotApi, private_chat, user

TOKEN = "123456789:AAE-bench-token-for-isadei"
REPO = Path(__file__).resolve().parents[1]
# A G major tune in 3/4, sung twice at 144 bpm: 48 quarter notes, 20 seconds.
TUNE = [(67, 1), (71, 1), (74, 1), (72, 2), (71, 1), (69, 1), (67, 1), (69, 1), (71, 3),
        (67, 1), (71, 1), (74, 1), (76, 2), (74, 1), (72, 1), (71, 1), (69, 1), (67, 3)] * 2
TEXT = "a waltz"  # what the tune suggests (3/4), so both songs are alike


def voice_note(path: Path) -> tuple[bytes, float]:
    """The sung tune as a Telegram voice message (OGG/Opus) and its length in seconds."""
    notes = timings([(p, float(q)) for p, q in TUNE], 144.0, 0.03, np.random.default_rng(7))
    audio, _ = sing(notes, Singer(), seed=7, snr_db=20)
    wav = path.with_suffix(".wav")
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    import wave

    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-c:a", "libopus",
                    "-b:a", "32k", str(path)], check=True, timeout=60)
    return path.read_bytes(), len(audio) / SR


def start_bot(api: FakeBotApi, data: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api.base_url,
           "TELEGRAM_FILE_URL": api.base_file_url, "ISADEI_DATA_DIR": str(data)}
    env.pop("ISADEI_REDIS_URL", None)  # embedded mode
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "bot"], cwd=REPO, env=env,
                                stdout=out, stderr=out)
    api.wait_for("setMyCommands", count=2, timeout=120)
    return proc


def one(api: FakeBotApi, user_id: int, voice: bytes | None, seconds: float) -> dict:
    """One request, voice or text, in a chat of its own: seconds to each reply."""
    person = user(user_id, "Bench", "en")
    chat = private_chat(person)
    began = time.time()
    if voice is None:
        api.push_message(person, chat, TEXT)
    else:
        fields = api.add_file(voice, "voice.ogg", "audio/ogg")
        api.push_media(person, chat, voice={**fields, "duration": round(seconds),
                                            "mime_type": "audio/ogg"})
    audio = api.wait_for("sendAudio", chat_id=user_id, timeout=300)
    sheet = api.wait_for("sendPhoto", chat_id=user_id, timeout=60,
                         where=lambda c: "caption" not in c.params)
    status = api.wait_for("sendMessage", chat_id=user_id, timeout=10)
    out = {"status_s": status.at - began, "song_s": audio.at - began,
           "files_s": sheet.at - began, "music_s": int(audio["duration"])}
    if voice is not None:
        heard = api.wait_for("sendPhoto", chat_id=user_id, where=lambda c: "caption" in c.params)
        out["heard_s"] = heard.at - began
        out["heard"] = heard["caption"]
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()}


def job_timings(log: str) -> dict[str, dict]:
    """The bot's own per-stage timings of each finished job (its isadei.jobs lines), by user:
    where the seconds went (queued, composing: compose and render inside, sending)."""
    out = {}
    for line in log.splitlines():
        if "isadei.jobs: {" in line:
            job = json.loads(line.split("isadei.jobs: ", 1)[1])
            out[str(job["user"])] = job["timings"]
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="voice and text requests, each")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "voice_to_song.json")
    args = parser.parse_args(argv)
    api = FakeBotApi(TOKEN).start()
    with tempfile.TemporaryDirectory() as tmp:
        voice, seconds = voice_note(Path(tmp) / "voice.ogg")
        proc = start_bot(api, Path(tmp) / "data", Path(tmp) / "bot.log")
        try:
            cold = one(api, 9000, None, 0)  # loads the model: not counted
            runs = {"voice": [], "text": []}
            for i in range(args.runs):  # alternating, so both see the same load
                runs["voice"].append(one(api, 9100 + i, voice, seconds))
                runs["text"].append(one(api, 9200 + i, None, 0))
        finally:
            proc.terminate()
            proc.wait(30)
            log = (Path(tmp) / "bot.log").read_text(errors="replace")
    api.stop()
    result = {
        "voice_seconds": round(seconds, 1),
        "cold_text": cold,
        "runs": runs,
        "median": {kind: {k: round(statistics.median(r[k] for r in rs), 2)
                          for k in rs[0] if k.endswith("_s")} for kind, rs in runs.items()},
        "heard_log": [line.split("isadei.bot: ", 1)[1] for line in log.splitlines()
                      if "isadei.bot: heard" in line],
        "job_timings": job_timings(log),
        "machine": {"cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2),
                    "python": platform.python_version()},
    }
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result["median"], indent=2))
    return result


if __name__ == "__main__":
    main()
