"""Import and export through the CLI: formats chosen, records matched, nothing duplicated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmref.exchange import merge
from llmref.models import Record

from .conftest import LORA, runner_for


def test_json_export_of_everything_reimports_to_the_same_records(seeded, empty, tmp_path: Path) -> None:
    dump = tmp_path / "all.json"
    assert seeded("export", "--json", "-o", str(dump)).exit_code == 0
    result = empty("import", str(dump), "--json")
    assert result.exit_code == 0, result.output
    assert {o["status"] for o in json.loads(result.stdout)["outcomes"]} == {"added"}
    assert json.loads(empty("export", "--json").stdout) == json.loads(dump.read_text())


def test_importing_twice_changes_nothing(seeded, empty, tmp_path: Path) -> None:
    dump = tmp_path / "all.json"
    dump.write_text(seeded("export", "--json").stdout)
    assert empty("import", str(dump)).exit_code == 0
    before = empty("export", "--json").stdout
    again = empty("import", str(dump), "--json")
    assert {o["status"] for o in json.loads(again.stdout)["outcomes"]} == {"unchanged"}
    assert empty("export", "--json").stdout == before


def test_a_library_s_own_bibtex_read_back_changes_only_what_was_edited(seeded, tmp_path: Path) -> None:
    bib = tmp_path / "all.bib"
    exported = seeded("export", "--bibtex").stdout
    before = seeded("export", "--json").stdout
    bib.write_text(exported)
    report = json.loads(seeded("import", str(bib), "--json").stdout)
    assert {o["status"] for o in report["outcomes"]} == {"unchanged"}
    assert seeded("export", "--json").stdout == before
    # An entry edited in the file is the user's now: kept, and written back as edited.
    bib.write_text(exported.replace("@misc{hu2021lora,", "@misc{hu2021lora,\n  note = {Read twice},", 1))
    report = json.loads(seeded("import", str(bib), "--json").stdout)
    merged = [o for o in report["outcomes"] if o["status"] == "merged"]
    # Its arXiv page, which the export gives as its url, is no new link.
    assert [(o["key"], o["detail"]) for o in merged] == [("hu2021lora", "entry_type, bibtex_fields")]
    assert "note = {Read twice}" in seeded("export", "--bibtex", "--key", "hu2021lora").stdout


def test_importing_the_seed_into_the_seeded_library_changes_nothing(seeded, tmp_path: Path) -> None:
    dump = tmp_path / "all.json"
    dump.write_text(seeded("export", "--json").stdout)
    result = seeded("import", str(dump), "--json")
    assert {o["status"] for o in json.loads(result.stdout)["outcomes"]} == {"unchanged"}


def test_export_selects_like_search(seeded) -> None:
    by_tag = json.loads(seeded("export", "--json", "--tag", "Adapter家族").stdout)
    assert [r["key"] for r in by_tag] == [
        "houlsby2019parameterefficient",
        "lin2020exploring",
        "pfeiffer2021adapterfusion",
        "ruckle2021adapterdrop",
    ]
    by_query = json.loads(seeded("export", "--json", "low-rank").stdout)
    assert [r["key"] for r in by_query] == ["hu2021lora"]
    by_key = json.loads(
        seeded("export", "--json", "--key", "2106.09685", "--key", "li2021prefixtuning").stdout
    )
    assert [r["key"] for r in by_key] == ["hu2021lora", "li2021prefixtuning"]


def test_export_refuses_two_formats_and_unknown_keys(seeded) -> None:
    assert seeded("export", "--bibtex", "--json").exit_code == 2
    missing = seeded("export", "--key", "nosuchkey")
    assert missing.exit_code == 3 and "Error:" in missing.stderr


def test_export_to_an_unwritable_place_is_a_clean_error(seeded, tmp_path: Path) -> None:
    result = seeded("export", "--json", "-o", str(tmp_path / "missing-dir" / "x.json"))
    assert result.exit_code == 2 and result.stderr.startswith("Error: Cannot write")


def test_import_merges_into_an_existing_record_without_overwriting(seeded, tmp_path: Path) -> None:
    incoming = Record(
        title="Some other title for LoRA",
        arxiv_id="2106.09685",
        abstract="An abstract the library did not have.",
        tags=("PEFT",),
        notes="A note from elsewhere.",
        urls=(("code", "https://github.com/microsoft/LoRA"), ("pdf", "https://arxiv.org/abs/2106.09685")),
    )
    path = tmp_path / "one.json"
    path.write_text(json.dumps([incoming.to_dict()]))
    result = seeded("import", str(path), "--json")
    outcome = json.loads(result.stdout)["outcomes"][0]
    assert (outcome["status"], outcome["key"]) == ("merged", "hu2021lora")
    lora = json.loads(seeded("show", "hu2021lora", "--json").stdout)
    assert lora["title"] == "LoRA: Low-Rank Adaptation of Large Language Models"
    assert lora["abstract"] == "An abstract the library did not have."
    assert lora["tags"] == ["LoRA", "PEFT"]
    assert lora["notes"].startswith("模型：RoBERTa")
    assert lora["urls"] == {
        "pdf": "https://arxiv.org/abs/2106.09685",
        "code": "https://github.com/microsoft/LoRA",
    }


def test_an_imported_key_that_is_taken_goes_to_the_newcomer_with_a_suffix(seeded, tmp_path: Path) -> None:
    other = Record(key="hu2021lora", title="A different paper", authors=("Someone Else",), year=2020)
    path = tmp_path / "clash.json"
    path.write_text(json.dumps([other.to_dict()]))
    outcome = json.loads(seeded("import", str(path), "--json").stdout)["outcomes"][0]
    assert (outcome["status"], outcome["key"]) == ("added", "hu2021lorab")
    assert "cite it as hu2021lorab" in outcome["detail"]
    assert json.loads(seeded("show", "hu2021lora", "--json").stdout)["title"].startswith("LoRA")


def test_bad_json_records_are_reported_and_the_rest_imported(empty, tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    path.write_text(
        json.dumps([LORA.to_dict(), {"kind": "paper", "title": "x", "colour": "red"}, {"kind": "poem"}])
    )
    result = empty("import", str(path))
    assert result.exit_code == 1
    assert "record 2" in result.stderr and "record 3" in result.stderr
    assert "1 added" in result.stderr


def test_json_nulls_are_read_as_nothing_given(empty, tmp_path: Path) -> None:
    path = tmp_path / "nulls.json"
    nulls = {"kind": None, "notes": None, "todo": None, "authors_truncated": None, "tags": None}
    path.write_text(json.dumps([{"title": "Null Fields", **nulls}, {"kind": "paper", "title": None}]))
    result = empty("import", str(path))
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[0].endswith("record 2: it has no title")
    assert "1 added" in result.stderr
    (record,) = json.loads(empty("list", "--json").stdout)
    assert (record["kind"], record["notes"], record["todo"], record["tags"]) == ("paper", "", False, [])


def test_import_dry_run_writes_nothing(seeded, empty, tmp_path: Path) -> None:
    path = tmp_path / "all.json"
    path.write_text(seeded("export", "--json").stdout)
    result = empty("import", str(path), "--dry-run", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["written"] is False
    assert json.loads(empty("list", "--json").stdout) == []


def test_a_dry_run_creates_no_library(seeded, tmp_path: Path) -> None:
    # What a first real import would do to the library a first run creates (the curated list),
    # shown without that library, or anything else, being written.
    path = tmp_path / "mine.bib"
    lovelace = "@article{lovelace1843, title = {Notes on the Engine}, author = {Lovelace, Ada}, year = 1843}"
    path.write_text(seeded("export", "--bibtex", "--key", "hu2021lora").stdout + lovelace + "\n")
    missing = tmp_path / "later" / "llmref.db"
    before = set(tmp_path.rglob("*"))
    result = runner_for(missing)("import", str(path), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    outcomes = json.loads(result.stdout)["outcomes"]
    assert [(o["status"], o["key"]) for o in outcomes] == [
        ("unchanged", "hu2021lora"),  # the curated list's own entry, as llmref writes it
        ("added", "lovelace1843"),
    ]
    assert not missing.parent.exists()
    assert set(tmp_path.rglob("*")) == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("refs.txt", "hello", "Cannot tell the format"),
        ("broken.json", "[{", "not valid JSON"),
        ("other.json", '{"a": 1}', "neither llmref JSON nor CSL-JSON"),
        ("latin1.bib", b"@misc{x, title={M\xfcller}}", "not UTF-8"),
    ],
)
def test_unreadable_files_are_clean_errors(empty, tmp_path: Path, name: str, content, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = empty("import", str(path))
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("args", [["refs.txt"], ["refs.txt", "--format", "nonsense"]])
def test_the_format_hints_name_every_format_import_reads(empty, tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "refs.txt").write_text("hello")
    result = empty("import", *[str(tmp_path / a) if a.endswith(".txt") else a for a in args])
    assert result.exit_code == 2
    assert "bibtex, markdown, json, csl-json, arxiv-snapshot" in result.stderr


def test_merge_fills_and_extends_but_never_overwrites() -> None:
    mine = LORA.with_(key="hu2021lora", venue=None, abstract=None)
    theirs = Record(
        title="Changed", venue="ICLR", abstract="Text.", authors=("A B",), tags=("lora", "New"), year=1999
    )
    merged = merge(mine, theirs)
    assert (merged.title, merged.key, merged.year) == (mine.title, "hu2021lora", 2021)
    assert (merged.venue, merged.abstract) == ("ICLR", "Text.")
    assert merged.tags == ("LoRA", "New")
    assert merged.authors == mine.authors  # a truncated list is replaced only by a longer one


def test_merge_adds_no_link_to_a_page_of_the_record_s_own_identifiers() -> None:
    mine = Record(
        key="a",
        title="T",
        arxiv_id="2106.09685",
        doi="10.1234/ABC.5",
        urls=(("paper", "https://arxiv.org/pdf/2106.09685"),),
    )
    theirs = Record(
        title="T",
        urls=(
            ("url", "https://arxiv.org/abs/2106.09685v2"),
            ("doi", "https://doi.org/10.1234/abc.5"),
            ("code", "https://github.com/microsoft/LoRA"),
            ("other", "https://arxiv.org/abs/2301.00001"),  # another paper's page is a link
        ),
    )
    assert merge(mine, theirs).urls == (
        ("paper", "https://arxiv.org/pdf/2106.09685"),
        ("code", "https://github.com/microsoft/LoRA"),
        ("other", "https://arxiv.org/abs/2301.00001"),
    )


def test_generic_titles_from_a_bib_file_stay_separate_records(empty, tmp_path: Path) -> None:
    path = tmp_path / "editorials.bib"
    path.write_text(
        "@article{smith2020editorial, title={Editorial}, author={Smith, Ann}, year=2020}\n"
        "@article{jones2021editorial, title={Editorial}, author={Jones, Bob}, year=2021}\n"
    )
    result = empty("import", str(path), "--json")
    assert [o["status"] for o in json.loads(result.stdout)["outcomes"]] == ["added", "added"]
    assert json.loads(empty("show", "jones2021editorial", "--json").stdout)["authors"] == ["Bob Jones"]


def test_a_conference_entry_for_a_paper_the_library_has_merges_and_names_the_key(
    seeded, tmp_path: Path
) -> None:
    path = tmp_path / "iclr.bib"
    path.write_text(
        "@inproceedings{hu2022lora,\n  title={{LoRA}: Low-Rank Adaptation of Large Language Models},\n"
        "  author={Hu, Edward J. and Shen, Yelong},\n"
        "  booktitle={International Conference on Learning Representations},\n  year={2022},\n  url={https://openreview.net/forum?id=nZeVKeeFYf9}\n}\n"
    )
    outcome = json.loads(seeded("import", str(path), "--json").stdout)["outcomes"][0]
    assert (outcome["status"], outcome["key"]) == ("merged", "hu2021lora")
    assert "hu2022lora" in outcome["detail"]
    assert seeded("show", "hu2022lora").exit_code == 3


def test_a_key_differing_only_in_case_is_added_under_a_new_key(seeded, tmp_path: Path) -> None:
    path = tmp_path / "case.bib"
    path.write_text("@article{HU2021LORA, title={Something About Cats}, author={Cat, Tom}, year=2021}\n")
    outcome = json.loads(seeded("import", str(path), "--json").stdout)["outcomes"][0]
    assert (outcome["status"], outcome["key"]) == ("added", "HU2021LORAb")
    assert "cite it as HU2021LORAb" in outcome["detail"]


@pytest.mark.parametrize(
    ("item", "authors", "tags"),
    [
        ({"id": "a", "type": "article", "title": "One", "author": "Smith"}, ["Smith"], []),
        ({"id": "b", "type": "article", "title": "Two", "keyword": ["x", "y"]}, [], ["x", "y"]),
    ],
)
def test_loose_csl_items_are_read_sensibly(
    empty, tmp_path: Path, item: dict, authors: list, tags: list
) -> None:
    path = tmp_path / "loose.json"
    path.write_text(json.dumps([item]))
    assert empty("import", str(path)).exit_code == 0
    record = json.loads(empty("show", item["id"], "--json").stdout)
    assert (record["authors"], record["tags"]) == (authors, tags)


def test_a_csl_item_without_a_title_is_reported(empty, tmp_path: Path) -> None:
    path = tmp_path / "untitled.json"
    path.write_text(
        json.dumps([{"id": "x", "type": "article"}, {"id": "y", "type": "article", "title": "Fine"}])
    )
    result = empty("import", str(path))
    assert (
        result.exit_code == 1 and "record 1: it has no title" in result.stderr and "1 added" in result.stderr
    )


@pytest.mark.parametrize(("content", "fmt"), [("[1, 2]", "csl-json"), ("# A list\n", "json")])
def test_a_forced_format_that_does_not_fit_is_a_clean_error(
    empty, tmp_path: Path, content: str, fmt: str
) -> None:
    path = tmp_path / "odd.md"
    path.write_text(content)
    result = empty("import", str(path), "--format", fmt)
    assert result.exit_code == 2 and result.stderr.startswith("Error: ")


def test_export_key_with_filters_is_refused_and_an_empty_export_says_so(seeded) -> None:
    assert seeded("export", "--key", "hu2021lora", "--tag", "LoRA").exit_code == 2
    empty_export = seeded("export", "--json", "--tag", "NoSuchTag")
    assert empty_export.stdout == "[]\n" and "Nothing matches" in empty_export.stderr


def test_an_exported_file_gets_ordinary_permissions(seeded, tmp_path: Path) -> None:
    import os

    target = tmp_path / "refs.bib"
    assert seeded("export", "-o", str(target)).exit_code == 0
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_long_file_is_written_in_batches_and_later_entries_still_meet_earlier_ones(
    empty, tmp_path: Path
) -> None:
    records = [
        Record(
            key=f"k{n}",
            title=f"Paper number {n}",
            authors=("Ada Lovelace",),
            year=2020,
            arxiv_id=f"2001.{n:05d}",
        )
        for n in range(2300)
    ]
    records[1500] = records[1500].with_(arxiv_id="2001.01200", key="again")  # k1200, not yet written
    records[2100] = Record(key="k2050", title="Another paper", authors=("Alan Turing",), year=2021)
    records[2200] = records[30].with_(key="k30", tags=("LoRA",))  # k30 again, with a tag
    path = tmp_path / "long.json"
    path.write_text(json.dumps([r.to_dict() for r in records]))
    report = json.loads(empty("import", str(path), "--json").stdout)
    outcomes = report["outcomes"]
    merged = {1500, 2200}  # reported under the record they went into
    assert all(
        o["title"] == r.title
        for i, (o, r) in enumerate(zip(outcomes, records, strict=True))
        if i not in merged
    )
    assert [o["status"] for o in outcomes].count("added") == 2298
    assert outcomes[1500]["key"] == "k1200" and "the file's key 'again' is k1200" in outcomes[1500]["detail"]
    assert (outcomes[2100]["key"], outcomes[2200]["status"]) == ("k2050b", "merged")
    assert json.loads(empty("show", "k30", "--json").stdout)["tags"] == ["LoRA"]
    keys = [o["key"] for o in outcomes if o["status"] == "added"]
    assert len(set(keys)) == len(keys) == len(json.loads(empty("list", "--json").stdout))


def test_an_entry_meets_what_an_earlier_entry_of_the_file_gave_a_record(seeded, tmp_path: Path) -> None:
    # The first entry merges into the seed's LoRA by title and gives it a DOI; the second is
    # is found by that DOI alone.
    path = tmp_path / "chain.bib"
    path.write_text(
        "@article{x1, title={LoRA: Low-Rank Adaptation of Large Language Models},"
        " author={Hu, Edward J.}, year=2021, doi={10.1234/LORA.5}}\n"
        "@article{x2, title={Low-Rank Adaptation, the Journal Version}, author={Hu, Edward J.},"
        " year=2021, doi={10.1234/lora.5}}\n"
        "@article{new1, title={A Paper Nobody Has}, author={Doe, Jane}, year=2020}\n"
    )
    outcomes = json.loads(seeded("import", str(path), "--json").stdout)["outcomes"]
    assert [(o["status"], o["key"]) for o in outcomes] == [
        ("merged", "hu2021lora"),
        ("unchanged", "hu2021lora"),
        ("added", "new1"),
    ]


def test_a_removed_papers_suffixed_key_is_never_given_to_another(empty, tmp_path: Path) -> None:
    def imported(*titles: str) -> list[str]:
        path = tmp_path / "papers.json"
        papers = [Record(title=t, authors=("Wei Wang",), year=2020) for t in titles]
        path.write_text(json.dumps([p.to_dict() for p in papers]))
        return [o["key"] for o in json.loads(empty("import", str(path), "--json").stdout)["outcomes"]]

    assert imported("Deep One", "Deep Two", "Deep Three") == [
        "wang2020deep",
        "wang2020deepb",
        "wang2020deepc",
    ]
    assert empty("rm", "wang2020deepb", "--yes").exit_code == 0
    assert imported("Deep Four") == ["wang2020deepd"]  # a document may still cite wang2020deepb


def test_search_fills_a_page_with_whole_words_before_prefixes(empty, tmp_path: Path) -> None:
    papers = [
        Record(title="Modeling", authors=("Ann Lee",), year=2024, tags=("Shelf",)),
        Record(
            title="A Model for Reading Long Scientific Documents",
            authors=("Bo Li",),
            year=2022,
            tags=("Shelf",),
        ),
        Record(
            title="Another Model for Reading Long Documents", authors=("Cy Ng",), year=2023, tags=("Shelf",)
        ),
    ]
    path = tmp_path / "papers.json"
    path.write_text(json.dumps([p.to_dict() for p in papers]))
    assert empty("import", str(path)).exit_code == 0
    page = json.loads(empty("search", "model", "--limit", "2", "--json").stdout)
    assert all(" Model " in r["title"] for r in page)
    # The same with a filter that looks at names only.
    filtered = json.loads(empty("search", "model", "--tag", "shelf", "--limit", "2", "--json").stdout)
    assert [r["title"] for r in filtered] == [r["title"] for r in page]
    # And with one on the records' rows.
    dated = json.loads(empty("search", "model", "--year", "2020-2024", "--limit", "2", "--json").stdout)
    assert [r["title"] for r in dated] == [r["title"] for r in page]
    everything = json.loads(empty("search", "model", "--json").stdout)
    assert everything[0]["title"] == "Modeling" and len(everything) == 3


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"authors": "Alice Smith"}, "'authors' must be a list of text"),
        ({"tags": ["LoRA", 4]}, "'tags' must be a list of text"),
        ({"notes": 5}, "'notes' must be text"),
        ({"year": "2021"}, "'year' must be a whole number from 1000 to 9999"),
        ({"year": 99999999999999999999999}, "'year' must be a whole number from 1000 to 9999"),
        ({"arxiv_version": "two"}, "'arxiv_version' must be a whole number from 1 to 9999"),
        ({"todo": "yes"}, "'todo' must be true or false"),
        ({"urls": ["https://example.org"]}, "'urls' must be an object whose values are text"),
        ({"title": "Half a pair \ud800"}, "'title' must be text"),
    ],
)
def test_a_json_record_with_a_value_of_the_wrong_type_is_reported(
    seeded, tmp_path: Path, fields: dict, says: str
) -> None:
    path = tmp_path / "typed.json"
    # A record with the seed's LoRA title too: a wrong value must not reach the matching either.
    path.write_text(json.dumps([{"kind": "paper", "title": LORA.title, **fields}]))
    before = seeded("list", "--json").stdout
    result = seeded("import", str(path))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"typed.json: record 1: {says}"
    assert seeded("list", "--json").stdout == before


def test_json_nested_too_deep_is_one_clean_error(empty, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    result = empty("import", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: deep.json is nested too deep to be records.")
