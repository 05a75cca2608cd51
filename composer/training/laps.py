"""Seconds per stage of a long run (an evaluation), printed as each stage ends."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field


@dataclass
class Laps:
    seconds: dict[str, float] = field(default_factory=dict)
    since: float = field(default_factory=time.perf_counter)

    def lap(self, name: str) -> None:
        """The stage `name` ends now: record and print its seconds; the next one starts."""
        now = time.perf_counter()
        self.seconds[name] = round(now - self.since, 1)
        print(f"  {name}: {self.seconds[name]:.1f} s", file=sys.stderr, flush=True)
        self.since = now
