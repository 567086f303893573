"""Where llmref keeps its things by default (platformdirs); the CLI's ``--db`` / ``LLMREF_DB`` override it."""

from __future__ import annotations

from pathlib import Path

APP_NAME = "llmref"
DB_FILENAME = "library.db"


def data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    """``library.db`` in the user data directory (``--db`` and ``LLMREF_DB`` come first)."""
    return data_dir() / DB_FILENAME
