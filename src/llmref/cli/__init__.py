"""The ``llmref`` command line. Commands live in :mod:`llmref.cli.app`; output in :mod:`.output`."""

from __future__ import annotations

import os
import sys

from .. import __version__


def run(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    # Answered before the Typer app is built: `llmref --version` is what scripts probe with.
    if args == ["--version"]:
        print(f"llmref {__version__}")
        return
    from .app import app, only_command_in

    only_command_in(args)
    try:
        app(args=args, prog_name="llmref")
    except BrokenPipeError:
        # The reader went away (`llmref search lora --json | head -c 100`): not an error.
        _silence_stdout()
        sys.exit(0)


def _silence_stdout() -> None:
    # Python flushes stdout again at exit; point it at /dev/null so that flush cannot fail.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
