"""Where llmref keeps its things, from the environment (``LLMREF_*``) or platformdirs defaults."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "llmref"
DB_ENV = "LLMREF_DB"
DB_FILENAME = "library.db"


def data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    """``$LLMREF_DB`` if set, else ``library.db`` in the user data directory."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    return data_dir() / DB_FILENAME
