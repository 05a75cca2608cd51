"""Shared pytest fixtures. Each part of the project keeps its fixtures in its own section."""

from __future__ import annotations

# ==== bot (bot/telegram/, bot/queue/client.py; tests/test_bot_*.py) ============================
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli.redis_server import RedisServer, free_port  # noqa: F401 (tests import them here)
from tests.fake_bot_api import FAKE_DELAY_ENV, FakeBotApi, install_fake_composer

BOT_TOKEN = "123456789:AAE-test-SECRET-token-for-isadei"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake_composer(monkeypatch: pytest.MonkeyPatch) -> None:
    """composer.pipeline.compose_to_files replaced by a fast stand-in (real small files)."""
    import composer.request

    monkeypatch.setitem(sys.modules, "composer.pipeline", sys.modules.get("composer.pipeline"))
    for name in ("parse", "describe", "describe_ru"):
        if hasattr(composer.request, name):
            monkeypatch.setattr(composer.request, name, getattr(composer.request, name))
    install_fake_composer(force=True)


@pytest.fixture
def bot_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ISADEI_DATA_DIR for in-process bot tests (the compose task reads it)."""
    data = tmp_path / "isadei-data"
    monkeypatch.setenv("ISADEI_DATA_DIR", str(data))
    return data


@pytest.fixture
def fake_api():
    """A fake Bot API server on 127.0.0.1."""
    api = FakeBotApi(BOT_TOKEN).start()
    yield api
    api.stop()


class BotProcess:
    """The real `isadei bot` in a subprocess, pointed at the fake Bot API.

    With ISADEI_TEST_COMPOSER=real (and composer.pipeline able to compose) it runs
    `python -m bot.cli bot` as is; by default a launcher swaps in the stand-in composer.
    """

    def __init__(self, api: FakeBotApi, data_dir: Path, log_path: Path, **env: str):
        self.api, self.data_dir, self.log_path = api, data_dir, log_path
        self.env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_API_URL": api.base_url,
            "TELEGRAM_FILE_URL": api.base_file_url,
            "ISADEI_DATA_DIR": str(data_dir),
            "ISADEI_LOG_LEVEL": "DEBUG",  # the most talkative: the token must still not show
            FAKE_DELAY_ENV: "0.3",
            "ISADEI_WARM_START": "0",  # the stand-in composer needs no torch (say "1" to warm)
            **env,
        }
        self.env.pop("ISADEI_REDIS_URL", None)
        self.proc: subprocess.Popen | None = None

    @property
    def real(self) -> bool:
        return self.env.get("ISADEI_TEST_COMPOSER") == "real"

    def start(self, **env: str) -> BotProcess:
        starts = len(self.api.find("setMyCommands"))
        command = ["-m", "bot.cli", "bot"] if self.real else ["-m", "tests.fake_bot_api"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, *command],
                cwd=REPO,
                env={**self.env, **env},
                stdout=log,
                stderr=log,
            )
        self.api.wait_for("setMyCommands", count=starts + 2, timeout=60)  # en + ru: it is up
        return self

    def kill(self) -> None:
        """SIGKILL: no goodbye, like a crash or a power cut."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def bot_process(tmp_path_factory: pytest.TempPathFactory):
    """One fake Bot API and one bot process shared by a module's scenarios."""
    base = tmp_path_factory.mktemp("isadei-bot")
    api = FakeBotApi(BOT_TOKEN).start()
    bot = BotProcess(
        api,
        base / "data",
        base / "bot.log",
        ISADEI_ADMIN_IDS="4242",
        ISADEI_TEST_COMPOSER=os.environ.get("ISADEI_TEST_COMPOSER", "fake"),
    )
    started = time.monotonic()
    bot.start()
    bot.startup_seconds = time.monotonic() - started  # type: ignore[attr-defined]
    yield bot
    bot.stop()
    api.stop()
    if os.environ.get("ISADEI_KEEP_BOT_LOG"):
        shutil.copy(bot.log_path, os.environ["ISADEI_KEEP_BOT_LOG"])


# ==== end of bot fixtures =========================================================================


# ==== distributed mode (bot/queue/; tests/test_worker.py, test_distributed.py) ====================

@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory):
    """A fresh redis-server for one test, stopped afterwards."""
    if not (shutil.which("redis-server") or Path("/usr/bin/redis-server").exists()):
        pytest.skip("redis-server is not installed (apt install redis-server)")
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


# ==== end of distributed fixtures =================================================================
