"""Running it for real: webhook mode, the settings every deploy file must know, the worker's
refusal to start without Redis."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.settings import Settings
from bot.telegram import app as botapp
from tests.conftest import BOT_TOKEN, REPO, BotProcess, free_port
from tests.fake_bot_api import FakeBotApi, private_chat, user

DEPLOY = REPO / "deploy"


def env_names() -> set[str]:
    return {field.validation_alias for field in Settings.model_fields.values()}


def test_env_example_and_compose_name_every_setting():
    example = (DEPLOY / ".env.example").read_text()
    missing = [name for name in sorted(env_names()) if f"{name}=" not in example]
    assert not missing, f"deploy/.env.example lacks {missing}"
    compose = (DEPLOY / "compose.yaml").read_text()
    assert "isadei worker" in compose and "redis" in compose
    assert "capabilities: [gpu]" in compose and "driver: nvidia" in compose
    for unit in ("isadei-bot.service", "isadei-worker@.service"):
        text = (DEPLOY / unit).read_text()
        assert "EnvironmentFile=" in text and "KillSignal=SIGTERM" in text


def test_webhook_mode_runs_run_webhook_with_the_secret(monkeypatch, tmp_path: Path):
    calls = []
    monkeypatch.setattr(Application, "run_webhook", lambda self, **kw: calls.append(kw))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("ISADEI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ISADEI_WEBHOOK_URL", "https://isadei.example.org/telegram/hook")
    monkeypatch.setenv("ISADEI_WEBHOOK_PORT", "8555")
    monkeypatch.setenv("ISADEI_WEBHOOK_SECRET", "bad secret!")
    with pytest.raises(SystemExit) as exit_info:  # Telegram would refuse it: say so first
        botapp.main(Settings())
    assert exit_info.value.code == 2
    monkeypatch.setenv("ISADEI_WEBHOOK_SECRET", "s3cret_Token-1")
    botapp.main(Settings())
    (call,) = calls
    assert call["webhook_url"] == "https://isadei.example.org/telegram/hook"
    assert call["url_path"] == "telegram/hook" and call["port"] == 8555
    assert call["secret_token"] == "s3cret_Token-1"


def test_worker_without_redis_explains(monkeypatch):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "ISADEI_REDIS_URL" in done.stderr


def test_real_webhook_accepts_only_updates_with_the_secret(tmp_path: Path):
    """The real bot in webhook mode: Telegram's secret header lets an update in; none, not."""
    pytest.importorskip("tornado", reason="webhook mode needs python-telegram-bot[webhooks]")
    api = FakeBotApi(BOT_TOKEN).start()
    port = free_port()
    bot = BotProcess(
        api,
        tmp_path / "data",
        tmp_path / "bot.log",
        ISADEI_WEBHOOK_URL=f"http://127.0.0.1:{port}/tg/hook",
        ISADEI_WEBHOOK_SECRET="s3cret_Token-1",
        ISADEI_WEBHOOK_PORT=str(port),
        ISADEI_WEBHOOK_LISTEN="127.0.0.1",
    )
    try:
        bot.start()
        hook = api.wait_for("setWebhook")
        assert hook["url"].endswith("/tg/hook") and hook["secret_token"] == "s3cret_Token-1"
        deadline = time.monotonic() + 30
        while True:  # the webhook server listens a moment after setWebhook
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the webhook server did not start"
                time.sleep(0.1)
        ann = user(7001, "Ann")
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": private_chat(ann),
                "from": ann,
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }

        def post(secret: str | None) -> int:
            headers = {"Content-Type": "application/json"}
            if secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = secret
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/tg/hook", json.dumps(update).encode(), headers
            )
            try:
                return urllib.request.urlopen(request, timeout=10).status
            except urllib.error.HTTPError as error:
                return error.code

        assert post(None) == 403 and post("wrong") == 403
        time.sleep(1)
        assert not api.find("sendMessage", chat_id=7001)
        assert post("s3cret_Token-1") == 200
        assert "Isadei" in api.wait_for("sendMessage", chat_id=7001)["text"]
        assert "s3cret_Token-1" not in bot.log()
    finally:
        bot.stop()
        api.stop()
