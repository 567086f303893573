"""Spacing requests to a service across every llmref process on the machine.

Each process takes an exclusive lock on a small state file, waits until the interval since the
last request recorded there has passed, records the new time and lets go: a shell loop of
``llmref add`` calls keeps the same pace as one call adding many ids.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path


def state_dir() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("llmref", appauthor=False))


class Throttle:
    def __init__(self, name: str, interval: float, directory: Path | None = None) -> None:
        self.interval = interval
        self.path = (directory or state_dir()) / f"{name}.last-request"

    def wait(self) -> None:
        """Return when a request may be sent, having recorded that it is."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            last = _read_time(fd)
            pause = last + self.interval - time.time()
            if pause > 0:
                time.sleep(pause)
            os.lseek(fd, 0, os.SEEK_SET)
            os.truncate(fd, 0)
            os.write(fd, f"{time.time():.6f}\n".encode())
        finally:
            os.close(fd)  # releases the lock


def _read_time(fd: int) -> float:
    try:
        return float(os.read(fd, 64).decode().strip() or 0)
    except ValueError:
        return 0.0
