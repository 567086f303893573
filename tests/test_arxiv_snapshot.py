"""Reading arXiv's metadata snapshot (JSON Lines) into records, and the synthetic snapshot generator."""

from __future__ import annotations

import gzip
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from llmref.formats.arxiv_snapshot import SnapshotProblem, open_snapshot, read_snapshot
from llmref.formats.latex import collapse_spaces, decode_tex
from llmref.models import Record

ROOT = Path(__file__).resolve().parents[1]
REAL_SAMPLE = ROOT.parent / "shared" / "corpus" / "arxiv-snapshot" / "first200.jsonl"


def line(**changes: Any) -> str:
    """One snapshot line shaped like the real dump's, with ``changes`` applied (None deletes)."""
    data: dict[str, Any] = {
        "id": "2402.01234",
        "submitter": "Ana Bal\\'azs",
        "authors": "Ana Bal\\'azs, Jonas M\\\"uller and Karen {\\O}bro",
        "title": "Rank-Adaptive Adapters for\n  Multilingual Transformers",
        "comments": "12 pages,\n  4 figures",
        "journal-ref": None,
        "doi": None,
        "report-no": None,
        "categories": "cs.CL cs.LG",
        "license": "http://creativecommons.org/licenses/by/4.0/",
        "abstract": "  We adapt the rank of each adapter during training. On 12 languages\nthe method "
        "matches full fine-tuning with $O(n \\log n)$ extra cost.\n",
        "versions": [
            {"version": "v1", "created": "Fri, 2 Feb 2024 18:59:59 GMT"},
            {"version": "v2", "created": "Mon, 11 Mar 2024 09:03:12 GMT"},
            {"version": "v3", "created": "Tue, 1 Oct 2024 00:00:01 GMT"},
        ],
        "update_date": "2024-10-02",
        "authors_parsed": [["Bal\\'azs", "Ana", ""], ['M\\"uller', "Jonas", ""], ["{\\O}bro", "Karen", ""]],
    }
    for name, value in changes.items():
        name = name.replace("_", "-") if name in ("journal_ref", "report_no") else name
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return json.dumps(data)


def read_one(text: str, **filters: Any) -> Record | SnapshotProblem:
    items = list(read_snapshot([text], **filters))
    assert len(items) == 1, items
    return items[0]


def record(text: str) -> Record:
    item = read_one(text)
    assert isinstance(item, Record), item
    return item


# --------------------------------------------------------------------------------------------
# Mapping


def test_every_field_is_mapped() -> None:
    got = record(line(doi="10.18653/V1/2024.ACL-LONG.1 10.1000/erratum.2", journal_ref="ACL 2024, 1-12"))
    assert got == Record(
        key=None,
        kind="paper",
        title="Rank-Adaptive Adapters for Multilingual Transformers",
        authors=("Ana Balázs", "Jonas Müller", "Karen Øbro"),
        authors_truncated=False,
        year=2024,
        venue=None,
        arxiv_id="2402.01234",
        arxiv_version=3,
        doi="10.18653/v1/2024.acl-long.1",
        urls=(("abs", "https://arxiv.org/abs/2402.01234"), ("pdf", "https://arxiv.org/pdf/2402.01234")),
        abstract="We adapt the rank of each adapter during training. On 12 languages the method matches "
        "full fine-tuning with O(n log n) extra cost.",
        published="2024-02-02",
        updated="2024-10-01",
        primary_category="cs.CL",
        categories=("cs.CL", "cs.LG"),
        comment="12 pages, 4 figures",
        journal_ref="ACL 2024, 1-12",
    )


def test_venue_is_arxiv_without_a_journal_reference() -> None:
    got = record(line())
    assert got.venue == "arXiv"
    assert got.journal_ref is None and got.doi is None


