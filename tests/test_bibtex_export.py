"""BibTeX export: golden file, the rules one by one, and real tools reading the result.

The golden files ``tests/golden/fixture.bib`` (and ``fixture.csl.json``, see test_csl.py) are
compared exactly. After an intended change to the exporters, regenerate them with

    LLMREF_UPDATE_GOLDEN=1 python -m pytest tests/test_bibtex_export.py tests/test_csl.py

and review the diff. pybtex and pandoc checks are skipped (with the reason) only when the tool
is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmref.formats.bibtex import (
    bibtex_entries,
    classify_venue,
    entry,
    needs_protection,
    protect_title,
    split_name,
    to_bibtex,
)
from llmref.models import Record
from llmref.services import bundled_records

GOLDEN = Path(__file__).parent / "golden"

#: A small library covering each shape the exporters handle.
FIXTURE = (
    Record(
        key="hu2021lora",
        title="LoRA: Low-Rank Adaptation of Large Language Models",
        authors=("Edward J. Hu", "Yelong Shen", "Phillip Wallis", "Zeyuan Allen-Zhu"),
        year=2021,
        venue="arXiv",
        arxiv_id="2106.09685",
        urls=(("pdf", "https://arxiv.org/abs/2106.09685"),),
        tags=("LoRA", "PEFT"),
        abstract="We propose Low-Rank Adaptation, or LoRA, which freezes the weights;\n"
        "it reduces trainable parameters by 10,000 times & memory by 3 times (~66%).",
        published="2021-06-17",
        updated="2021-10-16",
        primary_category="cs.CL",
        categories=("cs.CL", "cs.AI", "cs.LG"),
        notes="never exported",
    ),
    Record(
        key="zhang2023adaptive",
        title="Adaptive Budget Allocation for Parameter-Efficient Fine-Tuning",
        authors=("Qingru Zhang", "Minshuo Chen", "Alexander Bukharin"),
        year=2023,
        venue="ICLR 2023",
        arxiv_id="2303.10512",
        published="2023-03-18",
        primary_category="cs.CL",
        tags=("AdaLoRA",),
    ),
    Record(
        key="li2021prefixtuning",
        title="Prefix-Tuning: Optimizing Continuous Prompts for Generation",
        authors=("Xiang Lisa Li", "Percy Liang"),
        year=2021,
        venue="ACL",
        acl_id="2021.acl-long.353",
        doi="10.18653/v1/2021.acl-long.353",
        urls=(("pdf", "https://aclanthology.org/2021.acl-long.353/"),),
    ),
    Record(
        key="raffel2020exploring",
        title="Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer",
        authors=("Colin Raffel", "Noam Shazeer", "Adam Roberts"),
        authors_truncated=True,
        year=2020,
        arxiv_id="1910.10683",
        published="2019-10-23",
        primary_category="cs.LG",
        journal_ref="Journal of Machine Learning Research 21(140):1-67, 2020",
    ),
    Record(key="towards", title="Towards a Unified View of Parameter-Efficient Transfer Learning"),
    Record(
        key="chatglm",
        kind="model",
        title="ChatGLM: An Open Bilingual Dialogue Language Model",
        urls=(("project", "https://github.com/THUDM/ChatGLM-6B"),),
    ),
    Record(
        key="chiang2023vicuna",
        kind="blog",
        title="Vicuna: An Open-Source Chatbot Impressing GPT-4 with 90%* ChatGPT Quality",
        authors=("Wei-Lin Chiang", "Zhuohan Li"),
        authors_truncated=True,
        year=2023,
        urls=(
            ("project", "https://github.com/lm-sys/FastChat"),
            ("blog", "https://lmsys.org/blog/2023-03-30-vicuna/"),
        ),
    ),
    Record(
        key="special2022",
        title=r"Fixing 100% & $5 of C#_x in {braces}: a~b, x^2, a\b [v2] with BERT, T5 & P-Tuning",
        authors=("Andreas Rücklé", "Oskar van der Wal", "Gemini Team", "Dao"),
        year=2022,
        venue="Findings of EMNLP 2022",
    ),
    Record(
        key="muller2020uber",
        title="Über LoRA",
        authors=("Jörg Müller", "Anna Schmidt"),
        year=2020,
        venue="Proceedings of the Workshop on Tiny Models",
        doi="10.1000/tiny.2020.12",
        entry_type="inproceedings",
        bibtex_fields=(
            ("title", r"{\"U}ber {LoRA}"),
            ("author", r"M{\"u}ller, J{\"o}rg and Schmidt, Anna"),
            ("booktitle", "Proceedings of the Workshop on Tiny Models"),
            ("year", "2020"),
            ("month", "sep"),
            ("Pages", "12--34"),
            ("volume", "3"),
            ("publisher", "Association for Computational Linguistics"),
            ("doi", "10.1000/tiny.2019.99"),
            ("note", r"Best paper \& more"),
        ),
    ),
)


def check_golden(name: str, text: str) -> None:
    """Compare ``text`` with a golden file; rewrite the file instead when LLMREF_UPDATE_GOLDEN=1."""
    path = GOLDEN / name
    if os.environ.get("LLMREF_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with LLMREF_UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8")


def by_key(text: str) -> dict[str, str]:
    """Each exported entry's text, by key."""
    return {m[1]: m[0] for m in re.finditer(r"@\w+\{([^,]+),\n.*?\n\}", text, re.S)}


