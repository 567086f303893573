from __future__ import annotations

import re
from pathlib import Path

import pytest

from llmref.formats import bibtex_import
from llmref.formats.bibtex_import import BibImport, Problem, latex_to_text, read_bibtex
from llmref.models import Record

FIXTURES = Path(__file__).parent / "fixtures" / "bib"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "bibtex"


def read_fixtures(*names: str) -> BibImport:
    return read_bibtex([(name, (FIXTURES / name).read_text(encoding="utf-8")) for name in names])


def read_text(text: str, name: str = "refs.bib") -> BibImport:
    return read_bibtex([(name, text)])


def record(result: BibImport, key: str) -> Record:
    matches = [r for r in result.records if r.key == key]
    assert len(matches) == 1, [r.key for r in result.records]
    return matches[0]


@pytest.fixture(scope="module")
def papers() -> BibImport:
    # strings.bib defines the macros that papers.bib uses: one call, in this order.
    return read_fixtures("strings.bib", "papers.bib")


@pytest.fixture(scope="module")
def broken() -> BibImport:
    return read_fixtures("broken.bib")


# --------------------------------------------------------------------------------------------
# Files as a whole


def test_papers_import_every_entry_without_problems(papers: BibImport) -> None:
    assert [r.key for r in papers.records] == [
        "hu2022lora",
        "mueller2020accents",
        "openai2023gpt4",
        "devlin-etal-2019-bert",
        "vaswani2017attention",
        "child-paper",
        "proc-2021",
        "peft",
        "blogpost",
        "scholar-style",
    ]
    assert papers.problems == []


def test_preamble_comment_blocks_and_commented_out_entries_are_not_records(papers: BibImport) -> None:
    titles = {r.title for r in papers.records}
    assert "Not an entry" not in titles and "Not an entry either" not in titles


def test_macros_from_an_earlier_source_are_used_in_a_later_one(papers: BibImport) -> None:
    assert record(papers, "vaswani2017attention").venue == "Advances in Neural Information Processing Systems"
    assert record(papers, "hu2022lora").year == 2022  # year = conf-year


def test_macros_and_concatenation_expand_in_bibtex_fields(papers: BibImport) -> None:
    fields = dict(record(papers, "devlin-etal-2019-bert").bibtex_fields)
    # @string{long = acl # " (" # "Volume 1: Long Papers" # ")"}, acl from another @string.
    assert fields["booktitle"] == (
        "Proceedings of the Annual Meeting of the Association for Computational Linguistics"
        " (Volume 1: Long Papers)"
    )


def test_macros_defined_in_a_later_source_are_not_known_earlier() -> None:
    result = read_bibtex(
        [
            ("a.bib", "@article{a,\n  title = {A},\n  journal = jfoo,\n}\n"),
            (
                "b.bib",
                '@string{jfoo = "Journal of Foo"}\n@article{b,\n  title = {B},\n  journal = jfoo,\n}\n',
            ),
        ]
    )
    assert [r.venue for r in result.records] == ["jfoo", "Journal of Foo"]
    assert result.problems == [
        Problem(
            "a.bib", 1, "a", "undefined @string 'jfoo' in field 'journal'; kept as its name", imported=True
        )
    ]


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("apr", "apr"),  # a lone month macro stays bare, for export
        ("APR", "APR"),
        ('"10~" # jan', "10~January"),  # joined, it reads as BibTeX prints it
        ("{April}", "April"),
        ("4", "4"),
    ],
)
def test_month_values(value: str, stored: str) -> None:
    result = read_text(f"@article{{k,\n  title = {{T}},\n  month = {value},\n}}\n")
    assert dict(result.records[0].bibtex_fields)["month"] == stored
    assert result.problems == []


def test_bibtex_fields_keep_every_field_as_written_in_order(papers: BibImport) -> None:
    lora = record(papers, "hu2022lora")
    assert lora.entry_type == "inproceedings"  # @InProceedings
    assert lora.bibtex_fields == (
        ("title", "{LoRA}: Low-Rank Adaptation of Large Language Models"),
        ("author", "Hu, Edward J. and Shen, Yelong and Wallis, Phillip and others"),
        ("booktitle", "International Conference on Learning Representations"),
        ("year", "2022"),
        ("month", "apr"),
        ("eprint", "2106.09685v2"),
        ("archiveprefix", "arXiv"),
        ("primaryclass", "cs.CL"),
        ("keywords", "peft; low-rank, adapters"),
    )
    assert lora.section == () and lora.notes == ""