def test_old_style_ids_are_kept_and_versions_in_ids_dropped() -> None:
    got = record(line(id="hep-th/9901001"))
    assert got.arxiv_id == "hep-th/9901001"
    assert got.url("pdf") == "https://arxiv.org/pdf/hep-th/9901001"
    assert record(line(id="2402.01234v2")).arxiv_id == "2402.01234"


def test_versions_give_version_published_updated_and_year() -> None:
    got = record(line(versions=[{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}]))
    assert (got.arxiv_version, got.published, got.updated, got.year) == (1, "2007-04-02", "2007-04-02", 2007)


def test_without_versions_the_year_comes_from_the_id() -> None:
    got = record(line(id="0704.0001", versions=[]))
    assert (got.arxiv_version, got.published, got.updated, got.year) == (None, None, None, 2007)


def test_a_malformed_date_is_left_out_not_guessed() -> None:
    got = record(line(versions=[{"version": "v1", "created": "yesterday"}]))
    assert got.published is None and got.arxiv_version == 1


@pytest.mark.parametrize(
    ("version", "created"),
    [
        ("v99999999999999999999999", "Mon, 2 Apr 2007 19:18:42 GMT"),
        ("v1", "Mon, \u00b2 Apr 2007 19:18:42 GMT"),
    ],
)
def test_a_version_or_day_that_is_no_number_of_its_size_is_left_out(version: str, created: str) -> None:
    got = record(line(versions=[{"version": version, "created": json.loads(f'"{created}"')}]))
    assert (got.arxiv_version, got.published) == ((None, "2007-04-02") if version != "v1" else (1, None))


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Plain title", "Plain title"),
        ("Wrapped at\n  seventy columns", "Wrapped at seventy columns"),
        ("  Tabs\tand\r\nreturns  ", "Tabs and returns"),
        ('Gr\\"obner bases', "Gröbner bases"),
        ("{\\O}bro and J{\\'e}gou", "Øbro and Jégou"),
        ("Bal\\'azs, Fran\\c{c}ois, {\\L}ukasz, Petojevi\\' c", "Balázs, François, Łukasz, Petojević"),
        ("Sorting in $O(n)$ time", "Sorting in O(n) time"),
        ("Sorting in $O(n \\log n)$ time", "Sorting in O(n log n) time"),
        ("$\\alpha$-divergences", "α-divergences"),
        ("Embeddings in $\\mathbb{R}^{d}$", "Embeddings in ℝ^d"),
        ("$p$-adic limits", "p-adic limits"),
        ("Regret $\\tilde{O}(\\sqrt{T})$", "Regret Õ(√(T))"),
        ("As $n\\to \\infty$", "As n→∞"),
        ("Display \\[ x^{2} \\] math", "Display x^2 math"),
        ("\\emph{Very} \\textbf{bold} {LoRA}", "Very bold LoRA"),
        # In metadata, % and & are characters, not a TeX comment and an alignment.
        ("Accuracy up 95% on Q&A, 5\\% more", "Accuracy up 95% on Q&A, 5% more"),
        # arXiv shows these as written; ~ in an abstract mostly means "about".
        ("D0 --> K- decays, ~50 events, ``quoted''", "D0 --> K- decays, ~50 events, ``quoted''"),
        # Broken TeX still gives text.
        ("Unbalanced {brace", "Unbalanced brace"),
        ("A lone $ sign", "A lone sign"),
    ],
)
def test_tex_is_decoded_for_display(title: str, expected: str) -> None:
    assert decode_tex(title) == expected
    assert record(line(title=title)).title == expected


def test_collapse_spaces_is_str_split_join() -> None:
    for text in ["a\nb", "  a  b ", "a\tb\x0bc\x1fd", "ä\u00a0b\n c", "", "\n"]:
        assert collapse_spaces(text) == " ".join(text.split())


# --------------------------------------------------------------------------------------------
# Authors


