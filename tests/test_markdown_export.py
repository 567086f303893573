"""Exporting records as a curated Markdown list and reading it back gives the same records.

The golden file ``tests/golden/fixture.md`` is the export of ``FIXTURE`` and is compared exactly.
After an intended change to the output, regenerate it and review the diff:

    LLMREF_UPDATE_GOLDEN=1 python -m pytest -q tests/test_markdown_export.py
"""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmref.formats.markdown_export import best_url, to_markdown, to_markdown_table
from llmref.formats.markdown_list import read_markdown_list
from llmref.keys import cited_authors
from llmref.models import Record
from llmref.services import bundled_records

GOLDEN = Path(__file__).parent / "golden" / "fixture.md"
COMPARED = [f.name for f in fields(Record) if f.name != "key"]


def differences(expected: list[Record], got: list[Record]) -> list[str]:
    """Every field (but the key) that differs, named, so a failure says what did not survive."""
    if len(expected) != len(got):
        return [f"{len(expected)} records written, {len(got)} read: {[r.title for r in got]}"]
    return [
        f"{want.title!r}.{name}: {getattr(want, name)!r} != {getattr(have, name)!r}"
        for want, have in zip(expected, got, strict=True)
        for name in COMPARED
        if getattr(want, name) != getattr(have, name)
    ]


def round_trip(records: list[Record], **options: str) -> list[Record]:
    return read_markdown_list(to_markdown(records, **options))


# --------------------------------------------------------------------------------------------
# The bundled curated library


def test_the_bundled_library_round_trips_field_for_field() -> None:
    records = list(bundled_records())
    assert differences(records, round_trip(records)) == []


def test_the_bundled_library_keeps_its_sections_in_source_order() -> None:
    text = to_markdown(list(bundled_records()))
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings[:3] == ["# Papers", "## Base Models", "## Method to Get Training Data"]
    # The family and the pseudo-heading of the source are sub-sections, written as headings.
    assert headings.index("### Adapter家族") < headings.index("### PEFT统一框架")
    assert text.startswith("- [重要论文的总结](https://docs.google.com/")  # no section: before any heading


# --------------------------------------------------------------------------------------------
# A small fixture, compared with its golden file

FIXTURE = [
    Record(
        kind="article",
        title="重要论文的总结",
        urls=(("article", "https://docs.google.com/presentation/d/abc/edit"),),
    ),
    Record(
        title="LoRA: Low-Rank Adaptation of Large Language Models",
        authors=("Edward J. Hu", "Yelong Shen", "Phillip Wallis"),
        authors_truncated=True,
        year=2022,
        venue="ICLR",
        arxiv_id="2106.09685",
        urls=(("pdf", "https://arxiv.org/abs/2106.09685"), ("project", "https://github.com/microsoft/LoRA")),
        tags=("LoRA", "low-rank"),
        models=("RoBERTa", "GPT3 175B"),
        tasks=("GLUE", "WikiSQL"),
        section=("Papers", "PEFT"),
        notes="模型：RoBERTa，任务：GLUE\n做了Low-data Setting的情况",
    ),
    Record(
        title="Prefix-Tuning: Optimizing Continuous Prompts for Generation",
        authors=("Xiang Lisa Li", "Percy Liang"),
        year=2021,
        venue="ACL",
        acl_id="2021.acl-long.353",
        urls=(("pdf", "https://aclanthology.org/2021.acl-long.353/"),),
        tags=("Prefix Tuning",),
        section=("Papers", "PEFT"),
        todo=True,
    ),
    Record(
        title="Parameter-Efficient Transfer Learning for NLP",
        authors=("Neil Houlsby", "Andrei Giurgiu"),
        authors_truncated=True,
        year=2019,
        venue="ICML",
        arxiv_id="1902.00751",
        urls=(("pdf", "https://arxiv.org/abs/1902.00751"),),
        tags=("AdapterH", "Adapter家族"),
        section=("Papers", "PEFT", "Adapter家族"),
        notes="(最原始的Adapter)",
    ),
    Record(
        title="Towards a Unified View of Parameter-Efficient Transfer Learning",
        section=("Papers", "PEFT统一框架"),
    ),
    Record(
        title="Flash Attention",
        authors=("Dao",),
        authors_truncated=True,
        year=2022,
        section=("Papers", "Tricks"),
    ),
    Record(
        kind="project",
        title="AutoGPT",
        urls=(("project", "https://github.com/Significant-Gravitas/Auto-GPT"),),
        section=("Papers", "Tricks"),
    ),
    Record(
        kind="tool",
        title="peft",
        urls=(("project", "https://github.com/huggingface/peft"),),
        section=("Resources", "Tools"),
        notes="from Huggingface🤗: 实现了LoRA, Prefix Tuning和AdaLoRA。",
    ),
    Record(
        kind="dataset",
        title="InstructionZoo",
        urls=(
            ("project", "https://github.com/FreedomIntelligence/InstructionZoo"),
            ("blog", "https://example.org/blog/instruction-zoo"),
        ),
        section=("Resources", "Data"),
        notes="各种Instruction-Tuning的数据集\n\n- English\n- 中文",
    ),
]