def test_latex_stays_in_bibtex_fields_and_is_decoded_for_display(papers: BibImport) -> None:
    paper = record(papers, "mueller2020accents")
    fields = dict(paper.bibtex_fields)
    assert fields["title"].startswith('{\\"U}ber die {K}unst')
    assert paper.title == "Über die Kunst: Café, naïve, índice, Øresund, ça, Škoda, ß – 1–10"
    assert paper.authors == (
        "Jörg Müller",
        "Gabriel García Márquez",
        "Søren Østergaard",
        "Hans van der Berg Jr",
    )
    assert paper.abstract == "We show that BERT and GPT reach 90% — with L_1 loss. A second line."


def test_a_comment_line_inside_an_entry_is_ignored(papers: BibImport) -> None:
    fields = dict(record(papers, "openai2023gpt4").bibtex_fields)
    assert list(fields) == ["title", "author", "year", "url", "note"]
    assert fields["note"] == "Version 3"


def test_a_byte_order_mark_is_ignored() -> None:
    result = read_text("\ufeff@ARTICLE{bom,\n  TITLE = {With a BOM},\n}\n")
    assert [(r.key, r.title) for r in result.records] == [("bom", "With a BOM")]


def test_a_trailing_comment_after_a_field_does_not_end_up_in_the_next_field_name() -> None:
    result = read_text("@article{k,\n  title = {T}, % the title\n  year = {2020},\n}\n")
    assert result.records[0].bibtex_fields == (("title", "T"), ("year", "2020"))


# --------------------------------------------------------------------------------------------
# Record fields


def test_names_in_every_bibtex_form(papers: BibImport) -> None:
    assert record(papers, "hu2022lora").authors == ("Edward J. Hu", "Yelong Shen", "Phillip Wallis")
    assert record(papers, "vaswani2017attention").authors == ("Ashish Vaswani", "Noam Shazeer")
    assert record(papers, "devlin-etal-2019-bert").authors == ("Jacob Devlin", "Ming-Wei Chang")


def test_and_others_sets_authors_truncated(papers: BibImport) -> None:
    assert record(papers, "hu2022lora").authors_truncated
    assert not record(papers, "vaswani2017attention").authors_truncated


def test_a_corporate_author_in_braces_is_one_name() -> None:
    result = read_text("@misc{k,\n  title = {T},\n  author = {{Barnes and Noble} and {OpenAI}},\n}\n")
    assert result.records[0].authors == ("Barnes and Noble", "OpenAI")


@pytest.mark.parametrize(
    ("key", "arxiv_id", "version"),
    [
        ("hu2022lora", "2106.09685", 2),  # eprint + archivePrefix
        ("mueller2020accents", "2301.00001", None),  # journal = {arXiv preprint arXiv:…}
        ("openai2023gpt4", "2303.08774", None),  # arxiv.org url
        ("scholar-style", "2305.10601", None),  # howpublished = {arXiv:…}
        ("vaswani2017attention", None, None),
    ],
)
def test_arxiv_ids(papers: BibImport, key: str, arxiv_id: str | None, version: int | None) -> None:
    paper = record(papers, key)
    assert (paper.arxiv_id, paper.arxiv_version) == (arxiv_id, version)


@pytest.mark.parametrize(
    ("fields", "arxiv_id"),
    [
        ("eprint = {2106.09685}", "2106.09685"),  # no archivePrefix, but an arXiv-looking id
        ("eprint = {2106.09685}, eprinttype = {arXiv}", "2106.09685"),  # biblatex / DBLP
        ("eprint = {hep-th/9901001}, archiveprefix = {arXiv}", "hep-th/9901001"),
        ("eprint = {12345}, archiveprefix = {SSRN}", None),
        ("journal = {CoRR}, volume = {abs/2106.09685}", "2106.09685"),  # DBLP
        ("doi = {10.48550/arXiv.2106.09685}", "2106.09685"),
        ("url = {https://arxiv.org/pdf/2106.09685v2.pdf}", "2106.09685"),
    ],
)
def test_arxiv_id_forms(fields: str, arxiv_id: str | None) -> None:
    result = read_text(f"@article{{k,\n  title = {{T}},\n  {fields},\n}}\n")
    assert result.records[0].arxiv_id == arxiv_id


def test_acl_id_and_doi_from_an_acl_entry(papers: BibImport) -> None:
    bert = record(papers, "devlin-etal-2019-bert")
    assert (bert.acl_id, bert.doi) == ("N19-1423", "10.18653/v1/n19-1423")
    assert bert.urls == (("url", "https://aclanthology.org/N19-1423"),)