def test_authors_parsed_give_first_last_and_suffix() -> None:
    parsed = [["Evans", "Neal J.", "II"], ["Smith", "John", "Jr."], ["Yuan", "C. -P.", ""]]
    got = record(line(authors_parsed=parsed))
    assert got.authors == ("Neal J. Evans II", "John Smith Jr.", "C.-P. Yuan")


def test_an_affiliation_in_authors_parsed_is_not_part_of_the_name() -> None:
    parsed = [["van der Tak", "Floris", "", "SRON Groningen"], ["Collaboration", "", ""]]
    assert record(line(authors_parsed=parsed)).authors == ("Floris van der Tak", "Collaboration")


def test_authors_string_is_used_without_authors_parsed() -> None:
    authors = "A. Mishchenko (1 and 2) and N. Nagaosa ((1) CREST, Japan, (2) Tokyo),\n  J{\\'e}r\\^ome Doe"
    for parsed in (None, [], [[1, 2, 3]]):
        got = record(line(authors=authors, authors_parsed=parsed))
        assert got.authors == ("A. Mishchenko", "N. Nagaosa", "Jérôme Doe")


def test_et_al_marks_the_list_truncated() -> None:
    got = record(line(authors="The BABAR Collaboration, B. Aubert, et al", authors_parsed=None))
    assert got.authors == ("The BABAR Collaboration", "B. Aubert")
    assert got.authors_truncated


# --------------------------------------------------------------------------------------------
# Filters


def categories_of(items: list[Record | SnapshotProblem]) -> list[str]:
    return [item.primary_category or "" for item in items if isinstance(item, Record)]


CATEGORY_LINES = [
    line(id="2402.00001", categories="cs.CL cs.AI"),
    line(id="2402.00002", categories="cs.CV"),
    line(id="2402.00003", categories="stat.ML cs.LG"),
    line(id="2402.00004", categories="physics.comp-ph"),  # has "cs." inside "physics."
    line(id="2402.00005", categories="math.CO"),
    line(id="2402.00006", categories="math-ph"),
]


def test_category_filter_matches_exact_names_anywhere_in_the_list() -> None:
    got = categories_of(list(read_snapshot(CATEGORY_LINES, categories=("cs.CL", "cs.LG"))))
    assert got == ["cs.CL", "stat.ML"]


def test_category_filter_with_a_dot_is_a_prefix() -> None:
    assert categories_of(list(read_snapshot(CATEGORY_LINES, categories=("cs.",)))) == [
        "cs.CL",
        "cs.CV",
        "stat.ML",
    ]
    assert categories_of(list(read_snapshot(CATEGORY_LINES, categories=("math.",)))) == ["math.CO"]


def test_since_keeps_records_whose_first_version_is_that_year_or_later() -> None:
    def versions(*years: int) -> list[dict[str, str]]:
        return [
            {"version": f"v{i}", "created": f"Mon, 1 Jan {y} 10:00:00 GMT"} for i, y in enumerate(years, 1)
        ]

    lines = [
        line(id="1901.00001", versions=versions(2019, 2021)),  # revised later: still a 2019 paper
        line(id="2001.00001", versions=versions(2020)),
        line(id="2101.00001", versions=versions(2021, 2022)),
        line(id="0704.0001", versions=[]),  # no versions: the id's year
    ]
    got = [item.arxiv_id for item in read_snapshot(lines, since=2020) if isinstance(item, Record)]
    assert got == ["2001.00001", "2101.00001"]


# --------------------------------------------------------------------------------------------
# Problems and streaming


