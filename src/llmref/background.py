"""Reading a large file in a second process while this one writes.

Reading a file (splitting, decoding, making records ready to write) costs about as much as
writing what it holds, so for a large file a second process does the reading —
``python -m llmref.background JOB``, the job's options pickled on its standard input — while
this one writes: two cores. Its pieces travel pickled through a pipe, at most :data:`AHEAD` of
them waiting, so memory stays flat whatever the file's size.
"""

from __future__ import annotations

import importlib
import os
import pickle
from collections.abc import Iterator
from typing import Any

from . import errors

#: Pieces the reading process may have waiting to be sent, besides the one being sent and the
#: one being read.
AHEAD = 3
#: What each job reads: a function of the job's options that gives its pieces, in order.
JOBS = {
    "snapshot": "llmref.snapshot:read_pieces",
    "bibtex": "llmref.formats.bibtex_import:read_pieces",
}


def read_in_background(job: str, options: dict[str, Any], *, name: str, hint: str) -> Iterator[Any]:
    """The pieces of :data:`JOBS` ``job``, read by a second process while the caller works on
    those it has. ``options`` may hold the text to read (a file named on the command line may
    be a pipe the second process could not read again). A failure of the reading is raised
    here as the error it was there; a reading process that ends otherwise is a SourceError
    about ``name``, with ``hint`` and the last line it wrote to its standard error, if any."""
    import subprocess
    import sys
    import tempfile

    # Kept for the error message, not let through: one line for one failure.
    with tempfile.TemporaryFile() as complaints:
        # -P: modules come from where llmref is installed, not from the directory it runs in.
        reader = subprocess.Popen(
            [sys.executable, "-P", "-m", "llmref.background", job],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=complaints,
        )
        assert reader.stdin is not None and reader.stdout is not None
        try:
            try:
                with reader.stdin:  # read whole before any piece is sent: no wait on each other
                    pickle.dump(options, reader.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            except BrokenPipeError:
                pass  # it ended before reading them: said below
            while True:
                try:
                    kind, payload = pickle.load(reader.stdout)
                except (EOFError, pickle.UnpicklingError):  # ended, maybe half-way through a piece
                    reader.wait()
                    said = _last_line(complaints)
                    raise errors.SourceError(
                        f"Reading {name} stopped unexpectedly (exit code {reader.returncode}){said}.", hint
                    ) from None
                if kind == "done":
                    return
                if kind == "error":
                    error, message, error_hint = payload
                    raise getattr(errors, error, errors.SourceError)(message, error_hint)
                yield payload
        finally:
            reader.stdout.close()
            if reader.poll() is None:
                reader.terminate()
            reader.wait()


def _last_line(complaints: Any) -> str:
    """``: `` and the last line the reading process wrote to its standard error, if any."""
    complaints.seek(0)
    lines = complaints.read().decode("utf-8", "replace").strip().splitlines()
    return f": {lines[-1].strip().removeprefix('llmref: ').rstrip('.')}" if lines else ""


def serve(job: str) -> None:
    """The reading process: take the job's options, send its pieces, then "done" (or the error
    that ended it)."""
    import signal
    import sys

    # Ctrl-C reaches every process of the terminal's group: the writer decides what it means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    options = pickle.load(sys.stdin.buffer)
    module, function = JOBS[job].split(":")
    pieces = getattr(importlib.import_module(module), function)(options)
    try:
        with _Sender(sys.stdout.buffer) as send:
            try:
                for piece in pieces:
                    if not send(pickle.dumps(("piece", piece), protocol=pickle.HIGHEST_PROTOCOL)):
                        return  # the writer stopped (Ctrl-C, an error): nothing left to do
                send(pickle.dumps(("done", None)))
            except errors.LlmrefError as exc:
                send(pickle.dumps(("error", (type(exc).__name__, exc.message, exc.hint))))
    except OSError as exc:  # the writer, told by the pipe's end, says how far it got
        sys.exit(f"llmref: cannot pass on what was read: {exc.strerror or exc}")


class _Sender:
    """Writes the reading process's pieces to the pipe from a thread, up to :data:`AHEAD` of
    them waiting: the reading goes on while the writer commits, instead of stopping as soon as
    the pipe's few kilobytes are full."""

    def __init__(self, out: Any) -> None:
        import queue
        import threading

        self._out = out
        self._waiting: queue.Queue[bytes | None] = queue.Queue(maxsize=AHEAD)
        self._broken = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _Sender:
        self._thread.start()
        return self

    def __call__(self, data: bytes | None) -> bool:
        """Queue ``data`` (None: the end); False once the pieces cannot go (the writer has
        stopped reading, the pipe failed)."""
        import queue

        while not self._broken.is_set():
            try:
                self._waiting.put(data, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def __exit__(self, *exc: object) -> None:
        self(None)
        self._thread.join()
        if self._failure is not None:
            # The pieces did not all go: end with an error, which the writer reports.
            raise self._failure

    def _run(self) -> None:
        try:
            while (data := self._waiting.get()) is not None:
                self._out.write(data)
            self._out.flush()
        except BrokenPipeError:
            # What is left in the buffer has nowhere to go: no complaint about it at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._out.fileno())
            os.close(devnull)
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread in __exit__
            self._failure = exc
        else:
            return
        self._broken.set()


if __name__ == "__main__":
    import sys

    serve(sys.argv[1])
