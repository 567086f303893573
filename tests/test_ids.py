from __future__ import annotations

import pytest

from llmref.ids import (
    arxiv_year,
    normalise_url,
    parse_acl,
    parse_arxiv,
    parse_doi,
    parse_identifier,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2106.09685", ("2106.09685", None)),
        ("2106.09685v2", ("2106.09685", 2)),
        ("arxiv:2106.09685", ("2106.09685", None)),
        ("arXiv:2106.09685", ("2106.09685", None)),
        ("ARXIV: 2106.09685v3", ("2106.09685", 3)),
        ("https://arxiv.org/abs/2106.09685v2", ("2106.09685", 2)),
        ("https://arxiv.org/abs/2106.09685", ("2106.09685", None)),
        ("https://arxiv.org/pdf/2106.09685.pdf", ("2106.09685", None)),
        ("https://arxiv.org/pdf/2106.09685v1", ("2106.09685", 1)),
        ("https://arxiv.org/pdf/2106.09685v1.pdf", ("2106.09685", 1)),
        ("http://export.arxiv.org/abs/2106.09685", ("2106.09685", None)),
        ("https://www.arxiv.org/abs/2106.09685", ("2106.09685", None)),
        ("www.arxiv.org/abs/2106.09685", ("2106.09685", None)),
        ("https://arxiv.org/abs/2106.09685/", ("2106.09685", None)),
        ("  2106.09685 \n", ("2106.09685", None)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("cs/0112017v1", ("cs/0112017", 1)),
        ("math.GT/0309136", ("math/0309136", None)),
        ("https://arxiv.org/abs/hep-th/9901001v2", ("hep-th/9901001", 2)),
        ("10.48550/arXiv.2106.09685", ("2106.09685", None)),
        ("https://doi.org/10.48550/arXiv.2106.09685", ("2106.09685", None)),
        ("doi:10.48550/arxiv.2106.09685", ("2106.09685", None)),
        ("0704.0001", ("0704.0001", None)),
        ("1412.9999", ("1412.9999", None)),
        ("1501.00001", ("1501.00001", None)),
    ],
)
def test_parse_arxiv_accepts_every_written_form(text: str, expected: tuple[str, int | None]) -> None:
    assert parse_arxiv(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2106.096855",  # six-digit sequence
        "abc",
        "1234",
        "",
        "2113.09685",  # month 13
        "0703.0001",  # before new-style ids existed
        "1412.12345",  # five digits before 2015
        "1501.0001",  # four digits from 2015 on
        "hep-th/9913001",  # month 13 in an old-style id
        "https://example.org/abs/2106.09685",
        "https://arxiv.org/list/cs.CL/recent",
        "10.1145/3560815",
        "2106.09685v99999999999999999999",  # a version no database holds
    ],
)
def test_parse_arxiv_rejects_what_is_not_an_arxiv_id(text: str) -> None:
    assert parse_arxiv(text) is None


@pytest.mark.parametrize(
    ("arxiv_id", "year"),
    [
        ("2212.12017", 2022),
        ("0704.0001", 2007),
        ("hep-th/9901001", 1999),
        ("cs/0112017", 2001),
        ("1501.00001v2", 2015),
        ("https://arxiv.org/abs/2106.09685", 2021),
    ],
)
def test_arxiv_year_is_the_year_in_the_id(arxiv_id: str, year: int) -> None:
    assert arxiv_year(arxiv_id) == year