def test_doi_from_a_doi_url(papers: BibImport) -> None:
    assert record(papers, "vaswani2017attention").doi == "10.5555/3295222.3295349"


def test_an_escaped_url_is_unescaped() -> None:
    result = read_text("@misc{k,\n  title = {T},\n  url = {\\url{https://example.org/a\\_b\\%20c}},\n}\n")
    assert result.records[0].urls == (("url", "https://example.org/a_b%20c"),)


def test_venue_year_and_tags(papers: BibImport) -> None:
    lora = record(papers, "hu2022lora")
    assert (lora.venue, lora.year, lora.tags) == (
        "International Conference on Learning Representations",
        2022,
        ("peft", "low-rank", "adapters"),
    )
    assert record(papers, "mueller2020accents").venue == "arXiv preprint"


def test_a_year_behind_noopsort_is_read(papers: BibImport) -> None:
    paper = record(papers, "scholar-style")
    assert paper.year == 2023
    assert dict(paper.bibtex_fields)["year"] == "\\noopsort{a}2023"


@pytest.mark.parametrize("year", ["{2020--2021}", "{in press}", "{20}"])
def test_a_year_that_is_not_four_digits_stays_in_bibtex_fields_only(year: str) -> None:
    result = read_text(f"@article{{k,\n  title = {{T}},\n  year = {year},\n}}\n")
    paper = result.records[0]
    assert paper.year is None
    assert dict(paper.bibtex_fields)["year"] == year[1:-1]
    # Said, not dropped in silence: the record has no year to filter, sort or cite by.
    [problem] = result.problems
    assert problem.imported and problem.line == 1
    assert problem.message == f"year '{year[1:-1]}' is not a four-digit year: the record has none"


@pytest.mark.parametrize(("written", "year"), [("2023a", 2023), ("{2023b}", 2023), ("2023ab", None)])
def test_a_year_with_a_letter_telling_two_works_apart_is_read(written: str, year: int | None) -> None:
    result = read_text(f"@article{{k,\n  title = {{T}},\n  year = {{{written}}},\n}}\n")
    assert result.records[0].year == year
    assert bool(result.problems) == (year is None)


def test_a_year_read_from_a_biblatex_date_is_no_problem() -> None:
    result = read_text("@article{k,\n  title = {T},\n  date = {2021-06-17},\n}\n")
    assert (result.records[0].year, result.problems) == (2021, [])


def test_crossref_inherits_what_the_entry_lacks(papers: BibImport) -> None:
    child = record(papers, "child-paper")
    # The parent comes later and is spelled Proc-2021 in the crossref: BibTeX ignores case.
    assert (child.venue, child.year) == ("Proceedings of the Workshop on Tests", 2021)
    assert child.doi is None  # the proceedings' DOI names the volume, not the paper
    assert child.bibtex_fields == (
        ("title", "A Paper in Crossref'd Proceedings"),
        ("author", "Alice Smith"),
        ("crossref", "Proc-2021"),
    )


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("hu2022lora", "paper"),
        ("proc-2021", "paper"),
        ("openai2023gpt4", "paper"),  # @misc with an arXiv id
        ("scholar-style", "paper"),
        ("peft", "project"),  # @misc on a code host
        ("blogpost", "article"),  # @misc with another link
    ],
)
def test_kinds(papers: BibImport, key: str, kind: str) -> None:
    assert record(papers, key).kind == kind


@pytest.mark.parametrize(
    ("entry", "kind"),
    [
        ("@misc{k, title = {A Talk}, author = {A B}}", "paper"),  # nothing to follow
        ("@software{k, title = {Tool}, url = {https://example.org}}", "project"),
        ("@dataset{k, title = {Data}}", "dataset"),
        ("@online{k, title = {Post}, url = {https://example.org/post}}", "article"),
        ("@phdthesis{k, title = {Thesis}}", "paper"),
    ],
)
def test_kinds_by_entry_type(entry: str, kind: str) -> None:
    assert read_text(entry + "\n").records[0].kind == kind


# --------------------------------------------------------------------------------------------
# Problems


def test_broken_file_imports_what_it_can(broken: BibImport) -> None:
    assert [r.key for r in broken.records] == [
        "first-ok",
        "after-unbalanced",
        None,
        "repeated-field",
        "last-ok",
    ]
    assert broken.records[2].title == "URL Key with a Hash"


