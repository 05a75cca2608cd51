"""A user's defaults across restarts (/settings): language, instrument, length. SQLite, next
to the job records; a wish's own words always win over them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from telegram.ext import Application


@dataclass
class UserSettings:
    user_id: int
    lang: str | None = None  # None: from the client and the request's script
    instrument: str | None = None  # General MIDI name
    length_seconds: int | None = None


class UserSettingsStore:
    def __init__(self, path: Path | str):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), check_same_thread=False)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS user_settings (user_id INTEGER PRIMARY KEY, lang TEXT,"
            " instrument TEXT, length_seconds INTEGER)"
        )
        self.db.commit()

    def get(self, user_id: int) -> UserSettings:
        row = self.db.execute(
            "SELECT lang, instrument, length_seconds FROM user_settings WHERE user_id = ?",
            (user_id,),
        ).fetchone()
        return UserSettings(user_id, *row) if row else UserSettings(user_id)

    def save(self, settings: UserSettings) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO user_settings VALUES (?, ?, ?, ?)",
            (settings.user_id, settings.lang, settings.instrument, settings.length_seconds),
        )
        self.db.commit()

    def close(self) -> None:
        self.db.close()


def user_settings(app: Application) -> UserSettingsStore:
    """The store, opened once per application next to the job records."""
    store = app.bot_data.get("user_settings")
    if store is None:
        path = Path(app.bot_data["rt"].settings.db_path).with_name("users.sqlite3")
        store = app.bot_data["user_settings"] = UserSettingsStore(path)
    return store