def test_arxiv_year_of_garbage_is_none() -> None:
    assert arxiv_year("202") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021.acl-long.353", "2021.acl-long.353"),
        ("https://aclanthology.org/2021.acl-long.353/", "2021.acl-long.353"),
        ("https://aclanthology.org/2021.acl-long.353", "2021.acl-long.353"),
        ("https://aclanthology.org/2021.eacl-main.39.pdf", "2021.eacl-main.39"),
        ("https://aclanthology.org/2020.findings-emnlp.41/", "2020.findings-emnlp.41"),
        ("P19-1001", "P19-1001"),
        ("https://www.aclweb.org/anthology/P19-1001.pdf", "P19-1001"),
        ("https://aclanthology.org/P19-1001.bib", "P19-1001"),
        ("https://aclanthology.org/N19-1423.pdf", "N19-1423"),
        ("10.18653/v1/2021.acl-long.353", "2021.acl-long.353"),
        ("https://doi.org/10.18653/v1/2021.acl-long.353", "2021.acl-long.353"),
        ("10.18653/v1/P19-1001", "P19-1001"),
    ],
)
def test_parse_acl_accepts_ids_urls_and_acl_dois(text: str, expected: str) -> None:
    assert parse_acl(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2106.09685",
        "acl-long.353",
        "https://aclanthology.org/events/acl-2021/",
        "P19-10010",
        "10.1145/3560815",
    ],
)
def test_parse_acl_rejects_other_ids(text: str) -> None:
    assert parse_acl(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.1145/3560815", "10.1145/3560815"),
        ("doi:10.1145/3560815", "10.1145/3560815"),
        ("DOI: 10.1145/3560815", "10.1145/3560815"),
        ("https://doi.org/10.1145/3560815", "10.1145/3560815"),
        ("http://dx.doi.org/10.1145/3560815", "10.1145/3560815"),
        ("10.1145/3560815.", "10.1145/3560815"),
        ("10.1145/3560815)", "10.1145/3560815"),  # a closing bracket from the prose around it
        ("https://doi.org/10.1162/TACL_A_00324", "10.1162/tacl_a_00324"),
        (
            "10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-O",
            "10.1002/(sici)1097-4571(199806)49:8<693::aid-asi4>3.0.co;2-o",
        ),
        ("10.48550/arXiv.2106.09685", "10.48550/arxiv.2106.09685"),
        ("10.18653/v1/2021.acl-long.353", "10.18653/v1/2021.acl-long.353"),
        ("https://dl.acm.org/doi/10.1145/3560815", "10.1145/3560815"),
    ],
)
def test_parse_doi_returns_the_bare_lower_cased_doi(text: str, expected: str) -> None:
    assert parse_doi(text) == expected


@pytest.mark.parametrize(
    "text", ["11.1145/3560815", "10.12/x", "2106.09685", "doi:", "https://example.org/10"]
)
def test_parse_doi_rejects_what_is_not_a_doi(text: str) -> None:
    assert parse_doi(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2106.09685v2", ("arxiv", "2106.09685")),
        ("https://arxiv.org/pdf/2106.09685.pdf", ("arxiv", "2106.09685")),
        ("10.48550/arXiv.2106.09685", ("arxiv", "2106.09685")),
        ("https://doi.org/10.48550/arXiv.2106.09685", ("arxiv", "2106.09685")),
        ("2021.acl-long.353", ("acl", "2021.acl-long.353")),
        ("https://aclanthology.org/2021.eacl-main.39.pdf", ("acl", "2021.eacl-main.39")),
        ("10.18653/v1/2021.acl-long.353", ("acl", "2021.acl-long.353")),
        ("doi:10.1145/3560815", ("doi", "10.1145/3560815")),
        ("https://doi.org/10.1145/3560815", ("doi", "10.1145/3560815")),
        ("https://WWW.GitHub.com/microsoft/LoRA/#readme", ("url", "https://github.com/microsoft/LoRA")),
        (
            "  https://crfm.stanford.edu/2023/03/13/alpaca.html ",
            ("url", "https://crfm.stanford.edu/2023/03/13/alpaca.html"),
        ),
    ],
)
def test_parse_identifier_classifies_what_a_user_types(text: str, expected: tuple[str, str]) -> None:
    assert parse_identifier(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "LoRA", "ftp://example.org/x", "Attention Is All You Need"])
def test_parse_identifier_of_free_text_is_none(text: str) -> None:
    assert parse_identifier(text) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://GitHub.COM/microsoft/LoRA/", "https://github.com/microsoft/LoRA"),
        ("https://www.databricks.com/blog/x", "https://databricks.com/blog/x"),
        ("https://example.org/Path/To?Q=One#Section", "https://example.org/Path/To?Q=One"),
        ("https://example.org/a/?q=1", "https://example.org/a?q=1"),
        ("https://example.org", "https://example.org"),
    ],
)
def test_normalise_url_keeps_path_case_and_query(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


def test_normalise_url_makes_spellings_of_one_link_equal() -> None:
    spellings = [
        "https://github.com/tatsu-lab/stanford_alpaca",
        "https://www.github.com/tatsu-lab/stanford_alpaca/",
        "HTTPS://GITHUB.COM/tatsu-lab/stanford_alpaca#readme",
    ]
    assert len({normalise_url(u) for u in spellings}) == 1
