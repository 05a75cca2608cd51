"""Settings of the bot, the job queue and the worker, read from the environment once (by the
command line) and handed down (DESIGN.md, Contracts)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

BOTFATHER_HELP = (
    "isadei bot: TELEGRAM_BOT_TOKEN is not set.\n"
    "Get a token from @BotFather in Telegram: send it /newbot, pick a name and a username,\n"
    "and it answers with a token like 123456789:AAE...; then run\n"
    "    TELEGRAM_BOT_TOKEN=123456789:AAE... isadei bot\n"
    "(send /setinline to @BotFather too, so that '@yourbot folk song' works in any chat)."
)


def default_data_dir() -> Path:
    """~/.local/share/isadei (or $XDG_DATA_HOME/isadei)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "isadei"


class SettingsError(ValueError):
    """The configuration cannot work; the message says which setting and why."""


class Settings(BaseSettings):
    # env_ignore_empty: `KEY=` (as .env.example, compose env_file and systemd write unset
    # values) means "unset", never "" or, for a path, the current folder.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, env_ignore_empty=True)

    token: SecretStr | None = Field(None, validation_alias="TELEGRAM_BOT_TOKEN")
    api_url: str | None = Field(None, validation_alias="TELEGRAM_API_URL")  # PTB base_url
    file_url: str | None = Field(None, validation_alias="TELEGRAM_FILE_URL")  # PTB base_file_url
    redis_url: str | None = Field(None, validation_alias="ISADEI_REDIS_URL")  # unset = embedded
    # Redis AUTH, kept out of the URL (and out of logs); with rediss:// a CA file to trust.
    redis_password: SecretStr | None = Field(None, validation_alias="ISADEI_REDIS_PASSWORD")
    redis_ca_file: Path | None = Field(None, validation_alias="ISADEI_REDIS_CA_FILE")
    data_dir: Path = Field(default_factory=default_data_dir, validation_alias="ISADEI_DATA_DIR")
    admin_ids: Annotated[list[int], NoDecode] = Field([], validation_alias="ISADEI_ADMIN_IDS")

    # Limits: each refusal is answered with a friendly "try again in ..." message.
    max_active_per_user: int = Field(2, validation_alias="ISADEI_MAX_ACTIVE_PER_USER")
    max_per_hour: int = Field(20, validation_alias="ISADEI_MAX_PER_HOUR")
    queue_cap: int = Field(100, validation_alias="ISADEI_QUEUE_CAP")
    # How many songs are composed at once (embedded: threads; distributed: worker capacity).
    compose_slots: int = Field(1, validation_alias="ISADEI_COMPOSE_SLOTS")
    # Embedded: load torch, the model and the SoundFont in the background at start, so the
    # first song costs what every later one does (off: the tests' stand-in composer).
    warm_start: bool = Field(True, validation_alias="ISADEI_WARM_START")
    retries: int = Field(1, validation_alias="ISADEI_RETRIES")  # a failed job is retried once
    job_timeout_s: float = Field(600.0, validation_alias="ISADEI_JOB_TIMEOUT_S")
    # A job no compose slot or worker has taken after this gets an apology (its slot is freed).
    queue_timeout_s: float = Field(3600.0, validation_alias="ISADEI_QUEUE_TIMEOUT_S")
    # Retention: song folders, and job rows (their Telegram file_ids), are kept this long.
    keep_songs_days: float = Field(7.0, validation_alias="ISADEI_KEEP_SONGS_DAYS")
    keep_jobs_days: float = Field(7.0, validation_alias="ISADEI_KEEP_JOBS_DAYS")
    log_level: str = Field("INFO", validation_alias="ISADEI_LOG_LEVEL")
    # Prometheus /metrics on this port (bot and workers; each process its own port). Unset: off.
    metrics_port: int | None = Field(None, validation_alias="ISADEI_METRICS_PORT")

    # Webhook mode instead of polling (ISADEI_WEBHOOK_URL set): Telegram posts updates to
    # this public HTTPS URL; a reverse proxy forwards them to ISADEI_WEBHOOK_PORT.
    webhook_url: str | None = Field(None, validation_alias="ISADEI_WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(None, validation_alias="ISADEI_WEBHOOK_SECRET")
    webhook_port: int = Field(8443, validation_alias="ISADEI_WEBHOOK_PORT")
    webhook_listen: str = Field("0.0.0.0", validation_alias="ISADEI_WEBHOOK_LISTEN")

    # Distributed mode (ISADEI_REDIS_URL set): the queue, the results, the workers.
    redis_prefix: str = Field("isadei", validation_alias="ISADEI_REDIS_PREFIX")  # key names
    result_ttl_s: int = Field(3600, validation_alias="ISADEI_RESULT_TTL_S")  # results in Redis
    # A folder the bot and the workers both see (NFS...): songs travel there, not via Redis.
    shared_dir: Path | None = Field(None, validation_alias="ISADEI_SHARED_DIR")
    # A job taken by a worker that stopped heartbeating goes to another worker after this.
    idle_timeout_s: float = Field(60.0, validation_alias="ISADEI_IDLE_TIMEOUT_S")
    heartbeat_s: float = Field(5.0, validation_alias="ISADEI_HEARTBEAT_S")
    max_deliveries: int = Field(3, validation_alias="ISADEI_MAX_DELIVERIES")  # then dead letter
    max_batch: int = Field(16, validation_alias="ISADEI_MAX_BATCH")  # songs per sampling run
    batch_wait_ms: float = Field(20.0, validation_alias="ISADEI_BATCH_WAIT_MS")  # to fill one
    render_processes: int = Field(2, validation_alias="ISADEI_RENDER_PROCESSES")
    shutdown_grace_s: float = Field(60.0, validation_alias="ISADEI_SHUTDOWN_GRACE_S")
    device: str = Field("auto", validation_alias="ISADEI_DEVICE")  # auto | cpu | cuda | cuda:1
    # CPU threads for torch (unset: 1, faster on a shared CPU). Listed for `isadei config` and
    # .env.example; the one place that applies it is composer.compose.default_model.
    torch_threads: int | None = Field(None, validation_alias="ISADEI_TORCH_THREADS")
    worker_name: str | None = Field(None, validation_alias="ISADEI_WORKER_NAME")  # host-pid

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """ISADEI_ADMIN_IDS="1,2 3" → [1, 2, 3]."""
        if isinstance(value, str):
            return [int(part) for part in value.replace(",", " ").split()]
        if isinstance(value, int):
            return [value]
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        """What no single field can say: combinations that cannot work."""
        positive = (
            "max_active_per_user", "max_per_hour", "queue_cap", "compose_slots", "job_timeout_s",
            "queue_timeout_s", "result_ttl_s", "idle_timeout_s", "heartbeat_s", "max_batch",
            "max_deliveries", "keep_songs_days", "keep_jobs_days",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{env_name(name)} must be above 0")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("ISADEI_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        if self.retries < 0:
            raise ValueError("ISADEI_RETRIES must be 0 or more")
        if self.redis_url and urlsplit(self.redis_url).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("ISADEI_REDIS_URL must start with redis://, rediss:// or unix://")
        if self.redis_ca_file and not (self.redis_url or "").startswith("rediss://"):
            raise ValueError("ISADEI_REDIS_CA_FILE needs a TLS URL: ISADEI_REDIS_URL=rediss://...")
        if self.redis_ca_file and not self.redis_ca_file.is_file():
            raise ValueError(f"ISADEI_REDIS_CA_FILE: no such file {self.redis_ca_file}")
        if self.heartbeat_s * 2 > self.idle_timeout_s:
            raise ValueError("ISADEI_IDLE_TIMEOUT_S must be at least twice ISADEI_HEARTBEAT_S")
        return self

    def public(self) -> dict[str, object]:
        """The effective settings by their environment names, secrets masked (`isadei config`)."""
        shown: dict[str, object] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "***" if value.get_secret_value() else None
            elif isinstance(value, Path):
                value = str(value)
            elif name == "redis_url" and value:
                value = masked_url(value)
            shown[env_name(name)] = value
        return shown

    @property
    def db_path(self) -> Path:
        return self.data_dir / "jobs.sqlite3"

    @property
    def songs_dir(self) -> Path:
        return self.data_dir / "songs"

    @property
    def embedded(self) -> bool:
        return not self.redis_url

    @property
    def webhook(self) -> bool:
        return bool(self.webhook_url)


def env_name(field: str) -> str:
    """The environment variable of a setting."""
    return str(Settings.model_fields[field].validation_alias)


def masked_url(url: str) -> str:
    """redis://user:secret@host → redis://user:***@host."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{parts.hostname}:{parts.port or 6379}"))


def load_settings() -> Settings:
    """Settings from the environment; SettingsError naming each bad variable otherwise."""
    try:
        return Settings()
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"]) or "settings"
            given = problem.get("input")
            secret = any(word in where for word in ("TOKEN", "PASSWORD", "SECRET"))
            shown = f" (got {given!r})" if isinstance(given, str | int | float) else ""
            shown = " (the value is hidden)" if secret and shown else shown
            lines.append(f"  {where}: {problem['msg'].removeprefix('Value error, ')}{shown}")
        raise SettingsError("invalid configuration:\n" + "\n".join(lines)) from None
