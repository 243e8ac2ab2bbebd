"""Progress lines for every wait: what is awaited, how long so far, the deadline. At least one
line every 15 s on stderr, each a line of its own (in CI logs too; a redrawn line would not
pass the line filter of scripts/lib.sh's releasekit function)."""
from __future__ import annotations

import os
import sys
import time

#: Seconds between two lines: 15, or PROGRESS_EVERY (for tests and impatient people).
EVERY = float(os.environ.get("PROGRESS_EVERY", "15"))


class Progress:
    def __init__(self, what: str, deadline: float, every: float = EVERY) -> None:
        self.what = what
        self.deadline = deadline
        self.every = every
        self.started = time.monotonic()
        self.last = float("-inf")

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def say(self, status: str = "", force: bool = False) -> None:
        """A line now if force or if the last one is `every` seconds old."""
        now = time.monotonic()
        if not force and now - self.last < self.every:
            return
        self.last = now
        line = (f"==> waiting for {self.what}: {self.elapsed:.0f}s so far, deadline "
                f"{self.deadline:g}s" + (f"; {status}" if status else ""))
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def sleep(self, seconds: float, status: str = "") -> None:
        """Sleep, still saying a line every `every` seconds."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(left, max(0.05, self.last + self.every - time.monotonic())))
            self.say(status)

    def done(self) -> None:
        """Nothing to tidy: every line is complete."""
