"""Spacing requests to a service across every llmref process on the machine.

A process holds an exclusive lock on ``NAME.lock`` from before it sends a request until the
answer has arrived, so only one connection is open at a time; the end of the last request
(and any "not before" time a server asked for with Retry-After) is kept in ``NAME.state``,
and the next request waits until both have passed. A shell loop of ``llmref add`` calls
therefore keeps the same pace as one call adding many ids.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import SourceError

try:
    import fcntl
except ImportError:  # Windows: no flock; requests are then spaced within one process only
    fcntl = None  # type: ignore[assignment]

#: The longest wait a state file can impose; anything longer is a wrong clock or a corrupt file.
MAX_WAIT = 60.0


def state_dir() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("llmref", appauthor=False))


class Throttle:
    def __init__(self, name: str, interval: float, directory: Path | None = None) -> None:
        self.interval = interval
        directory = directory or state_dir()
        self.lock_path = directory / f"{name}.lock"
        self.state_path = directory / f"{name}.state"
        self._local = threading.Lock()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Wait for our turn, then hold it while the request runs."""
        with self._local, self._locked():
            last_end, not_before = self._read()
            now = time.time()
            pause = max(
                min(last_end + self.interval - now, self.interval), min(not_before - now, MAX_WAIT), 0.0
            )
            if pause:
                time.sleep(pause)
            try:
                yield
            finally:
                self._write(time.time(), not_before)

    def defer(self, seconds: float) -> None:
        """Record that the server asked for no request in the next ``seconds`` (Retry-After)."""
        with self._local, self._locked():
            last_end, _ = self._read()
            self._write(last_end, time.time() + min(seconds, MAX_WAIT))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise SourceError(
                f"Cannot use {self.lock_path} to space requests: {exc.strerror}.",
                "Make the folder writable, or point XDG_STATE_HOME at a writable one.",
            ) from exc
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # also releases the lock

    def _read(self) -> tuple[float, float]:
        try:
            parts = self.state_path.read_text().split()
            return float(parts[0]), float(parts[1]) if len(parts) > 1 else 0.0
        except (OSError, ValueError, IndexError):
            return 0.0, 0.0

    def _write(self, last_end: float, not_before: float) -> None:
        # Written aside and renamed, so a process killed half way never leaves a torn file.
        tmp = self.state_path.with_name(f".{self.state_path.name}.{os.getpid()}")
        try:
            tmp.write_text(f"{last_end:.6f} {not_before:.6f}\n")
            os.replace(tmp, self.state_path)
        except OSError as exc:
            raise SourceError(
                f"Cannot write {self.state_path}: {exc.strerror}.",
                "Make the folder writable, or point XDG_STATE_HOME at a writable one.",
            ) from exc