def fields_of(entry_text: str) -> dict[str, str]:
    return dict(re.findall(r"^  (\w+) = (.*?),?$", entry_text, re.M))


def test_fixture_export_matches_golden_file() -> None:
    check_golden("fixture.bib", to_bibtex(FIXTURE))


def test_export_is_sorted_by_key_with_one_blank_line_between_entries() -> None:
    text = to_bibtex(reversed(FIXTURE))
    keys = re.findall(r"^@\w+\{([^,]+),", text, re.M)
    assert keys == sorted(r.key for r in FIXTURE)
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text.count("\n\n@") == len(FIXTURE) - 1
    assert text == to_bibtex(FIXTURE)


def test_keys_sort_as_biber_sorts_them_case_ignored_and_the_stream_agrees() -> None:
    records = [
        FIXTURE[0].with_(key=k) for k in ("NEURIPS2020_1457c0d6", "hu2021lora", "Zhang2023", "alpha", "Alpha")
    ]
    keys = re.findall(r"^@\w+\{([^,]+),", to_bibtex(records), re.M)
    assert keys == ["Alpha", "alpha", "hu2021lora", "NEURIPS2020_1457c0d6", "Zhang2023"]
    ordered = sorted(records, key=lambda r: keys.index(r.key))
    assert "".join(bibtex_entries(ordered)) == to_bibtex(records)
    with pytest.raises(ValueError, match="out of key order: hu2021lora after NEURIPS2020_1457c0d6"):
        list(bibtex_entries([records[0], records[1]]))


def test_records_without_a_key_or_with_a_duplicate_key_are_refused() -> None:
    with pytest.raises(ValueError, match="key"):
        to_bibtex([Record(title="No key")])
    with pytest.raises(ValueError, match="duplicate"):
        to_bibtex([FIXTURE[0], FIXTURE[0].with_(title="Other")])


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("Edward J. Hu", ("Edward J.", "Hu")),
        ("Oskar van der Wal", ("Oskar", "van der Wal")),
        ("Quentin de Laroussilhe", ("Quentin", "de Laroussilhe")),
        ("Dao", ("", "Dao")),
        ("Wang, Yizhong", ("Yizhong", "Wang")),
        ("Zeyuan Allen-Zhu", ("Zeyuan", "Allen-Zhu")),
        ("Andreas Rücklé", ("Andreas", "Rücklé")),
        ("Martin Luther King Jr.", ("Martin Luther", "King, Jr.")),
        ("Gemini Team", ("", "Gemini Team")),
        ("  Percy   Liang ", ("Percy", "Liang")),
    ],
)
def test_split_name(name: str, parts: tuple[str, str]) -> None:
    assert split_name(name) == parts


