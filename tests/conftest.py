from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmref.models import Record
from llmref.store.library import Library


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own HOME and data directory: no test sees a real library."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    for name in ("LLMREF_DB", "LLMREF_ARXIV_API_URL", "LLMREF_ARXIV_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "lib.db"


LORA = Record(
    title="LoRA: Low-Rank Adaptation of Large Language Models",
    authors=("Edward J. Hu", "Yelong Shen", "Phillip Wallis"),
    authors_truncated=True,
    year=2021,
    arxiv_id="2106.09685",
    urls=(("pdf", "https://arxiv.org/abs/2106.09685"),),
    tags=("LoRA",),
    models=("RoBERTa", "GPT2 M/L"),
    tasks=("GLUE",),
    section=("Papers", "PEFT (Parameter Efficient Fine-Tuning)"),
    notes="做了Low-data Setting的情况",
)
ADALORA = Record(
    title="Adaptive Budget Allocation for Parameter-Efficient Fine-Tuning",
    authors=("Qingru Zhang", "Minshuo Chen"),
    year=2023,
    venue="ICLR",
    arxiv_id="2303.10512",
    tags=("AdaLoRA",),
    section=("Papers", "PEFT (Parameter Efficient Fine-Tuning)"),
    todo=True,
)
PREFIX = Record(
    title="Prefix-Tuning: Optimizing Continuous Prompts for Generation",
    authors=("Xiang Lisa Li", "Percy Liang"),
    year=2021,
    venue="ACL",
    acl_id="2021.acl-long.353",
    urls=(("pdf", "https://aclanthology.org/2021.acl-long.353/"),),
    tags=("PrefixTuning",),
    models=("GPT2 M/L", "BART L"),
    tasks=("E2E", "XSUM (Summarization)"),
    section=("Papers", "PEFT (Parameter Efficient Fine-Tuning)"),
)
ADAPTERP = Record(
    title="AdapterFusion: Non-Destructive Task Composition for Transfer Learning",
    authors=("Jonas Pfeiffer", "Andreas Rücklé"),
    year=2021,
    venue="EACL",
    acl_id="2021.eacl-main.39",
    tags=("AdapterP", "Adapter家族"),
    section=("Papers", "PEFT (Parameter Efficient Fine-Tuning)", "Adapter家族"),
)
PEFT_TOOL = Record(
    kind="tool",
    title="peft",
    urls=(("project", "https://github.com/huggingface/peft"),),
    section=("Resources", "Tools"),
    notes="from Huggingface🤗: 实现了LoRA, Prefix Tuning, P-Tuning, Prompt Tuning和AdaLoRA。",
)
UNIFIED = Record(
    title="Towards a Unified View of Parameter-Efficient Transfer Learning",
    section=("Papers", "PEFT统一框架"),
)
FIXTURE_RECORDS = (LORA, ADALORA, PREFIX, ADAPTERP, PEFT_TOOL, UNIFIED)


@pytest.fixture
def library(db_path: Path) -> Library:
    lib = Library.open(db_path, seed=FIXTURE_RECORDS)
    yield lib
    lib.close()


@pytest.fixture
def cli(db_path: Path, library: Library):
    """Run llmref against the fixture library; returns the CliRunner result."""
    from llmref.cli.app import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None):
        return runner.invoke(app, ["--db", str(db_path), *args], input=input, env=env, prog_name="llmref")

    return invoke


def runner_for(db: Path):
    """A function that runs llmref on the library at ``db`` and returns CliRunner's result."""
    from llmref.cli.app import app

    def run(*args: str, input: str | None = None):
        return CliRunner().invoke(app, ["--db", str(db), *args], input=input)

    return run


@pytest.fixture
def seeded(tmp_path: Path):
    """A library made from the bundled curated list, and a function to run llmref on it."""
    run = runner_for(tmp_path / "seeded.db")
    assert run("init").exit_code == 0
    return run


@pytest.fixture
def empty(tmp_path: Path):
    """An empty library, and a function to run llmref on it."""
    run = runner_for(tmp_path / "empty.db")
    assert run("init", "--empty").exit_code == 0
    return run
