"""The bundled library is exactly what the curated list gives, and safe to ship."""

from __future__ import annotations

import json
from pathlib import Path

from llmref.keys import is_valid_key
from llmref.models import KINDS, Record
from llmref.services import bundled_records, curated_records, seed_json

ROOT = Path(__file__).resolve().parents[1]
LIST = ROOT / "data" / "curated-list.md"
SEED = ROOT / "data" / "seed.json"


def committed() -> list[Record]:
    return [Record.from_dict(item) for item in json.loads(SEED.read_text(encoding="utf-8"))]


def test_regenerating_the_seed_gives_the_committed_file() -> None:
    text = LIST.read_text(encoding="utf-8")
    assert seed_json(curated_records(text, committed())) == SEED.read_text(encoding="utf-8")


def test_the_installed_package_carries_the_same_seed() -> None:
    assert list(bundled_records()) == committed()


def test_seed_keys_are_unique_and_valid_and_kinds_known() -> None:
    records = committed()
    keys = [r.key for r in records]
    assert len(set(keys)) == len(keys)
    assert all(key and is_valid_key(key) for key in keys)
    assert {r.kind for r in records} <= set(KINDS)


def test_rebuilding_keeps_keys_even_when_a_title_is_corrected() -> None:
    text = LIST.read_text(encoding="utf-8").replace(
        "`LoRA: Low-Rank Adaptation of Large Language Models`", "`LoRA: Low-Rank Adaptation of LLMs`"
    )
    rebuilt = {r.arxiv_id: r.key for r in curated_records(text, committed()) if r.arxiv_id}
    assert rebuilt["2106.09685"] == "hu2021lora"


def test_a_new_entry_never_takes_a_key_already_given() -> None:
    text = LIST.read_text(encoding="utf-8") + (
        "\n\n# More\n\n1. `LoRA: Low-Rank Adaptation` arxiv 2021\n   Edward Hu, Yelong Shen, Phillip Wallis\n"
    )
    records = curated_records(text, committed())
    newcomer = records[-1]
    assert newcomer.title == "LoRA: Low-Rank Adaptation"
    assert newcomer.key == "hu2021lorab"


def test_renaming_a_section_keeps_the_keys_of_its_entries() -> None:
    text = (
        LIST.read_text(encoding="utf-8")
        .replace("## Tools", "## Utilities")
        .replace("## Base Models", "## LLMs")
    )
    keys = {r.title: r.key for r in curated_records(text, committed())}
    assert keys["peft"] == "peft"
    assert keys["ChatGLM: An Open Bilingual Dialogue Language Model"] == "chatglm"