def test_authors_are_family_first_with_particles_organisations_and_others() -> None:
    fields = fields_of(by_key(to_bibtex(FIXTURE))["special2022"])
    assert fields["author"] == "{Rücklé, Andreas and van der Wal, Oskar and {Gemini Team} and Dao}"
    fields = fields_of(by_key(to_bibtex(FIXTURE))["raffel2020exploring"])
    assert fields["author"].endswith(" and Roberts, Adam and others}")


ICLR = "International Conference on Learning Representations (ICLR)"
ACL = "Annual Meeting of the Association for Computational Linguistics (ACL)"
JMLR = "Journal of Machine Learning Research 21(140):1-67, 2020"
FINDINGS = "Findings of the Association for Computational Linguistics: EMNLP 2022"


@pytest.mark.parametrize(
    ("key", "kind", "venue_field"),
    [
        ("hu2021lora", "misc", None),
        ("zhang2023adaptive", "inproceedings", f"booktitle = {{{ICLR}}}"),
        ("li2021prefixtuning", "inproceedings", f"booktitle = {{{ACL}}}"),
        ("raffel2020exploring", "article", f"journal = {{{JMLR}}}"),
        ("towards", "misc", None),
        ("chatglm", "misc", None),
        ("special2022", "inproceedings", f"booktitle = {{{FINDINGS}}}"),
        ("muller2020uber", "inproceedings", "booktitle = {Proceedings of the Workshop on Tiny Models}"),
    ],
)
def test_entry_type_and_venue_field(key: str, kind: str, venue_field: str | None) -> None:
    text = by_key(to_bibtex(FIXTURE))[key]
    assert text.startswith(f"@{kind}{{{key},")
    if venue_field:
        assert f"  {venue_field}" in text
    else:
        assert "booktitle" not in text and "journal" not in text


def test_arxiv_only_paper_has_eprint_fields_url_and_bare_month() -> None:
    fields = fields_of(by_key(to_bibtex(FIXTURE))["hu2021lora"])
    assert fields["eprint"] == "{2106.09685}"
    assert fields["archivePrefix"] == "{arXiv}"
    assert fields["primaryClass"] == "{cs.CL}"
    assert fields["url"] == "{https://arxiv.org/abs/2106.09685}"
    assert fields["month"] == "jun"
    assert fields["keywords"] == "{LoRA, PEFT}"
    assert "note" not in fields and "never exported" not in to_bibtex(FIXTURE)


def test_conference_paper_keeps_eprint_but_not_the_arxiv_month() -> None:
    # published is the arXiv v1 date, not the date of the conference.
    fields = fields_of(by_key(to_bibtex(FIXTURE))["zhang2023adaptive"])
    assert fields["eprint"] == "{2303.10512}" and fields["year"] == "{2023}"
    assert "month" not in fields and "url" not in fields


def test_month_is_left_out_when_published_is_not_in_the_records_year() -> None:
    record = FIXTURE[0].with_(year=2022)
    assert "month" not in fields_of(entry(record))


def test_acl_anthology_paper_links_the_anthology_page_and_its_doi() -> None:
    fields = fields_of(by_key(to_bibtex(FIXTURE))["li2021prefixtuning"])
    assert fields["url"] == "{https://aclanthology.org/2021.acl-long.353}"
    assert fields["doi"] == "{10.18653/v1/2021.acl-long.353}"


def test_findings_anthology_id_outranks_the_venue_written_in_the_list() -> None:
    record = Record(key="k", title="T", year=2020, venue="EMNLP", acl_id="2020.findings-emnlp.41")
    assert "Findings of the Association for Computational Linguistics: EMNLP 2020" in entry(record)


