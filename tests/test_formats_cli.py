"""Every format through the CLI: export, re-import, and what real tools make of the files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmref import exchange
from llmref.models import KINDS, Record

from .conftest import runner_for

FIXTURES = Path(__file__).parent / "fixtures" / "bib"
LIST = Path(__file__).resolve().parents[1] / "data" / "curated-list.md"


def records(run) -> list[dict]:
    return json.loads(run("export", "--json").stdout)


def test_markdown_export_of_the_seed_reimports_to_the_same_records(seeded, empty, tmp_path: Path) -> None:
    listing = tmp_path / "list.md"
    assert seeded("export", "--markdown", "-o", str(listing)).exit_code == 0
    result = empty("import", str(listing))
    assert result.exit_code == 0, result.output

    def without_keys(run) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "key"} for r in records(run)]

    # Keys are given by the store; the seed's were given when the list was first read.
    assert without_keys(empty) == without_keys(seeded)


def test_reimporting_the_curated_list_changes_nothing(seeded) -> None:
    before = records(seeded)
    result = seeded("import", str(LIST), "--json")
    assert result.exit_code == 0, result.output
    assert {o["status"] for o in json.loads(result.stdout)["outcomes"]} == {"unchanged"}
    assert records(seeded) == before


def test_a_newer_list_adds_what_is_new_and_reports_what_changed(seeded, tmp_path: Path) -> None:
    newer = LIST.read_text(encoding="utf-8") + (
        "\n## More PEFT\n\n1. `QLoRA: Efficient Finetuning of Quantized LLMs` arxiv 2023\n"
        "   Tim Dettmers, Artidoro Pagnoni, Ari Holtzman, Luke Zettlemoyer [[pdf](https://arxiv.org/abs/2305.14314)]\n"
    )
    chatglm = "4. [ChatGLM: An Open Bilingual Dialogue Language Model](https://github.com/THUDM/ChatGLM-6B)"
    assert chatglm in newer
    newer = newer.replace(chatglm, chatglm + " [[paper](https://arxiv.org/abs/2210.02414)]")
    path = tmp_path / "newer.md"
    path.write_text(newer, encoding="utf-8")
    outcomes = json.loads(seeded("import", str(path), "--json").stdout)["outcomes"]
    changed = {o["key"]: o["status"] for o in outcomes if o["status"] != "unchanged"}
    assert changed == {"dettmers2023qlora": "added", "chatglm": "merged"}
    assert json.loads(seeded("show", "chatglm", "--json").stdout)["arxiv_id"] == "2210.02414"
    assert len(records(seeded)) == 55


def test_bibtex_export_of_the_library_for_a_tag(seeded) -> None:
    result = seeded("export", "--bibtex", "--tag", "LoRA")
    assert result.exit_code == 0
    assert result.stdout.startswith("@misc{hu2021lora,")
    assert "eprint = {2106.09685}" in result.stdout


def test_bibtex_import_reports_bad_entries_by_line_and_imports_the_rest(empty) -> None:
    result = empty("import", str(FIXTURES / "broken.bib"), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    lines = {p["line"] for p in data["problems"]}
    assert 6 in lines  # the entry with an unbalanced brace
    assert all(p["source"] == "broken.bib" for p in data["problems"])
    assert data["outcomes"] and all(o["status"] == "added" for o in data["outcomes"])
    text = empty("import", str(FIXTURES / "broken.bib")).stderr
    assert "broken.bib:6:" in text and "not imported" in text


def test_macros_from_one_file_serve_another_in_the_same_call(empty) -> None:
    result = empty("import", str(FIXTURES / "strings.bib"), str(FIXTURES / "papers.bib"), "--json")
    data = json.loads(result.stdout)
    assert not [p for p in data["problems"] if "macro" in p["message"]]
    assert len(data["outcomes"]) >= 5


REAL_ENTRIES = r"""
@string{acl = "Proceedings of the 59th Annual Meeting of the Association for Computational Linguistics"}

@inproceedings{li-liang-2021-prefix,
    title = "Prefix-Tuning: Optimizing Continuous Prompts for Generation",
    author = "Li, Xiang Lisa  and
      Liang, Percy",
    booktitle = acl,
    month = aug,
    year = "2021",
    address = "Online",
    publisher = "Association for Computational Linguistics",
    url = "https://aclanthology.org/2021.acl-long.353",
    doi = "10.18653/v1/2021.acl-long.353",
    pages = "4582--4597",
}