def test_bad_lines_are_reported_with_their_numbers_and_reading_goes_on() -> None:
    lines: list[str | bytes] = [
        line(id="2402.00001"),
        '{"id": "2402.00002", "title": "cut off',
        line(id="2402.00003", title=None),
        line(id=None),
        b'{"id": "2402.00005", "title": "Caf\xe9"}',
        "[1, 2]",
        "",
        line(id="not-an-id"),
        line(id="2402.00009", title="  \n "),
        line(id="2402.00010").encode(),
    ]
    got = list(read_snapshot(lines))
    problems = [(p.line, p.message.split(":")[0]) for p in got if isinstance(p, SnapshotProblem)]
    assert problems == [
        (2, "not JSON"),
        (3, "2402.00003"),
        (4, "no id"),
        (5, "not UTF-8 text"),
        (6, "not a JSON object"),
        (8, "'not-an-id' is not an arXiv id"),
        (9, "2402.00009"),
    ]
    assert "no title" in got[2].message  # type: ignore[union-attr]
    assert [r.arxiv_id for r in got if isinstance(r, Record)] == ["2402.00001", "2402.00010"]


def test_reading_is_lazy() -> None:
    endless = (line(id=f"2402.{n:05d}") for n in itertools.count(1))
    first = list(itertools.islice(read_snapshot(endless), 3))
    assert [r.arxiv_id for r in first] == ["2402.00001", "2402.00002", "2402.00003"]  # type: ignore[union-attr]


def test_open_snapshot_reads_plain_and_gzipped_files(tmp_path: Path) -> None:
    text = "\n".join([line(id="2402.00001"), line(id="2402.00002")]) + "\n"
    plain = tmp_path / "snapshot.jsonl"
    plain.write_text(text, encoding="utf-8")
    packed = tmp_path / "snapshot.jsonl.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    for path in (plain, packed):
        got = list(read_snapshot(open_snapshot(path)))
        assert [r.arxiv_id for r in got] == ["2402.00001", "2402.00002"]  # type: ignore[union-attr]


def test_a_line_that_is_not_utf8_in_a_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.jsonl"
    path.write_bytes(
        line(id="2402.00001").encode() + b'\n{"title": "\xff"}\n' + line(id="2402.00003").encode()
    )
    got = list(read_snapshot(open_snapshot(path)))
    assert got[1] == SnapshotProblem(2, "not UTF-8 text")
    assert [r.arxiv_id for r in got if isinstance(r, Record)] == ["2402.00001", "2402.00003"]


# --------------------------------------------------------------------------------------------
# The generator and the real sample


def generate(tmp_path: Path, name: str, *args: str) -> bytes:
    out = tmp_path / name
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_snapshot.py"), *args, "-o", str(out)],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_gen_snapshot_is_deterministic(tmp_path: Path, suffix: str) -> None:
    first = generate(tmp_path, "first" + suffix, "300", "--seed", "7")
    second = generate(tmp_path, "second" + suffix, "300", "--seed", "7")
    other = generate(tmp_path, "other" + suffix, "300", "--seed", "8")
    assert first == second
    assert first != other


def test_gen_snapshot_output_reads_without_problems(tmp_path: Path) -> None:
    generate(tmp_path, "s.jsonl.gz", "500", "--seed", "3")
    got = list(read_snapshot(open_snapshot(tmp_path / "s.jsonl.gz")))
    assert len(got) == 500
    assert not [p for p in got if isinstance(p, SnapshotProblem)]
    records = [r for r in got if isinstance(r, Record)]
    assert len({r.arxiv_id for r in records}) == 500
    assert all(r.published and r.updated and r.published <= r.updated for r in records)
    text = " ".join(r.title + " " + (r.abstract or "") + " " + " ".join(r.authors) for r in records)
    assert "\\" not in text and "$" not in text


@pytest.mark.skipif(not REAL_SAMPLE.exists(), reason="the corpus folder is not next to this clone")
def test_the_real_sample_reads_without_problems() -> None:
    got = list(read_snapshot(open_snapshot(REAL_SAMPLE)))
    assert len(got) == 200
    assert not [p for p in got if isinstance(p, SnapshotProblem)]
    first = got[0]
    assert isinstance(first, Record)
    assert first.arxiv_id == "0704.0001"
    assert first.authors == ("C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan")
    assert (
        first.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert (first.published, first.updated, first.arxiv_version) == ("2007-04-02", "2007-07-24", 2)