def test_project_and_blog_link_their_own_page_as_howpublished_and_url() -> None:
    text = to_bibtex(FIXTURE)
    chatglm = fields_of(by_key(text)["chatglm"])
    assert chatglm["howpublished"] == r"{\url{https://github.com/THUDM/ChatGLM-6B}}"
    assert chatglm["url"] == "{https://github.com/THUDM/ChatGLM-6B}"
    vicuna = fields_of(by_key(text)["chiang2023vicuna"])
    assert vicuna["url"] == "{https://lmsys.org/blog/2023-03-30-vicuna/}"


def test_title_only_paper_is_misc_with_just_its_title() -> None:
    assert by_key(to_bibtex(FIXTURE))["towards"] == (
        "@misc{towards,\n  title = {Towards a Unified View of Parameter-Efficient Transfer Learning}\n}"
    )


def test_latex_specials_are_escaped_and_acronyms_braced() -> None:
    fields = fields_of(by_key(to_bibtex(FIXTURE))["special2022"])
    assert fields["title"] == (
        r"{Fixing 100\% \& \$5 of C\#\_x in \{braces\}: a\textasciitilde{}b, {x\textasciicircum{}2},"
        r" a\textbackslash{}b [{v2}] with {BERT}, {T5} \& {P-Tuning}}"
    )


def test_unpaired_braces_use_the_text_macros_so_the_file_stays_balanced() -> None:
    assert protect_title("a } b {") == r"a \textbraceright{} b \textbraceleft{}"


@pytest.mark.parametrize(
    ("acl_id", "venue", "start"),
    [
        ("Q19-1001", None, "@article{k,"),
        ("2020.tacl-1.5", None, "@article{k,"),
        ("P19-1001", None, "@inproceedings{k,"),
        ("W19-3001", "Workshop on Tiny Models", "@inproceedings{k,"),
    ],
)
def test_anthology_ids_say_whether_a_paper_is_in_a_journal(
    acl_id: str, venue: str | None, start: str
) -> None:
    text = entry(Record(key="k", title="T", acl_id=acl_id, venue=venue))
    assert text.startswith(start)
    assert f"url = {{https://aclanthology.org/{acl_id}}}" in text
    if venue:
        assert f"booktitle = {{{venue}}}" in text


@pytest.mark.parametrize(
    ("word", "protected"),
    [
        ("LoRA", True),
        ("GPT", True),
        ("GPT-4", True),
        ("T5", True),
        ("AdapterFusion", True),
        ("P-Tuning", True),
        ("Non-Destructive", False),
        ("Tuning", False),
        ("A", False),
        ("2021", False),
    ],
)
def test_needs_protection(word: str, protected: bool) -> None:
    assert needs_protection(word) is protected


def test_protection_braces_the_word_once_and_leaves_punctuation_outside() -> None:
    assert protect_title("LoRA: (GPT-4) meets P-Tuning.") == "{LoRA}: ({GPT-4}) meets {P-Tuning}."


@pytest.mark.parametrize(
    ("venue", "kind"),
    [
        ("ICLR", "conference"),
        ("NeurIPS 2023", "conference"),
        ("EMNLP Findings", "conference"),
        ("ACL Workshop on Tiny Models", "conference"),
        ("TACL", "journal"),
        ("Proceedings of the National Academy of Sciences", "journal"),
        ("IEEE Transactions on Audio", "journal"),
        ("arXiv", "none"),
        ("arXiv preprint arXiv:2012.15723", "none"),
        ("CoRR abs/2106.09685", "none"),
        ("GitHub", "none"),
        ("OpenAI blog", "other"),
    ],
)
def test_classify_venue(venue: str, kind: str) -> None:
    assert classify_venue(venue).kind == kind


def test_imported_fields_come_back_while_they_agree_with_the_record() -> None:
    fields = fields_of(by_key(to_bibtex(FIXTURE))["muller2020uber"])
    assert fields["title"] == r"{{\"U}ber {LoRA}}"
    assert fields["author"] == r"{M{\"u}ller, J{\"o}rg and Schmidt, Anna}"
    assert fields["pages"] == "{12--34}" and fields["volume"] == "{3}"
    assert fields["month"] == "sep"
    # The record's DOI was corrected after the import: llmref's value wins.
    assert fields["doi"] == "{10.1000/tiny.2020.12}"
    assert fields["note"] == r"{Best paper \& more}"


