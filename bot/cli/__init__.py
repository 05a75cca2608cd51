"""The `isadei` command line and its benchmarks: the one room that calls both the Telegram
side and the queue side."""

from bot.cli.commands import main

__all__ = ["main"]
