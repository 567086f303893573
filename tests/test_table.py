from __future__ import annotations

import pytest

from llmref.cli.table import Column, cell_width, render, wrap


@pytest.mark.parametrize(("text", "width"), [("LoRA", 4), ("家族", 4), ("Rücklé", 6), ("Adapter家族", 11)])
def test_cell_width_counts_wide_characters_twice(text: str, width: int) -> None:
    assert cell_width(text) == width


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        ("LoRA: Low-Rank Adaptation", 30, ["LoRA: Low-Rank Adaptation"]),
        ("LoRA: Low-Rank Adaptation", 12, ["LoRA: Low-", "Rank", "Adaptation"]),
        ("Parameter-Efficient Tuning", 12, ["Parameter-", "Efficient", "Tuning"]),
        ("Supercalifragilistic", 8, ["Supercal", "ifragili", "stic"]),
        ("中文标题很长很长", 6, ["中文标", "题很长", "很长"]),
        ("title\nLoRA, AdaLoRA", 20, ["title", "LoRA, AdaLoRA"]),
        ("ab Supercalifragilistic cd", 8, ["ab", "Supercal", "ifragili", "stic cd"]),
    ],
)
def test_wrap(text: str, width: int, lines: list[str]) -> None:
    assert wrap(text, width) == lines
    assert all(cell_width(line) <= width for line in lines)


def test_render_aligns_columns_and_wraps_the_flexible_one() -> None:
    columns = [
        Column("Key", wrap=False),
        Column("Year", wrap=False, align_right=True),
        Column("Title", flexible=True),
    ]
    rows = [["hu2021lora", "2021", "LoRA: Low-Rank Adaptation of Large Language Models"], ["x", "", "短"]]
    out = render(columns, rows, width=40, colour=False).splitlines()
    assert out[0] == "Key          Year   Title"
    assert set(out[1]) == {"─"}
    assert out[2] == "hu2021lora   2021   LoRA: Low-Rank"
    assert out[3].startswith(" " * 20) and out[3].strip() == "Adaptation of Large"
    assert out[-1] == "x                   短"
    assert all(cell_width(line) <= 40 for line in out)


def test_render_colours_only_when_asked() -> None:
    columns = [Column("Key", style="cyan", wrap=False)]
    assert "\x1b[" not in render(columns, [["hu2021lora"]], width=40, colour=False)
    assert "\x1b[36mhu2021lora\x1b[0m" in render(columns, [["hu2021lora"]], width=40, colour=True)


def test_a_title_that_is_one_huge_word_is_cut_into_full_lines_keeping_every_character() -> None:
    word = "x" * 50_000 + "中"
    lines = wrap(word, 60)
    assert "".join(lines) == word
    assert [len(line) for line in lines[:-1]] == [60] * (len(lines) - 1)
    assert lines[-1] == "x" * 20 + "中"
