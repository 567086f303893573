"""CSL-JSON export and import: golden file, the mapping, round trips and pandoc reading it.

The golden file ``tests/golden/fixture.csl.json`` is compared exactly; regenerate it after an
intended change with ``LLMREF_UPDATE_GOLDEN=1 python -m pytest tests/test_csl.py`` and review
the diff. The fixture library is the one of test_bibtex_export.py. The pandoc check is skipped
(with the reason) only when pandoc is not installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmref.formats.csl import from_csl, to_csl
from llmref.models import Record
from llmref.services import bundled_records

from .test_bibtex_export import FIXTURE, check_golden, pandoc_warnings

# CSL 1.0.2 item types (csl-data.json) and the variables this exporter may write.
CSL_TYPES = frozenset(
    "article article-journal article-magazine article-newspaper bill book broadcast chapter "
    "classic collection dataset document entry entry-dictionary entry-encyclopedia event figure "
    "graphic hearing interview legal_case legislation manuscript map motion_picture musical_score "
    "pamphlet paper-conference patent performance periodical personal_communication post "
    "post-weblog regulation report review review-book software song speech standard thesis "
    "treaty webpage".split()
)
WRITTEN = frozenset(
    "id type title author issued container-title publisher number DOI URL keyword abstract".split()
)


def items_by_id(records) -> dict[str, dict]:
    return {i["id"]: i for i in to_csl(records)}


def dumps(items: list[dict]) -> str:
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


def test_fixture_export_matches_golden_file() -> None:
    check_golden("fixture.csl.json", dumps(to_csl(FIXTURE)))


@pytest.mark.parametrize("library", ["fixture", "seed"])
def test_items_use_csl_types_and_variables_only(library: str) -> None:
    records = FIXTURE if library == "fixture" else list(bundled_records())
    items = to_csl(records)
    assert [i["id"] for i in items] == sorted(r.key for r in records)
    for item in items:
        assert item["type"] in CSL_TYPES
        assert set(item) <= WRITTEN
        assert all(set(name) <= {"family", "given", "suffix", "literal"} for name in item.get("author", []))


def test_records_without_a_key_or_with_a_duplicate_key_are_refused() -> None:
    with pytest.raises(ValueError, match="key"):
        to_csl([Record(title="No key")])
    with pytest.raises(ValueError, match="duplicate"):
        to_csl([FIXTURE[0], FIXTURE[0]])


def test_arxiv_preprint_is_written_as_zotero_writes_a_preprint() -> None:
    lora = items_by_id(FIXTURE)["hu2021lora"]
    assert lora["type"] == "article"
    assert lora["publisher"] == "arXiv"
    assert lora["number"] == "arXiv:2106.09685"
    assert lora["DOI"] == "10.48550/arXiv.2106.09685"
    assert lora["URL"] == "https://arxiv.org/abs/2106.09685"
    assert lora["issued"] == {"date-parts": [[2021, 6, 17]]}
    assert lora["keyword"] == "LoRA, PEFT"


@pytest.mark.parametrize(
    ("issued", "year"),
    [
        ({"date-parts": {"a": 1}}, None),
        ({"date-parts": [[1e400]]}, None),
        ({"date-parts": [[10**30]]}, None),
        ({"date-parts": [["2021", 13, 99]]}, 2021),
        ({"date-parts": [[-5]]}, None),
    ],
)
def test_dates_are_read_as_far_as_their_parts_make_one(issued: dict, year: int | None) -> None:
    (record,) = from_csl([{"id": "x", "type": "article", "title": "Dated", "issued": issued}])
    assert record.year == year


def test_published_paper_has_its_venue_and_only_the_year() -> None:
    items = items_by_id(FIXTURE)
    assert items["zhang2023adaptive"]["type"] == "paper-conference"
    assert items["zhang2023adaptive"]["container-title"].endswith("(ICLR)")
    assert items["zhang2023adaptive"]["issued"] == {"date-parts": [[2023]]}
    assert "DOI" not in items["zhang2023adaptive"]
    assert items["raffel2020exploring"]["type"] == "article-journal"
    assert items["li2021prefixtuning"]["URL"] == "https://aclanthology.org/2021.acl-long.353"


@pytest.mark.parametrize(
    ("key", "csl_type"),
    [("chatglm", "software"), ("chiang2023vicuna", "post-weblog"), ("towards", "article")],
)
def test_other_kinds_have_their_own_types(key: str, csl_type: str) -> None:
    assert items_by_id(FIXTURE)[key]["type"] == csl_type


def test_names_keep_particles_in_family_and_organisations_literal() -> None:
    authors = items_by_id(FIXTURE)["special2022"]["author"]
    assert authors == [
        {"family": "Rücklé", "given": "Andreas"},
        {"family": "van der Wal", "given": "Oskar"},
        {"literal": "Gemini Team"},
        {"family": "Dao"},
    ]


def test_truncated_author_list_adds_nothing() -> None:
    assert len(items_by_id(FIXTURE)["raffel2020exploring"]["author"]) == 3


def test_title_is_plain_text() -> None:
    title = items_by_id(FIXTURE)["special2022"]["title"]
    assert title == r"Fixing 100% & $5 of C#_x in {braces}: a~b, x^2, a\b [v2] with BERT, T5 & P-Tuning"


@pytest.mark.parametrize("library", ["fixture", "seed"])
def test_csl_to_records_to_csl_keeps_every_mapped_field(library: str) -> None:
    items = to_csl(FIXTURE if library == "fixture" else bundled_records())
    assert to_csl(from_csl(items)) == items


def test_from_csl_reads_a_zotero_preprint() -> None:
    zotero = {
        "id": "hu2021lora",
        "type": "article",
        "title": "LoRA: Low-Rank Adaptation of Large Language Models",
        "author": [
            {"family": "Hu", "given": "Edward J."},
            {"family": "Wal", "given": "Oskar", "non-dropping-particle": "van der"},
            {"literal": "Gemini Team"},
        ],
        "issued": {"date-parts": [["2021", "6", "17"]]},
        "publisher": "arXiv",
        "number": "arXiv:2106.09685",
        "DOI": "10.48550/arXiv.2106.09685",
        "URL": "http://arxiv.org/abs/2106.09685v2",
        "keyword": "LoRA, PEFT",
        "abstract": "We propose LoRA.",
    }
    (record,) = from_csl([zotero])
    assert record.key == "hu2021lora" and record.kind == "paper"
    assert record.authors == ("Edward J. Hu", "Oskar van der Wal", "Gemini Team")
    assert (record.year, record.published) == (2021, "2021-06-17")
    assert (record.arxiv_id, record.arxiv_version, record.doi) == ("2106.09685", 2, None)
    assert record.venue is None and record.tags == ("LoRA", "PEFT")
    assert record.urls == (("url", "http://arxiv.org/abs/2106.09685v2"),)
    assert record.abstract == "We propose LoRA."


def test_from_csl_reads_venue_doi_and_anthology_id() -> None:
    (record,) = from_csl(
        [
            {
                "id": "li2021prefixtuning",
                "type": "paper-conference",
                "title": "Prefix-Tuning",
                "container-title": "Proceedings of ACL 2021",
                "DOI": "https://doi.org/10.18653/v1/2021.acl-long.353",
                "issued": {"date-parts": [[2021]]},
            }
        ]
    )
    assert record.venue == "Proceedings of ACL 2021"
    assert record.doi == "10.18653/v1/2021.acl-long.353"
    assert record.acl_id == "2021.acl-long.353"
    assert record.entry_type == "inproceedings"


@pytest.mark.parametrize("library", ["fixture", "seed"])
def test_pandoc_citeproc_formats_every_key_of_the_csl_export(library: str, tmp_path: Path) -> None:
    records = list(FIXTURE) if library == "fixture" else list(bundled_records())
    refs = tmp_path / "refs.json"
    refs.write_text(dumps(to_csl(records)), encoding="utf-8")
    assert pandoc_warnings(refs, [r.key for r in records], tmp_path) == ""


words = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=8)
names = st.lists(words, min_size=1, max_size=3).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(
    title=st.text(min_size=1, max_size=40).filter(str.strip),
    authors=st.lists(names, max_size=4),
    year=st.none() | st.integers(1990, 2030),
    venue=st.none() | st.sampled_from(["ICLR", "TACL", "Findings of ACL", "OpenAI blog", "arXiv"]),
    tags=st.lists(words, max_size=3),
    kind=st.sampled_from(["paper", "model", "blog", "dataset"]),
)
def test_any_export_reads_back_to_the_same_items(
    title: str, authors: list[str], year: int | None, venue: str | None, tags: list[str], kind: str
) -> None:
    record = Record(
        key="k", kind=kind, title=title, authors=tuple(authors), year=year, venue=venue, tags=tuple(tags)
    )
    items = to_csl([record])
    assert to_csl(from_csl(items)) == items