def test_imported_title_and_authors_are_regenerated_once_edited() -> None:
    record = FIXTURE[-1].with_(title="Über LoRA, revised", authors=("Jörg Müller", "Anna Schmidt", "Li Wei"))
    fields = fields_of(entry(record))
    assert fields["title"] == "{Über {LoRA}, revised}"
    assert fields["author"] == "{Müller, Jörg and Schmidt, Anna and Wei, Li}"


def test_google_scholar_arxiv_journal_survives_the_shortened_venue() -> None:
    # The importer stores journal = {arXiv preprint arXiv:…} as the venue "arXiv preprint".
    record = Record(
        key="hu2021lora",
        title="Lora: Low-rank adaptation of large language models",
        authors=("Edward J Hu",),
        year=2021,
        venue="arXiv preprint",
        arxiv_id="2106.09685",
        entry_type="article",
        bibtex_fields=(("journal", "arXiv preprint arXiv:2106.09685"), ("author", "Hu, Edward J")),
    )
    fields = fields_of(entry(record))
    assert entry(record).startswith("@article{hu2021lora,")
    assert fields["journal"] == "{arXiv preprint arXiv:2106.09685}"
    assert fields["author"] == "{Hu, Edward J}"


def test_an_imported_year_no_record_can_hold_stands_until_a_year_is_set() -> None:
    record = Record(key="k", title="T", entry_type="article", bibtex_fields=(("year", "in press"),))
    assert fields_of(entry(record))["year"] == "{in press}"
    assert fields_of(entry(record.with_(year=2024)))["year"] == "{2024}"
    # A year the record held once and no longer does is not written back.
    cleared = record.with_(bibtex_fields=(("year", "2020"),))
    assert "year" not in fields_of(entry(cleared))


def test_an_imported_year_with_a_letter_stands_while_it_gives_the_records_year() -> None:
    record = Record(key="k", title="T", year=2023, entry_type="article", bibtex_fields=(("year", "2023a"),))
    assert fields_of(entry(record))["year"] == "{2023a}"
    assert fields_of(entry(record.with_(year=2024)))["year"] == "{2024}"


def test_imported_arxiv_class_stays_while_the_eprint_does() -> None:
    raw = (("eprint", "2106.09685"), ("archiveprefix", "arXiv"), ("primaryclass", "cs.CL"))
    record = Record(key="k", title="T", arxiv_id="2106.09685", entry_type="misc", bibtex_fields=raw)
    assert fields_of(entry(record))["primaryClass"] == "{cs.CL}"
    assert "primaryClass" not in fields_of(entry(record.with_(arxiv_id=None)))


def test_imported_values_are_written_on_one_line() -> None:
    record = Record(
        key="k",
        title="T",
        authors=("Xiang Lisa Li", "Percy Liang"),
        bibtex_fields=(
            ("author", "Li, Xiang Lisa  and\n      Liang, Percy"),
            ("editor", "Zong, C.  and\n Xia, F."),
        ),
    )
    fields = fields_of(entry(record))
    assert fields["author"] == "{Li, Xiang Lisa and Liang, Percy}"
    assert fields["editor"] == "{Zong, C. and Xia, F.}"


def test_imported_field_order_is_canonical_then_alphabetical() -> None:
    text = by_key(to_bibtex(FIXTURE))["muller2020uber"]
    names = re.findall(r"^  (\w+) =", text, re.M)
    assert names == [
        "author",
        "title",
        "booktitle",
        "year",
        "month",
        "volume",
        "pages",
        "publisher",
        "note",
        "doi",
    ]


# ---------------------------------------------------------------------------------------------
# Real tools.


def parse_strictly(text: str):
    pybtex_errors = pytest.importorskip("pybtex.errors", reason="pybtex is not installed")
    from pybtex.database import parse_string

    pybtex_errors.set_strict_mode(True)
    try:
        return parse_string(text, "bibtex")
    finally:
        pybtex_errors.set_strict_mode(False)