def test_the_fixture_exports_as_the_golden_file() -> None:
    text = to_markdown(FIXTURE, title="LLM Papers")
    if os.environ.get("LLMREF_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_the_golden_file_reads_back_as_the_fixture() -> None:
    assert differences(FIXTURE, read_markdown_list(GOLDEN.read_text(encoding="utf-8"))) == []


def test_a_title_is_an_html_heading_so_records_without_a_section_keep_none() -> None:
    text = to_markdown(FIXTURE, title="Papers <& more>")
    assert text.startswith("<h1>Papers &lt;&amp; more&gt;</h1>\n\n- [重要论文的总结]")
    assert read_markdown_list(text)[0].section == ()


# --------------------------------------------------------------------------------------------
# Hand-made records the seed does not cover: exact round trips


def paper(title: str, **values: object) -> Record:
    return Record(**{"title": title, "section": ("Papers",), **values})  # type: ignore[arg-type]


EXACT = {
    "models and tasks without notes": [
        paper(
            "Models Without Notes",
            models=("LLaMA 7B", "GLM (2B,10B)"),
            tasks=("QA",),
            datasets=("SQuAD 2.0",),
        ),
    ],
    "notes stating some models": [
        paper(
            "Some Stated", notes="模型：BERT，任务：GLUE\nmore text", models=("BERT", "T5"), tasks=("GLUE",)
        ),
    ],
    "notes stating models in another order": [paper("Reordered", notes="模型：BERT", models=("T5", "BERT"))],
    "notes with a table of datasets": [
        paper("Table", notes="| 数据集 |\n| --- |\n| SST-2 |", datasets=("CoLA", "SST-2")),
    ],
    "a title with backticks": [paper("Why `torch.compile` Is Fast", year=2024, venue="arXiv")],
    "a title with brackets": [paper("[Survey] Prompting (a review) [v2]", year=2023)],
    "a record with no section": [
        Record(title="Unsectioned Work", authors=("Ada Lovelace",), year=2023),
        paper("Sectioned Work"),
    ],
    "tags with spaces, hyphens and underscores": [
        paper(
            "Tagged",
            tags=("Prompt Tuning", "P-Tuning", "in_context", "a _b", "x  y", "C++ / Rust", "a-", "100%"),
        ),
    ],
    "a truncated author list": [
        paper(
            "Truncated", authors=("Aarohi Srivastava", "Abhinav Rastogi"), authors_truncated=True, year=2022
        ),
    ],
    "short citations": [
        paper("Cited Once", authors=("Dao",), authors_truncated=True, year=2022),
        paper("Cited Twice", authors=("Wang", "Komatsuzaki"), year=2021),
        paper("Cited Alone", authors=("Su",), year=2021),
    ],
    "several links with numbered labels": [
        paper(
            "Linked",
            urls=(
                ("pdf", "https://example.org/a.pdf"),
                ("pdf2", "https://example.org/b.pdf"),
                ("code", "https://x.io"),
            ),
        ),
    ],
    "links that the notes make": [
        paper(
            "Noted Links",
            arxiv_id="2106.09685",
            year=2021,
            urls=(("pdf", "https://arxiv.org/abs/2106.09685"), ("project", "https://github.com/a/b")),
            notes="See [the paper](https://arxiv.org/abs/2106.09685) and [code](https://github.com/a/b).",
        ),
    ],
    "a todo record": [paper("Later", todo=True, notes="read this")],
    "a project with a second link and notes over lines": [
        Record(
            kind="project",
            title="SomeRepo",
            section=("Resources",),
            urls=(("project", "https://github.com/a/b"), ("blog", "https://a.github.io/blog/post")),
            notes="line one\nline two",
        ),
    ],
    "a tool whose link is not labelled by its host": [
        Record(
            kind="tool",
            title="Labelled Tool",
            section=("Resources", "Tools"),
            urls=(("code", "https://github.com/a/c"),),
            notes="- a list\n- of things",
            todo=True,
        ),
    ],
    "a project with brackets in its title": [
        Record(
            kind="project",
            title="[WIP] Tool (beta",
            section=("Resources",),
            urls=(("project", "https://github.com/a/wip"),),
            notes="one line",
        ),
    ],
    "sections deeper than six levels": [
        paper("Six Deep", section=("A", "B", "C", "D", "E", "F")),
        paper("Eight Deep", section=("A", "B", "C", "D", "E", "F", "G", "H")),
        paper("Seven Deep Sibling", section=("A", "B", "C", "D", "E", "F", "G2")),
        paper("Back Up", section=("A", "Z")),
    ],
}


@pytest.mark.parametrize("records", EXACT.values(), ids=EXACT.keys())
def test_hand_made_records_round_trip(records: list[Record]) -> None:
    assert differences(records, round_trip(records)) == []


TAGS = st.text(alphabet="aZ9 -_+./%()[]#?<>'\"家", min_size=1, max_size=12).map(str.strip).filter(bool)


# A label ending in "-" reads as empty to shields.io's grammar, so the reader takes the alt text,
# which cannot hold "]": the one kind of tag that does not come back (see the module docstring).
@given(TAGS.filter(lambda tag: not (tag.endswith("-") and "]" in tag)))
def test_any_tag_comes_back_from_its_badge(tag: str) -> None:
    assert round_trip([paper("Tagged Work", tags=(tag,))])[0].tags == (tag,)


def test_a_models_line_is_not_written_when_the_notes_state_them() -> None:
    record = paper("Stated", notes="模型：T5，任务：SuperGLUE", models=("T5",), tasks=("SuperGLUE",))
    assert "**模型**" not in to_markdown([record])


# --------------------------------------------------------------------------------------------
# Hand-made records: what cannot survive, and what does


def test_a_doi_only_record_gains_the_link_that_carries_its_doi() -> None:
    record = paper("DOI Only", doi="10.1145/3442188.3445922", year=2021, venue="FAccT")
    (again,) = round_trip([record])
    # The reader takes ids from links only, so the DOI is written as one and comes back in urls.
    assert again.urls == (("doi", "https://doi.org/10.1145/3442188.3445922"),)
    assert differences([record.with_(urls=again.urls)], [again]) == []


def test_an_arxiv_id_without_a_url_gains_a_link_with_its_version() -> None:
    record = paper(
        "Preprint", arxiv_id="2401.01234", arxiv_version=2, year=2024, urls=(("pdf", "https://x.org"),)
    )
    (again,) = round_trip([record])
    assert again.urls == (("pdf2", "https://arxiv.org/abs/2401.01234v2"), ("pdf", "https://x.org"))
    assert differences([record.with_(urls=again.urls)], [again]) == []


def test_a_venue_the_reader_cannot_read_is_dropped_not_the_record() -> None:
    records = [
        paper("Venue Only", venue="arXiv"),
        paper("Venue With Digits", venue="WMT21", year=2021),
        paper("Year Out Of Range", year=1843),
    ]
    assert [(r.title, r.venue, r.year) for r in round_trip(records)] == [
        ("Venue Only", None, None),
        ("Venue With Digits", None, 2021),
        ("Year Out Of Range", None, None),
    ]


def test_sections_are_grouped_in_the_order_they_first_appear() -> None:
    records = [paper("One", section=("A",)), paper("Two", section=("B",)), paper("Three", section=("A",))]
    text = to_markdown(records)
    assert text.count("# A") == 1
    assert [r.title for r in read_markdown_list(text)] == ["One", "Three", "Two"]


def test_no_records_give_an_empty_list() -> None:
    assert to_markdown([]) == ""


# --------------------------------------------------------------------------------------------
# README table

TABLE_RECORDS = [
    FIXTURE[1],
    Record(
        kind="project",
        title="A | B: pipes [and brackets]",
        authors=("Quentin de Laroussilhe", "Ada Lovelace"),
        urls=(("project", "https://github.com/a/b"),),
        tags=("x|y",),
    ),
    Record(title="Only An Id", acl_id="2021.acl-long.353", year=2021, authors=("Xiang Lisa Li",)),
    Record(title="Nothing Linked"),
]


def test_the_table_style() -> None:
    assert to_markdown_table(TABLE_RECORDS) == (
        "| Title | Authors | Venue | Year | Tags | Links |\n"
        "| --- | --- | --- | --- | --- | --- |\n"
        "| [LoRA: Low-Rank Adaptation of Large Language Models](https://arxiv.org/abs/2106.09685) | Hu et al."
        " | ICLR | 2022 | LoRA, low-rank"
        " | [pdf](https://arxiv.org/abs/2106.09685) [project](https://github.com/microsoft/LoRA) |\n"
        "| [A \\| B: pipes \\[and brackets\\]](https://github.com/a/b) | de Laroussilhe and Lovelace"
        " |  |  | x\\|y | [project](https://github.com/a/b) |\n"
        "| [Only An Id](https://aclanthology.org/2021.acl-long.353/) | Li |  | 2021 |  "
        "| [pdf](https://aclanthology.org/2021.acl-long.353/) |\n"
        "| Nothing Linked |  |  |  |  |  |\n"
    )


def test_every_table_row_has_the_header_s_cells() -> None:
    lines = to_markdown_table(list(bundled_records())).splitlines()
    # Unescaped pipes only: "\|" stays inside its cell.
    counts = {line.replace("\\|", "").count("|") for line in lines}
    assert counts == {7}


def test_the_best_url_is_the_paper_then_an_id_then_the_first_link() -> None:
    blog_then_paper = Record(title="T", urls=(("blog", "https://b.org"), ("paper", "https://p.org")))
    assert best_url(blog_then_paper) == "https://p.org"
    assert (
        best_url(Record(title="T", doi="10.1/x", urls=(("blog", "https://b.org"),)))
        == "https://doi.org/10.1/x"
    )
    assert best_url(Record(title="T", urls=(("blog", "https://b.org"),))) == "https://b.org"
    assert best_url(Record(title="T")) is None


def test_cited_authors() -> None:
    assert cited_authors(Record(title="T", authors=("Edward J. Hu",))) == "Hu"
    assert cited_authors(Record(title="T", authors=("Edward J. Hu",), authors_truncated=True)) == "Hu et al."
    assert cited_authors(Record(title="T", authors=("A Hu", "B Shen", "C Wallis"))) == "Hu et al."