def test_broken_file_reports_every_other_entry_with_its_line(broken: BibImport) -> None:
    found = [(p.line, p.key, p.imported, p.message) for p in broken.problems]
    assert found == [
        (
            6,
            "unbalanced",
            False,
            "could not parse: Unexpected block start: `@article`."
            " Was still looking for field-value closing `}`",
        ),
        (14, "missing-comma", False, "could not parse: field 'title': a comma is missing before 'year'"),
        (19, "First-OK", False, "duplicate key 'First-OK' (first at line 1)"),
        (23, "first-ok", False, "duplicate key 'first-ok' (first at line 1)"),
        (
            27,
            "https://example.org/paper#v2",
            True,
            "key 'https://example.org/paper#v2' cannot be used as a citation key; imported under a new key",
        ),
        (31, "no-title", False, "no title"),
        (36, None, False, "'@inproceedings' with no '{' after it is not an entry; ignored"),
        (38, "repeated-field", True, "field 'title' given twice; the first value was kept"),
        (
            38,
            "repeated-field",
            True,
            "undefined @string 'undefinedmacro' in field 'journal'; kept as its name",
        ),
        (38, "repeated-field", True, "crossref 'nowhere' not found; nothing inherited"),
    ]
    assert {p.source for p in broken.problems} == {"broken.bib"}


def test_a_repeated_field_keeps_its_first_value(broken: BibImport) -> None:
    assert record(broken, "repeated-field").title == "Repeated Field"


def test_a_duplicate_key_in_another_source_names_that_source() -> None:
    result = read_bibtex([("a.bib", "\n@article{k, title = {A}}\n"), ("b.bib", "@article{K, title = {B}}\n")])
    assert [r.title for r in result.records] == ["A"]
    assert result.problems == [Problem("b.bib", 1, "K", "duplicate key 'K' (first at a.bib:2)")]


def test_line_numbers_survive_a_backslash_at_the_end_of_a_line() -> None:
    # bibtexparser's splitter does not count that newline (its PR #598).
    text = '@article{a,\n  title = "A \\TeX\\\n  title",\n}\n\n@article{b,\n  year = 2020,\n}\n'
    result = read_text(text)
    assert result.records[0].title == "A TeX title"
    assert [(p.line, p.message) for p in result.problems] == [(6, "no title")]


def test_problems_come_in_source_order_then_line_order() -> None:
    result = read_bibtex(
        [
            ("a.bib", "@article{x,\n  year = 1,\n}\n@article{ok, title = {T}}\n@article{ok, title = {U}}\n"),
            ("b.bib", "@article{ok, title = {V}}\n@article{y, year = 2}\n"),
        ]
    )
    assert [(p.source, p.line) for p in result.problems] == [
        ("a.bib", 1),
        ("a.bib", 5),
        ("b.bib", 1),
        ("b.bib", 2),
    ]


def test_bibtexparser_does_not_print_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    read_text("@article{a,\n  title = {x,\n\n@article{b, title = {B}}\n")
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------------------------
# LaTeX


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        ('{\\"u}ber', "über"),
        ('\\"{u}ber', "über"),
        ('\\"uber', "über"),
        ("\\'{e}", "é"),
        ("{\\'e}", "é"),
        ("{\\'\\i}", "í"),
        ('\\"{\\i}', "ï"),
        ("{\\O}resund", "Øresund"),
        ("{\\o}", "ø"),
        ("\\c{c}", "ç"),
        ("\\v{S}koda", "Škoda"),
        ("{\\ss}", "ß"),
        ("{\\aa}", "å"),
        ("\\={a}", "ā"),
        ("{L\\'eon}", "Léon"),
        ("{Braced} {Words}", "Braced Words"),
        ("{{LoRA}}: Low-Rank", "LoRA: Low-Rank"),
        ("pages 1--10", "pages 1–10"),
        ("a---b", "a—b"),
        ("``quoted''", "“quoted”"),
        ("a~b", "a b"),
        ("50\\%", "50%"),
        ("R\\&D", "R&D"),
        ("{$L_1$} loss", "L_1 loss"),
        ("\\emph{very} \\textbf{bold}", "very bold"),
        ("\\mbox{G-Animal's} Journal", "G-Animal's Journal"),
        ("\\texttt{x}", "x"),
        ("{\\noopsort{1973b}}1973", "1973"),
        ("{\\TeX} and \\LaTeX", "TeX and LaTeX"),
        ("  many \n\t spaces  ", "many spaces"),
        ("", ""),
    ],
)
def test_latex_to_text(latex: str, text: str) -> None:
    assert latex_to_text(latex) == text