@pytest.mark.parametrize("library", ["fixture", "seed"])
def test_pybtex_reads_the_export_without_a_warning(library: str) -> None:
    records = list(FIXTURE) if library == "fixture" else list(bundled_records())
    data = parse_strictly(to_bibtex(records))
    assert sorted(data.entries) == sorted(r.key for r in records)
    for record in records:
        persons = data.entries[record.key].persons.get("author", [])
        assert len(persons) == len(record.authors) + record.authors_truncated


def pandoc_warnings(bibliography: Path, keys: list[str], tmp_path: Path) -> str:
    """What ``pandoc --citeproc`` says on stderr when citing every key of ``bibliography``."""
    if shutil.which("pandoc") is None:
        pytest.skip("pandoc is not installed")
    doc = tmp_path / "doc.md"
    doc.write_text("Cited: [" + "; ".join(f"@{k}" for k in keys) + "].\n", encoding="utf-8")
    done = subprocess.run(
        ["pandoc", "--citeproc", f"--bibliography={bibliography}", "-t", "plain", str(doc)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "???" not in done.stdout
    return done.stderr


@pytest.mark.parametrize("library", ["fixture", "seed"])
def test_pandoc_citeproc_formats_every_key_of_the_bibtex_export(library: str, tmp_path: Path) -> None:
    records = list(FIXTURE) if library == "fixture" else list(bundled_records())
    bib = tmp_path / "refs.bib"
    bib.write_text(to_bibtex(records), encoding="utf-8")
    assert pandoc_warnings(bib, [r.key for r in records], tmp_path) == ""


# ---------------------------------------------------------------------------------------------
# Any title survives.

_UNESCAPE = re.compile(
    r"\\(?:textbackslash|textasciitilde|textasciicircum|textbraceleft|textbraceright)\{\}|\\.|."
)
_MACROS = {
    r"\textbackslash{}": "\\",
    r"\textasciitilde{}": "~",
    r"\textasciicircum{}": "^",
    r"\textbraceleft{}": "{",
    r"\textbraceright{}": "}",
}


def plain(latex: str) -> str:
    """The text a title field prints: escapes undone, protective braces dropped."""
    out = []
    for token in _UNESCAPE.findall(latex):
        if token in _MACROS:
            out.append(_MACROS[token])
        elif token.startswith("\\"):
            out.append(token[1:])
        elif token not in "{}":
            out.append(token)
    return "".join(out)


printable = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn")), min_size=1, max_size=80)


@settings(max_examples=300, deadline=None)
@given(title=printable.filter(str.strip))
def test_any_title_survives_export_and_pybtex(title: str) -> None:
    data = parse_strictly(to_bibtex([Record(key="k", title=title)]))
    exported = data.entries["k"].fields["title"]
    assert plain(exported) == " ".join(title.split())
    # Each word that needs it is braced: a style cannot change its case.
    for word in title.split():
        core = "".join(re.findall(r"\w.*\w|\w", word))
        if re.fullmatch(r"[^\W_]+(?:-[^\W_]+)*", core) and needs_protection(core):
            assert "{" + core + "}" in exported


@settings(max_examples=200, deadline=None)
@given(names=st.lists(printable, min_size=1, max_size=5), truncated=st.booleans())
def test_any_author_list_keeps_its_length_through_pybtex(names: list[str], truncated: bool) -> None:
    record = Record(key="k", title="T", authors=tuple(names), authors_truncated=truncated)
    data = parse_strictly(to_bibtex([record]))
    persons = data.entries["k"].persons.get("author", [])
    expected = sum(1 for n in names if n.replace(",", " ").strip())
    assert len(persons) == (expected + truncated if expected else 0)


def test_fixture_json_and_markdown_table_exports_match_golden_files() -> None:
    # The same fixture in the two remaining export formats, so every format has a golden file.
    from llmref.exchange import export

    check_golden("fixture.json", export(list(FIXTURE), "json"))
    check_golden("fixture-table.md", export(list(FIXTURE), "markdown-table"))