@article{hu2021lora,
  title={{LoRA}: Low-rank adaptation of large language models},
  author={Hu, Edward J and Shen, Yelong and Wallis, Phillip and Allen-Zhu, Zeyuan and Li, Yuanzhi
          and Wang, Shean and Wang, Lu and Chen, Weizhu},
  journal={arXiv preprint arXiv:2106.09685},
  year={2021}
}

@inproceedings{NEURIPS2020_1457c0d6,
 author = {Brown, Tom and Mann, Benjamin and Ryder, Nick and Subbiah, Melanie and others},
 booktitle = {Advances in Neural Information Processing Systems},
 pages = {1877--1901},
 title = {Language Models are Few-Shot Learners},
 volume = {33},
 year = {2020}
}

@misc{r{\"u}ckl{\'e}2021adapterdrop,
      title={AdapterDrop: On the Efficiency of Adapters in Transformers},
      author={Andreas R{\"u}ckl{\'e} and Gregor Geigle and Max Glockner},
      year={2021},
      eprint={2010.11918},
      archivePrefix={arXiv},
      primaryClass={cs.CL}
}
"""


def test_bibtex_import_then_export_gives_the_entries_back(empty, tmp_path: Path) -> None:
    pybtex = pytest.importorskip("pybtex.database")
    path = tmp_path / "real.bib"
    path.write_text(REAL_ENTRIES, encoding="utf-8")
    result = empty("import", str(path), "--json")
    assert result.exit_code == 1  # BibTeX cannot read a key with braces: that entry is reported
    data = json.loads(result.stdout)
    assert [p["line"] for p in data["problems"]] == [35]
    assert [o["status"] for o in data["outcomes"]] == ["added"] * 3
    exported = pybtex.parse_string(empty("export", "--bibtex").stdout, "bibtex").entries
    original = pybtex.parse_string(REAL_ENTRIES, "bibtex").entries
    for key in ("li-liang-2021-prefix", "hu2021lora", "NEURIPS2020_1457c0d6"):
        assert exported[key].type == original[key].type
        for name, value in original[key].fields.items():
            assert " ".join(exported[key].fields[name].split()) == " ".join(value.split()), (key, name)
        assert [str(p) for p in exported[key].persons["author"]] == [
            str(p) for p in original[key].persons["author"]
        ]
    lora = json.loads(empty("show", "hu2021lora", "--json").stdout)
    assert (lora["arxiv_id"], len(lora["authors"])) == ("2106.09685", 8)


_WORDS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -:,.'()é",
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    title=_WORDS.filter(lambda t: t.strip() and any(c.isalpha() for c in t)),
    pages=st.from_regex(r"[1-9][0-9]{0,3}--[1-9][0-9]{0,3}", fullmatch=True),
    publisher=_WORDS.filter(str.strip),
    year=st.integers(1950, 2030),
    entry_type=st.sampled_from(["article", "inproceedings", "misc", "techreport", "book"]),
)
def test_bibtex_fields_survive_the_store(tmp_path_factory, title, pages, publisher, year, entry_type) -> None:
    pybtex = pytest.importorskip("pybtex.database")
    home = tmp_path_factory.mktemp("rt")
    run = runner_for(home / "lib.db")
    run("init", "--empty")
    text = (
        f"@{entry_type}{{roundtrip,\n  title = {{{title.strip()}}},\n"
        "  author = {Ada Lovelace and Turing, Alan},\n"
        f"  year = {{{year}}},\n  pages = {{{pages}}},\n  publisher = {{{publisher.strip()}}},\n"
        f"  note = {{Seen in {year}}},\n}}\n"
    )
    path = home / "one.bib"
    path.write_text(text, encoding="utf-8")
    assert run("import", str(path)).exit_code == 0
    original = pybtex.parse_string(text, "bibtex").entries["roundtrip"]
    again = pybtex.parse_string(run("export", "--bibtex").stdout, "bibtex").entries["roundtrip"]
    assert again.type == original.type
    for name, value in original.fields.items():
        assert " ".join(again.fields[name].split()) == " ".join(value.split()), name
    assert [str(p) for p in again.persons["author"]] == [str(p) for p in original.persons["author"]]


def test_csl_json_export_reimports(seeded, empty, tmp_path: Path) -> None:
    path = tmp_path / "refs.json"
    assert seeded("export", "--csl-json", "-o", str(path)).exit_code == 0
    result = empty("import", str(path), "--json")
    assert result.exit_code == 0, result.output
    mine = {r["key"]: r for r in records(seeded)}
    theirs = {r["key"]: r for r in records(empty)}
    assert set(theirs) == set(mine)
    for key, record in theirs.items():
        assert record["title"] == mine[key]["title"]
        assert record["arxiv_id"] == mine[key]["arxiv_id"]


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed (CI installs it)")
def test_pandoc_formats_every_key_of_the_seed_export(seeded, tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    csl = tmp_path / "refs.json"
    seeded("export", "--bibtex", "-o", str(bib))
    seeded("export", "--csl-json", "-o", str(csl))
    keys = [r["key"] for r in records(seeded)]
    doc = tmp_path / "doc.md"
    doc.write_text("Cited: " + "; ".join(f"@{k}" for k in keys) + "\n", encoding="utf-8")
    for bibliography in (bib, csl):
        done = subprocess.run(
            ["pandoc", "--citeproc", f"--bibliography={bibliography}", "-t", "plain", str(doc)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0 and done.stderr == "", done.stderr
        assert "???" not in done.stdout


CORPUS_LISTS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "lists"
_PAPER_LINK = re.compile(
    r"https?://(?:www\.)?(?:arxiv\.org/(?:abs|pdf)/[^\s)\]\"'<>]+|aclanthology\.org/[^\s)\]\"'<>]+)"
)


@pytest.mark.skipif(not CORPUS_LISTS.is_dir(), reason="../shared/corpus is not beside this clone")
@pytest.mark.parametrize("name", ["awesome-llm.md", "deltapapers.md", "ainlper-papershare-zh.md"])
def test_other_peoples_lists_import_with_every_paper_link_attached(empty, name: str) -> None:
    from llmref.ids import parse_acl, parse_arxiv

    path = CORPUS_LISTS / name
    result = empty("import", str(path))
    assert result.exit_code == 0, result.output
    stored = records(empty)
    held = {("arxiv", r["arxiv_id"]) for r in stored} | {("acl", r["acl_id"]) for r in stored}
    for r in stored:
        for url in r["urls"].values():
            held |= {("arxiv", (parse_arxiv(url) or ("",))[0]), ("acl", parse_acl(url) or "")}
    for link in _PAPER_LINK.findall(path.read_text(encoding="utf-8")):
        found = parse_arxiv(link)
        wanted = ("arxiv", found[0]) if found else ("acl", parse_acl(link) or "")
        if wanted[1]:
            assert wanted in held, link
    again = empty("import", str(path), "--json")
    assert {o["status"] for o in json.loads(again.stdout)["outcomes"]} == {"unchanged"}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.builds(
            Record,
            title=st.text(min_size=1, max_size=30).filter(lambda t: t.strip() and t == t.strip()),
            kind=st.sampled_from(KINDS),
            authors=st.lists(
                st.text(min_size=1, max_size=15).filter(lambda t: t.strip() == t and t), max_size=4
            ).map(tuple),
            year=st.none() | st.integers(1900, 2100),
            tags=st.lists(
                st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}", fullmatch=True), max_size=3, unique_by=str.casefold
            ).map(tuple),
            notes=st.text(max_size=40),
            section=st.lists(st.text(min_size=1, max_size=10).filter(str.strip), max_size=2).map(tuple),
            todo=st.booleans(),
        ),
        min_size=1,
        max_size=5,
        unique_by=lambda r: r.title.casefold(),
    )
)
def test_json_round_trips_exactly_through_two_libraries(
    tmp_path_factory, given_records: list[Record]
) -> None:
    from llmref.store.library import Library

    home = tmp_path_factory.mktemp("json")
    with Library.open(home / "a.db", seed=given_records) as first:
        exported = exchange.export(first.list(), "json")
    path = home / "dump.json"
    path.write_text(exported, encoding="utf-8")
    run = runner_for(home / "b.db")
    run("init", "--empty")
    assert run("import", str(path)).exit_code == 0
    assert run("export", "--json").stdout == exported


def test_keys_sort_with_case_ignored_in_list_and_bibtex_export(empty, tmp_path: Path) -> None:
    path = tmp_path / "mixed.bib"
    path.write_text(
        "".join(
            f"@misc{{{key},\n  title = {{{title}}},\n  year = {{2020}}\n}}\n\n"
            for key, title in (
                ("Zeta2020", "Last Work"),
                ("alpha2020", "First Work"),
                ("Beta2020", "Middle Work"),
            )
        ),
        encoding="utf-8",
    )
    assert empty("import", str(path)).exit_code == 0
    listed = json.loads(empty("list", "--sort", "key", "--json").stdout)
    assert [r["key"] for r in listed] == ["alpha2020", "Beta2020", "Zeta2020"]
    exported = empty("export", "--bibtex")
    assert exported.exit_code == 0
    assert re.findall(r"^@\w+\{([^,]+),", exported.stdout, re.M) == ["alpha2020", "Beta2020", "Zeta2020"]
    searched = empty("export", "--bibtex", "work")  # a query's records, streamed in the same order
    assert re.findall(r"^@\w+\{([^,]+),", searched.stdout, re.M) == ["alpha2020", "Beta2020", "Zeta2020"]


def test_an_export_through_a_link_replaces_the_file_it_points_at_and_keeps_the_link(
    seeded, tmp_path: Path
) -> None:
    real = tmp_path / "papers" / "refs.bib"
    real.parent.mkdir()
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "refs.bib"
    link.symlink_to(real)
    assert seeded("export", "--bibtex", "-o", str(link)).exit_code == 0
    assert link.is_symlink() and real.read_text(encoding="utf-8").startswith("@")
    assert sorted(p.name for p in real.parent.iterdir()) == ["refs.bib"]


def test_an_export_to_a_pipe_writes_into_it(seeded, tmp_path: Path) -> None:
    import os
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text(encoding="utf-8")), daemon=True)
    reader.start()
    result = seeded("export", "--bibtex", "-o", str(fifo))
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert fifo.exists() and not fifo.is_file()  # still the pipe, not a file put in its place
    assert received and received[0].startswith("@")


def test_an_export_to_a_directory_is_refused(seeded, tmp_path: Path) -> None:
    result = seeded("export", "--bibtex", "-o", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in result.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_an_export_where_no_file_can_be_made_names_the_path_and_why(seeded, tmp_path: Path) -> None:
    (tmp_path / "plain.txt").write_text("")
    cases = {
        tmp_path / "missing" / "refs.bib": "the folder {} does not exist.",
        tmp_path / "plain.txt" / "refs.bib": "{} is a file, not a folder.",
    }
    for path, why in cases.items():
        result = seeded("export", "--bibtex", "-o", str(path))
        assert result.exit_code == 2
        assert f"Error: Cannot write {path}: {why.format(path.parent)}" in result.stderr
        assert "Traceback" not in result.output


def test_csl_dates_sqlite_cannot_hold_are_left_out_not_a_traceback(empty, tmp_path: Path) -> None:
    path = tmp_path / "dated.json"
    items = [
        {"id": "far", "type": "article", "title": "Far Future", "issued": {"date-parts": [[1e400]]}},
        {"id": "big", "type": "article", "title": "Big Year", "issued": {"date-parts": [[10**30, 1]]}},
    ]
    path.write_text(json.dumps(items).replace("Infinity", "1e400"))
    result = empty("import", str(path), "--format", "csl-json")
    assert result.exit_code == 0, result.output
    assert [r["year"] for r in json.loads(empty("list", "--json").stdout)] == [None, None]


def test_a_csl_author_given_as_one_name_object_is_one_author(empty, tmp_path: Path) -> None:
    path = tmp_path / "items.json"
    items = [
        {
            "id": "one",
            "type": "article",
            "title": "One Name",
            "author": {"family": "Smith", "given": "Alice"},
        },
        {"id": "num", "type": "article", "title": "A Number", "author": 5},
    ]
    path.write_text(json.dumps(items))
    result = empty("import", str(path), "--format", "csl-json")
    assert result.exit_code == 1
    assert "items.json: record 2: 'author' must be a list of names" in result.stderr
    assert [r["authors"] for r in records(empty)] == [["Alice Smith"]]


def test_an_import_lists_a_paper_it_left_unchanged_when_the_file_cites_it_by_another_key(
    empty, tmp_path: Path
) -> None:
    entry = "@article{{{key},\n  title = {{Some Paper}},\n  doi = {{10.1234/abc}}\n}}\n"
    path = tmp_path / "refs.bib"
    path.write_text(entry.format(key="first2021") + entry.format(key="second2021"))
    result = empty("import", str(path))
    assert result.exit_code == 0
    assert "the file's key 'second2021' is first2021 here" in result.stdout
    # Imported again: nothing changes, and the key to cite is still named.
    again = empty("import", str(path))
    assert "the file's key 'second2021' is first2021 here" in again.stdout
    assert again.stdout.count("unchanged") == 1  # the entry under the library's own key is not
    assert "2 unchanged" in again.stderr


def test_a_large_bibtex_import_read_by_a_second_process_reports_what_one_process_does(
    empty, tmp_path: Path, monkeypatch
) -> None:
    files = [str(FIXTURES / name) for name in ("strings.bib", "papers.bib", "broken.bib")]
    alone = runner_for(tmp_path / "alone.db")
    alone("init", "--empty")
    expected = alone("import", *files, "--json")
    monkeypatch.setattr(exchange, "BIBTEX_BACKGROUND_FROM", 0)
    result = empty("import", *files, "--json")
    assert (result.exit_code, result.stdout) == (expected.exit_code, expected.stdout)
    assert json.loads(result.stdout)["problems"]
    assert records(empty) == records(alone)


def test_a_bibtex_import_whose_reading_fails_half_way_writes_nothing(
    empty, tmp_path: Path, monkeypatch
) -> None:
    from llmref import background
    from llmref.errors import SourceError

    path = tmp_path / "many.bib"
    path.write_text("".join(f"@article{{k{n}, title = {{Paper {n}}}}}\n" for n in range(1200)))
    reading = background.read_in_background

    def failing(*args, **kwargs):
        pieces = reading(*args, **kwargs)
        yield next(pieces)
        yield next(pieces)
        pieces.close()
        raise SourceError("Reading many.bib stopped unexpectedly (exit code -9).", "Nothing was imported.")

    monkeypatch.setattr(exchange, "BIBTEX_BACKGROUND_FROM", 0)
    monkeypatch.setattr(background, "read_in_background", failing)
    result = empty("import", str(path))
    assert result.exit_code != 0
    assert "Error: Reading many.bib stopped unexpectedly" in result.stderr
    assert "Traceback" not in result.output
    assert records(empty) == []


def test_a_large_bibtex_import_from_standard_input_is_read_whole(empty, tmp_path: Path, monkeypatch) -> None:
    import subprocess
    import sys

    path = tmp_path / "many.bib"
    path.write_text("".join(f"@article{{k{n}, title = {{Paper {n}}}}}\n" for n in range(1200)))
    db = tmp_path / "empty.db"
    env = {**os.environ, "LLMREF_DB": str(db)}
    with path.open("rb") as stdin:  # the second process could not read /dev/stdin again
        done = subprocess.run(
            [sys.executable, "-m", "llmref", "import", "--format", "bibtex", "/dev/stdin"],
            stdin=stdin, capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1200 added" in done.stderr


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the second process in /proc")
def test_ctrl_c_during_a_large_bibtex_import_says_nothing_was_imported(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "many.bib"
    abstract = "words " * 300
    path.write_text(
        "".join(f"@article{{k{n}, title = {{Paper {n}}}, abstract = {{{abstract}}}}}\n" for n in range(8000))
    )
    env = {**os.environ, "LLMREF_DB": str(tmp_path / "lib.db")}
    subprocess.run(
        [sys.executable, "-m", "llmref", "init", "--empty"], env=env, check=True, capture_output=True
    )
    importing = subprocess.Popen(
        [sys.executable, "-m", "llmref", "import", str(path)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    children = Path(f"/proc/{importing.pid}/task/{importing.pid}/children")
    deadline = time.monotonic() + 60
    while not children.read_text().strip():  # the second process has started: records are coming
        assert time.monotonic() < deadline and importing.poll() is None
        time.sleep(0.01)
    importing.send_signal(signal.SIGINT)
    _, err = importing.communicate(timeout=60)
    assert importing.returncode == 130
    assert err.splitlines() == [
        "Interrupted: nothing was imported (an import is written whole or not at all)."
    ]
    listed = subprocess.run(
        [sys.executable, "-m", "llmref", "list", "--json"], env=env, capture_output=True, text=True
    )
    assert json.loads(listed.stdout) == []
