"""README.md tells the truth: its commands run, and the output it shows is what llmref prints."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmref.cli.app import app

from .arxiv_server import ArxivServer, arxiv_server_fixture  # noqa: F401

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(console|sh)\n(.*?)```", README, re.S)


def commands() -> list[str]:
    found = []
    for kind, body in BLOCKS:
        for line in body.splitlines():
            line = line.removeprefix("$ ") if kind == "console" else line
            if line.startswith("llmref ") and "|" not in line:
                found.append(line)
    return found


def shown_outputs() -> list[tuple[str, str]]:
    """(command, output) for console blocks that show one command and what it printed."""
    pairs = []
    for kind, body in BLOCKS:
        lines = body.splitlines()
        if kind == "console" and len(lines) > 1 and lines[0].startswith("$ llmref ") and "|" not in lines[0]:
            pairs.append((lines[0][2:], "\n".join(lines[1:]) + "\n"))
    return pairs


def run(command: str, db: Path):
    args = shlex.split(command)[1:]
    return CliRunner().invoke(app, args, env={"LLMREF_DB": str(db), "COLUMNS": "100"})


def test_readme_commands_run_in_order(
    tmp_path: Path, arxiv_server: ArxivServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In order, in one library and one folder, as a reader following the README would: the
    # files `export -o` writes are the ones `import` reads. Commands that reach arXiv talk to
    # the look-alike server on 127.0.0.1.
    monkeypatch.setenv("LLMREF_ARXIV_API_URL", arxiv_server.url)
    monkeypatch.chdir(tmp_path)
    found = commands()
    assert len(found) > 20
    for command in found:
        result = run(command.replace("~/thesis.db", str(tmp_path / "thesis.db")), tmp_path / "lib.db")
        assert result.exit_code == 0, f"{command}\n{result.output}"


@pytest.mark.parametrize(("command", "output"), shown_outputs())
def test_readme_output_is_real(command: str, output: str, tmp_path: Path) -> None:
    result = run(command, tmp_path / "lib.db")
    printed = "\n".join(line.rstrip() for line in result.stdout.splitlines()) + "\n"
    assert printed == output


def test_readme_shows_the_two_setup_commands() -> None:
    assert "pip install . && llmref search lora" in README
    assert "pip install -e '.[test]' && python -m pytest -q" in README