def test_latex_to_text_survives_unbalanced_input() -> None:
    assert latex_to_text("unbalanced { x") == "unbalanced x"
    assert latex_to_text("ends with \\") == "ends with"


# --------------------------------------------------------------------------------------------
# Real files

_ENTRY_START = re.compile(r"^[ \t]*@[ \t]*(\w+)", re.MULTILINE)
_NOT_ENTRIES = {"string", "preamble", "comment"}


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not on this machine")
@pytest.mark.parametrize(
    "path", sorted(CORPUS.glob("*.bib")) if CORPUS.is_dir() else [], ids=lambda p: p.name
)
def test_every_corpus_entry_is_imported_or_reported(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    starts = [m[1] for m in _ENTRY_START.finditer(text) if m[1].lower() not in _NOT_ENTRIES]
    result = read_bibtex([(path.name, text)])
    left_out = [p for p in result.problems if not p.imported]
    assert len(result.records) + len(left_out) == len(starts)
    assert all(r.title for r in result.records)


@pytest.mark.parametrize("part", [1, 40, 300, 5000])
def test_a_source_read_a_part_at_a_time_gives_what_the_whole_gives(monkeypatch, part: int) -> None:
    # Cut before each block start past every `part` characters: a broken entry at a part's
    # end still fails at the next block's start, macros and crossrefs reach across parts.
    sources = [
        (name, (FIXTURES / name).read_text(encoding="utf-8")) for name in ("strings.bib", "papers.bib")
    ]
    sources.append(("broken.bib", (FIXTURES / "broken.bib").read_text(encoding="utf-8")))
    whole = read_bibtex(sources)
    monkeypatch.setattr(bibtex_import, "PART", part)
    assert read_bibtex(sources) == whole
    assert any("Unexpected block start" in p.message for p in whole.problems)


def test_an_entry_waits_for_the_crossref_parent_that_follows_it_and_keeps_its_place() -> None:
    text = (
        "@inproceedings{child, title = {Child}, crossref = {proc}}\n"
        "@article{between, title = {Between}}\n"
        "@proceedings{proc, title = {The Proceedings}, year = 2021}\n"
        "@article{orphan, title = {Orphan}, crossref = {nowhere}}\n"
    )
    result = read_text(text)
    assert [r.key for r in result.records] == ["child", "between", "proc", "orphan"]
    assert (record(result, "child").venue, record(result, "child").year) == ("The Proceedings", 2021)
    assert [p.message for p in result.problems] == ["crossref 'nowhere' not found; nothing inherited"]


def test_the_reading_process_sends_the_entries_and_ends_in_one_error_if_it_fails(capfd) -> None:
    from llmref.background import read_in_background
    from llmref.errors import SourceError

    sources = [("refs.bib", "@article{a, title = {A}}\n@article{b, title = {B}, year = {soon}}\n")]
    pieces = list(read_in_background("bibtex", {"sources": sources}, name="refs.bib", hint="again"))
    sent = [item for piece in pieces for item in piece]
    # It makes half the records; the writer makes the others.
    assert [type(item).__name__ for item in sent] == ["Record", "Unbuilt"]
    items = list(bibtex_import.finish(sent))
    assert [r.key for r in items if isinstance(r, Record)] == ["a", "b"]
    assert [p.line for p in items if isinstance(p, Problem)] == [2]
    capfd.readouterr()
    # Its traceback is not shown: its last line is told, in the error.
    expected = r"^Reading refs\.bib stopped unexpectedly \(exit code 1\): KeyError: 'sources'\.$"
    with pytest.raises(SourceError, match=expected):
        list(read_in_background("bibtex", {}, name="refs.bib", hint="again"))
    assert capfd.readouterr().err == ""


def test_a_block_failing_at_the_start_of_the_next_part_is_reported_on_its_own_line(monkeypatch) -> None:
    # It fails at `@misc{bar`, the first line of the next part, and its text runs into that line;
    # the backslash-newlines before it are what bibtexparser's own line count gets wrong.
    text = "@misc{x, title={A \\\nB \\\nC}}\n@article{foo\n@misc{bar, title={B}}\n"
    whole = read_text(text)
    monkeypatch.setattr(bibtex_import, "PART", text.index("@misc{bar"))
    assert read_text(text) == whole
    assert [p.line for p in whole.problems] == [4]
