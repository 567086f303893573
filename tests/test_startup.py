"""Start-up stays light: the commands people run all day must not import the network stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from llmref.models import Record
from llmref.store.library import Library

HEAVY = ("arxiv", "httpx", "bibtexparser", "requests", "sqlite_utils")

PROBE = """
import json, runpy, sys
sys.argv = ["llmref", *json.loads(sys.argv[1])]
try:
    runpy.run_module("llmref", run_name="__main__")
except SystemExit:
    pass
sys.stdout.flush()
print("\\nLOADED=" + json.dumps(sorted(m for m in {heavy} if m in sys.modules)))
"""


def loaded_modules(args: list[str], db: Path) -> list[str]:
    code = PROBE.replace("{heavy}", repr(HEAVY))
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args)],
        capture_output=True,
        text=True,
        env={"LLMREF_DB": str(db), "PATH": ""},
        check=True,
    ).stdout
    return json.loads(out.rsplit("LOADED=", 1)[1])


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["search", "lora"], ["show", "2106.09685"]])
def test_reading_commands_do_not_import_heavy_modules(args: list[str], tmp_path: Path) -> None:
    db = tmp_path / "lib.db"
    loaded_modules(["stats"], db)  # the first run creates the library (and may use sqlite-utils)
    assert loaded_modules(args, db) == []


def test_json_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    # Enough records that the JSON is far bigger than a pipe's buffer, so the writer does hit
    # the closed pipe, as in `llmref list --json | head -c 100`.
    db = tmp_path / "lib.db"
    many = [Record(title=f"Paper number {i} on low-rank adaptation", year=2020 + i % 5) for i in range(400)]
    Library.open(db, seed=many).close()
    producer = subprocess.Popen(
        [sys.executable, "-m", "llmref", "--db", str(db), "list", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert producer.stdout is not None and producer.stderr is not None
    assert len(producer.stdout.read(100)) == 100
    producer.stdout.close()
    stderr = producer.stderr.read().decode()
    assert producer.wait(timeout=30) == 0
    assert "Traceback" not in stderr and "Error" not in stderr
