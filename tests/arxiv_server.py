"""A real HTTP server on 127.0.0.1 that imitates arXiv's query API (``export.arxiv.org/api/query``) for tests.

What it imitates, and where from (see /work/shared/notes/libraries.md §1, §2 and §8):

* the **current** Atom format (2026, arXiv/arxiv-search via feedgen): namespaces declared once on ``<feed>``,
  https links, ``arxiv:primary_category`` without ``scheme``;
* the **old** format (recorded in 2016, lukasschwab/arxiv.py ``tests/fixtures/id_list=1111.2011v2.xml``):
  ``<link rel="self">``, ``<title type="html">ArXiv Query…``, a namespace declaration on every ``arxiv:`` and
  ``opensearch:`` element, hard-wrapped titles and summaries, http links, dx.doi.org DOI links;
* the **error feed** arXiv sends with HTTP 400 for a malformed id (``id_abc_s0_m100_*.json``, same repo);
* well-formed ids that do not exist are simply left out, and ``totalResults`` counts only what was found.

It also serves failures on demand (``set_failures``): rate limits, 5xx, HTML pages, slow and cut-off answers.
Standard library only, apart from the pytest fixture at the bottom.
"""

from __future__ import annotations

import base64
import hashlib
import re
import textwrap
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit
from xml.sax.saxutils import escape, quoteattr

import pytest

ATOM_CONTENT_TYPE = "application/atom+xml; charset=utf-8"
ATOM_NS = "http://www.w3.org/2005/Atom"
ARXIV_NS = "http://arxiv.org/schemas/atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"

NEW_STYLE_ID = re.compile(r"^(?P<id>\d{4}\.\d{4,5})(?:v(?P<v>\d+))?$")
OLD_STYLE_ID = re.compile(r"^(?P<id>[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<v>\d+))?$")

# Ids 2301.10000–2301.10999 get a generated entry (bulk tests); 2301.11000–2301.11999 never exist.
SYNTHETIC_RANGE = range(10000, 11000)
MISSING_RANGE = range(11000, 12000)


# ------------------------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paper:
    """One arXiv record as the fake serves it. ``summary`` is always our own one- or two-sentence description,
    never the paper's real abstract."""

    arxiv_id: str  # without version
    title: str
    authors: tuple[str, ...]
    summary: str
    published: str  # v1, RFC 3339 UTC
    updated: str  # the latest version
    versions: int
    primary_category: str
    categories: tuple[str, ...]  # primary first, as arXiv lists them
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    affiliations: tuple[tuple[str, str], ...] = ()  # (author name, affiliation)
    old_format: bool = False  # served in the pre-2025 layout

    def updated_for(self, version: int) -> str:
        # Simplification: intermediate versions are not modelled. v1 is dated `published`, every later version
        # `updated` (the latest revision date); all other fields are the same for every version.
        return self.published if version == 1 else self.updated

    def entry_id(self, version: int | None = None) -> str:
        return f"http://arxiv.org/abs/{self.arxiv_id}v{version or self.versions}"

    def affiliations_of(self, author: str) -> list[str]:
        return [aff for name, aff in self.affiliations if name == author]


# Time of day "12:00:00" marks a date whose time was not verified; every other timestamp was read from arXiv's
# abs page or a recorded API response. Dates, titles, author lists, categories and comments were checked
# against arXiv abs pages (stored copies) unless a comment says otherwise.
_PAPER_LIST: tuple[Paper, ...] = (
    Paper(
        arxiv_id="2106.09685",
        title="LoRA: Low-Rank Adaptation of Large Language Models",
        authors=(
            "Edward J. Hu",
            "Yelong Shen",
            "Phillip Wallis",
            "Zeyuan Allen-Zhu",
            "Yuanzhi Li",
            "Shean Wang",
            "Lu Wang",
            "Weizhu Chen",
        ),
        summary=(
            "Freezes the weights of a pre-trained Transformer and learns a pair of low-rank matrices per "
            "layer instead, so adapting a very large model trains a tiny fraction of its parameters. The "
            "learned update can be merged into the frozen weights, so inference is no slower than with the "
            "original model."
        ),
        published="2021-06-17T17:37:18Z",
        updated="2021-10-16T18:40:34Z",
        versions=2,
        primary_category="cs.CL",
        categories=("cs.CL", "cs.AI", "cs.LG"),
        comment="Draft V2 includes better baselines, experiments on GLUE, and more on adapter latency",
    ),
    # v1 as listed on arXiv (18 Mar 2023): this title and these 7 authors. A later v2 was retitled
    # "AdaLoRA: …" and adds Nikos Karampatziakis; its date could not be verified, so only v1 is served.
    Paper(
        arxiv_id="2303.10512",
        title="Adaptive Budget Allocation for Parameter-Efficient Fine-Tuning",
        authors=(
            "Qingru Zhang",
            "Minshuo Chen",
            "Alexander Bukharin",
            "Pengcheng He",
            "Yu Cheng",
            "Weizhu Chen",
            "Tuo Zhao",
        ),
        summary=(
            "Proposes AdaLoRA, which writes each low-rank weight update in SVD form and prunes the least "
            "important singular values during training, moving the parameter budget to the matrices that "
            "matter most."
        ),
        published="2023-03-18T12:00:00Z",
        updated="2023-03-18T12:00:00Z",
        versions=1,
        primary_category="cs.CL",
        categories=("cs.CL", "cs.LG"),
    ),
    # Version count not verified (only v1 known).
    Paper(
        arxiv_id="2101.00190",
        title="Prefix-Tuning: Optimizing Continuous Prompts for Generation",
        authors=("Xiang Lisa Li", "Percy Liang"),
        summary=(
            "Keeps a language model frozen and trains only a short sequence of continuous vectors prepended "
            "to every layer's activations, evaluated on table-to-text generation with GPT-2 and "
            "summarization with BART."
        ),
        published="2021-01-01T12:00:00Z",
        updated="2021-01-01T12:00:00Z",
        versions=1,
        primary_category="cs.CL",
        categories=("cs.CL",),
    ),
    Paper(
        arxiv_id="2110.07602",
        title=(
            "P-Tuning v2: Prompt Tuning Can Be Comparable to Fine-tuning Universally Across Scales and Tasks"
        ),
        authors=(
            "Xiao Liu",
            "Kaixuan Ji",
            "Yicheng Fu",
            "Weng Lam Tam",
            "Zhengxiao Du",
            "Zhilin Yang",
            "Jie Tang",
        ),
        summary=(
            "Shows that deep prompt tuning, with trainable prompts at every layer, matches full fine-tuning "
            "on natural language understanding tasks for models of many sizes, including hard sequence "
            "labelling."
        ),
        published="2021-10-14T12:00:00Z",
        updated="2022-03-20T12:00:00Z",
        versions=3,
        primary_category="cs.CL",
        categories=("cs.CL",),
        comment=(
            "Proceedings of the 60th Annual Meeting of the Association of Computational Linguistics, 2022"
        ),
    ),
    # v2 date (2 Sep 2021) seen on a third-party page; v1 date and the category list are from memory.
    Paper(
        arxiv_id="2104.08691",
        title="The Power of Scale for Parameter-Efficient Prompt Tuning",
        authors=("Brian Lester", "Rami Al-Rfou", "Noah Constant"),
        summary=(
            "Learns a few soft prompt embeddings for a frozen T5 model and finds that the gap to full model "
            "tuning closes as the model grows to billions of parameters."
        ),
        published="2021-04-18T12:00:00Z",
        updated="2021-09-02T12:00:00Z",
        versions=2,
        primary_category="cs.CL",
        categories=("cs.CL",),
    ),
    # Categories verified (cs.LG primary); the v2 date (13 Jun 2019) is from memory. The ICML 2019 venue is
    # real, but whether arXiv carries it as journal_ref is not known, so none is served.
    Paper(
        arxiv_id="1902.00751",
        title="Parameter-Efficient Transfer Learning for NLP",
        authors=(
            "Neil Houlsby",
            "Andrei Giurgiu",
            "Stanislaw Jastrzebski",
            "Bruna Morrone",
            "Quentin de Laroussilhe",
            "Andrea Gesmundo",
            "Mona Attariyan",
            "Sylvain Gelly",
        ),
        summary=(
            "Introduces adapter modules: small bottleneck layers inserted into BERT and trained per task "
            "while the original network stays fixed, coming close to full fine-tuning on GLUE with few added "
            "parameters."
        ),
        published="2019-02-02T12:00:00Z",
        updated="2019-06-13T12:00:00Z",
        versions=2,
        primary_category="cs.LG",
        categories=("cs.LG", "cs.CL", "stat.ML"),
    ),
    # All 50 authors, in arXiv's order.
    Paper(
        arxiv_id="2211.09110",
        title="Holistic Evaluation of Language Models",
        authors=(
            "Percy Liang",
            "Rishi Bommasani",
            "Tony Lee",
            "Dimitris Tsipras",
            "Dilara Soylu",
            "Michihiro Yasunaga",
            "Yian Zhang",
            "Deepak Narayanan",
            "Yuhuai Wu",
            "Ananya Kumar",
            "Benjamin Newman",
            "Binhang Yuan",
            "Bobby Yan",
            "Ce Zhang",
            "Christian Cosgrove",
            "Christopher D. Manning",
            "Christopher Ré",
            "Diana Acosta-Navas",
            "Drew A. Hudson",
            "Eric Zelikman",
            "Esin Durmus",
            "Faisal Ladhak",
            "Frieda Rong",
            "Hongyu Ren",
            "Huaxiu Yao",
            "Jue Wang",
            "Keshav Santhanam",
            "Laurel Orr",
            "Lucia Zheng",
            "Mert Yuksekgonul",
            "Mirac Suzgun",
            "Nathan Kim",
            "Neel Guha",
            "Niladri Chatterji",
            "Omar Khattab",
            "Peter Henderson",
            "Qian Huang",
            "Ryan Chi",
            "Sang Michael Xie",
            "Shibani Santurkar",
            "Surya Ganguli",
            "Tatsunori Hashimoto",
            "Thomas Icard",
            "Tianyi Zhang",
            "Vishrav Chaudhary",
            "William Wang",
            "Xuechen Li",
            "Yifan Mai",
            "Yuhui Zhang",
            "Yuta Koreeda",
        ),
        summary=(
            "Presents HELM, a benchmark that evaluates many language models on a shared grid of scenarios "
            "and metrics (accuracy, calibration, robustness, fairness, bias, toxicity, efficiency) under the "
            "same conditions."
        ),
        published="2022-11-16T18:51:34Z",
        updated="2023-10-01T12:00:00Z",
        versions=2,
        primary_category="cs.CL",
        categories=("cs.CL", "cs.AI", "cs.LG"),
    ),
    Paper(
        arxiv_id="2110.04366",
        title="Towards a Unified View of Parameter-Efficient Transfer Learning",
        authors=("Junxian He", "Chunting Zhou", "Xuezhe Ma", "Taylor Berg-Kirkpatrick", "Graham Neubig"),
        summary=(
            "Recasts adapters, prefix tuning and LoRA as different ways of modifying hidden states, and uses "
            "the common framework to combine their design choices into new variants that train fewer "
            "parameters."
        ),
        published="2021-10-08T20:22:26Z",
        updated="2022-02-02T16:39:23Z",
        versions=3,
        primary_category="cs.CL",
        categories=("cs.CL", "cs.LG"),
    ),
    Paper(
        arxiv_id="1706.03762",
        title="Attention Is All You Need",
        authors=(
            "Ashish Vaswani",
            "Noam Shazeer",
            "Niki Parmar",
            "Jakob Uszkoreit",
            "Llion Jones",
            "Aidan N. Gomez",
            "Lukasz Kaiser",
            "Illia Polosukhin",
        ),
        summary=(
            "Introduces the Transformer, a sequence-to-sequence architecture built only from attention and "
            "feed-forward layers, which trains faster than recurrent models and sets new machine translation "
            "results."
        ),
        published="2017-06-12T17:57:34Z",
        updated="2023-08-02T00:41:18Z",
        versions=7,
        primary_category="cs.CL",
        categories=("cs.CL", "cs.LG"),
        comment="15 pages, 5 figures",
    ),
    # Dates (v1 11 Oct 2018, v2 24 May 2019) are from memory. No journal_ref or DOI is served: not verified.
    Paper(
        arxiv_id="1810.04805",
        title="BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
        authors=("Jacob Devlin", "Ming-Wei Chang", "Kenton Lee", "Kristina Toutanova"),
        summary=(
            "Pre-trains a bidirectional Transformer encoder with masked-word and next-sentence objectives, "
            "then fine-tunes it with one extra output layer per task."
        ),
        published="2018-10-11T12:00:00Z",
        updated="2019-05-24T12:00:00Z",
        versions=2,
        primary_category="cs.CL",
        categories=("cs.CL",),
    ),
    # Everything except the summary is copied from the recorded 2016 response (id_list=1111.2011v2.xml),
    # including the real DOI / journal_ref pair. Served in the old format, as it was recorded.
    Paper(
        arxiv_id="1111.2011",
        title="Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit",
        authors=("James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"),
        summary=(
            "Studies a quantum phase transition for O(N) rotor nodes of finite spatial extent placed on a "
            "Bethe lattice, treating inter-node hopping self-consistently in the limit of large "
            "connectivity. The hopping lowers the upper and lower critical dimensions by one."
        ),
        published="2011-11-08T18:48:36Z",
        updated="2012-04-02T12:38:54Z",
        versions=2,
        primary_category="cond-mat.str-el",
        categories=("cond-mat.str-el", "cond-mat.stat-mech"),
        comment="8 pages, 3 figures. Published version",
        journal_ref="Phys. Rev. B 85, 115117 (2012)",
        doi="10.1103/PhysRevB.85.115117",
        old_format=True,
    ),
    # Copied (except the summary) from the recorded 2026 response id_hep-ex_0406020v1_*.json: the only entry
    # here with an <arxiv:affiliation>.
    Paper(
        arxiv_id="hep-ex/0406020",
        title="Sparticle Reconstruction at LHC",
        authors=("Alessia Tricomi",),
        summary=(
            "Reviews ATLAS and CMS studies of how well supersymmetric particles could be discovered at the "
            "LHC and how precisely their masses could be measured."
        ),
        published="2004-06-07T11:08:22Z",
        updated="2004-06-07T11:08:22Z",
        versions=1,
        primary_category="hep-ex",
        categories=("hep-ex",),
        comment=(
            "Presented at XXXIX Rencontres de Moriond - QCD and Hadronic Interactions, 28 March - 4 April "
            "2004, La Thuile, Italy"
        ),
        affiliations=(("Alessia Tricomi", "for the ATLAS and CMS Collaborations"),),
        old_format=True,
    ),
    # INVENTED: the ids are real arXiv ids, but titles, authors, dates, comments, journal_ref and DOI below
    # are made up for tests and say nothing about the real papers. Only the old-style id and the old format
    # matter.
    Paper(
        arxiv_id="hep-th/9901001",
        title="An Invented Test Record: Old-Style Identifiers and Hard-Wrapped Titles in the Legacy Feed",
        authors=("Test Author One", "Test Author Two"),
        summary=(
            "This record is invented for llmref's tests. It exists so that an old-style identifier is served "
            "in the pre-2025 Atom layout, with a title and a summary long enough to be hard-wrapped across "
            "lines."
        ),
        published="1999-01-04T12:00:00Z",
        updated="1999-02-01T12:00:00Z",
        versions=2,
        primary_category="hep-th",
        categories=("hep-th", "gr-qc"),
        comment="Invented test value, 12 pages",
        journal_ref="Invented J. Test Phys. 1 (1999) 1-12",  # test value, not a fact
        doi="10.0000/invented.test.9901001",  # test value, not a fact (10.0000 is no registrant)
        old_format=True,
    ),
    Paper(
        arxiv_id="cs/0112017",  # INVENTED content, see above
        title="An Invented Test Record for the Computer Science Archive",
        authors=("Test Author Three",),
        summary="This record is invented for llmref's tests; it stands for an old-style cs/ identifier.",
        published="2001-12-14T12:00:00Z",
        updated="2001-12-14T12:00:00Z",
        versions=1,
        primary_category="cs.DL",
        categories=("cs.DL",),
        old_format=True,
    ),
)

PAPERS: dict[str, Paper] = {paper.arxiv_id: paper for paper in _PAPER_LIST}


def synthetic_paper(arxiv_id: str) -> Paper | None:
    """The generated entry for 2301.10000–2301.10999, or None for any other id."""
    match = re.fullmatch(r"2301\.(\d{5})", arxiv_id)
    if match is None or int(match.group(1)) not in SYNTHETIC_RANGE:
        return None
    number = int(match.group(1))
    offset = number - SYNTHETIC_RANGE.start
    stamp = f"2023-01-{1 + offset % 28:02d}T{offset // 28 % 24:02d}:{offset % 60:02d}:00Z"
    return Paper(
        arxiv_id=arxiv_id,
        title=f"Synthetic study number {number} of low-rank adapters",
        authors=("Ada Lovelace", "Alan Turing"),
        summary=f"A generated record ({number}) for bulk tests; it describes no real paper.",
        published=stamp,
        updated=stamp,
        versions=1,
        primary_category="cs.CL",
        categories=("cs.CL",),
    )


def lookup(arxiv_id: str) -> Paper | None:
    """The paper the server knows under an unversioned id (PAPERS or a synthetic one)."""
    if arxiv_id in PAPERS:
        return PAPERS[arxiv_id]
    return synthetic_paper(arxiv_id)


def parse_id(raw: str) -> tuple[str, int | None] | None:
    """(id without version, version or None) for a well-formed arXiv id, None for a malformed one."""
    match = NEW_STYLE_ID.match(raw) or OLD_STYLE_ID.match(raw)
    if match is None:
        return None
    return match.group("id"), int(match.group("v")) if match.group("v") else None


# ------------------------------------------------------------------------------------------------------------
# Requests and failures
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeenRequest:
    time: float  # time.monotonic() when received
    path: str
    params: dict[str, str]  # parsed query string (and form body for POST), first value of each name
    headers: dict[str, str]  # lower-cased names
    method: str = "GET"

    @property
    def id_list(self) -> list[str]:
        return [item for item in self.params.get("id_list", "").split(",") if item]


@dataclass(frozen=True)
class Failure:
    """What to send instead of the normal answer to one request."""

    status: int = 500
    body: str = ""  # default: "<status> <reason>\n"
    content_type: str = "text/plain"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds to wait before answering
    # Send the normal answer cut in half: its own status, and the Content-Length of the cut body.
    truncate: bool = False
    # Send the normal answer (after `delay`, with `headers` added); status, body and content_type are unused.
    answer_normally: bool = False


def rate_limited(retry_after: int = 1) -> Failure:
    # The bare "Rate exceeded." body comes from third-party reports (unverified, see libraries.md §2).
    return Failure(status=429, body="Rate exceeded.", headers=(("Retry-After", str(retry_after)),))


def unavailable(retry_after: int | None = None) -> Failure:
    headers = (("Retry-After", str(retry_after)),) if retry_after is not None else ()
    return Failure(status=503, body="Service Unavailable", headers=headers)


_HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>arXiv is temporarily unavailable</title></head>
<body>
<h1>Service temporarily unavailable</h1>
<p>arXiv is undergoing maintenance or is receiving too many requests. Please try again later.</p>
</body>
</html>
"""


def html_page() -> Failure:
    return Failure(status=200, body=_HTML_PAGE, content_type="text/html; charset=utf-8")


def slow(seconds: float) -> Failure:
    return Failure(status=200, delay=seconds, answer_normally=True)


def truncated() -> Failure:
    return Failure(status=200, truncate=True)


# ------------------------------------------------------------------------------------------------------------
# Queries
# ------------------------------------------------------------------------------------------------------------


class UnsupportedQuery(ValueError):
    """Query syntax this fake does not implement; answered with 501 so that tests fail loudly."""


@dataclass(frozen=True)
class _Term:
    field: str
    value: str
    quoted: bool


_TERM = re.compile(r'(?P<field>[A-Za-z]+):(?P<value>"[^"]*"|\[[^\]]*\]|[^\s"()]+)')
_AND = re.compile(r"\s+AND\s+")
_FIELDS = {"ti", "au", "abs", "all", "cat", "submittedDate"}


def parse_query(query: str) -> list[_Term]:
    """Split ``ti:"…" AND au:name AND …`` into terms; anything else (OR, ANDNOT, brackets…) is unsupported."""
    terms: list[_Term] = []
    position, text = 0, query.strip()
    while True:
        match = _TERM.match(text, position)
        if match is None or match.group("field") not in _FIELDS:
            raise UnsupportedQuery(f"fake arXiv cannot parse search_query {query!r} at {text[position:]!r}")
        value = match.group("value")
        quoted = value.startswith('"')
        terms.append(_Term(match.group("field"), value.strip('"'), quoted))
        position = match.end()
        if position == len(text):
            return terms
        separator = _AND.match(text, position)
        if separator is None:
            raise UnsupportedQuery(f"fake arXiv cannot parse search_query {query!r} at {text[position:]!r}")
        position = separator.end()


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def _words(text: str) -> set[str]:
    return set(_normalise(text).split())


def _contains_phrase(haystack: str, phrase: str) -> bool:
    return f" {_normalise(phrase)} " in f" {_normalise(haystack)} "


def _stamp_digits(stamp: str) -> str:
    return re.sub(r"\D", "", stamp)[:12]  # YYYYMMDDHHMM


def _matches(paper: Paper, term: _Term) -> bool:
    value = term.value
    if term.field == "ti":
        if term.quoted and _normalise(paper.title) == _normalise(value):
            return True
        return _words(value) <= _words(paper.title)
    if term.field == "abs":
        return (
            _contains_phrase(paper.summary, value) if term.quoted else _words(value) <= _words(paper.summary)
        )
    if term.field == "all":
        text = " ".join((paper.title, paper.summary, *paper.authors))
        return _contains_phrase(text, value) if term.quoted else _words(value) <= _words(text)
    if term.field == "au":
        wanted = _words(value.replace("_", " "))  # arXiv writes au:del_maestro
        return any(wanted <= _words(author) for author in paper.authors)
    if term.field == "cat":
        return value.lower() in (category.lower() for category in paper.categories)
    if term.field == "submittedDate":
        match = re.fullmatch(r"\[\s*(\d{8,14})\s+TO\s+(\d{8,14})\s*\]", value)
        if match is None:
            raise UnsupportedQuery(f"fake arXiv cannot parse submittedDate range {value!r}")
        low, high = match.group(1)[:12].ljust(12, "0"), match.group(2)[:12].ljust(12, "9")
        return low <= _stamp_digits(paper.published) <= high
    raise UnsupportedQuery(f"fake arXiv does not support the field {term.field!r}")  # pragma: no cover


def search(query: str) -> list[Paper]:
    """Known papers (PAPERS only, never the synthetic ones) matching every term, in data order."""
    terms = parse_query(query)
    return [paper for paper in PAPERS.values() if all(_matches(paper, term) for term in terms)]


# ------------------------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hit:
    paper: Paper
    version: int


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _wrap_title(text: str) -> str:
    return "\n".join(textwrap.wrap(text, width=80, subsequent_indent="  "))


def _wrap_summary(text: str) -> str:
    # The old API started summaries with two spaces and ended them with a newline; arxiv.py keeps both.
    return textwrap.fill(text, width=80, initial_indent="  ") + "\n"


def _feed_query_text(params: dict[str, str], start: int, max_results: int) -> str:
    return (
        f"search_query={params.get('search_query', '')}&id_list={params.get('id_list', '')}"
        f"&start={start}&max_results={max_results}"
    )


def _feed_id(query_text: str) -> str:
    digest = hashlib.sha1(query_text.encode()).digest()
    return "https://arxiv.org/api/" + base64.b64encode(digest).decode().rstrip("=")


def _current_entry(hit: _Hit) -> str:
    paper, version = hit.paper, hit.version
    short = f"{paper.arxiv_id}v{version}"
    wrap = paper.old_format  # an old-format record inside a current-format feed keeps its hard-wrapped text
    title = _wrap_title(paper.title) if wrap else paper.title
    summary = _wrap_summary(paper.summary) if wrap else paper.summary
    lines = [
        "  <entry>",
        f"    <id>{escape(paper.entry_id(version))}</id>",
        f"    <title>{escape(title)}</title>",
        f"    <updated>{paper.updated_for(version)}</updated>",
        f'    <link href="https://arxiv.org/abs/{short}" rel="alternate" type="text/html"/>',
        f'    <link href="https://arxiv.org/pdf/{short}" rel="related" type="application/pdf" title="pdf"/>',
        f"    <summary>{escape(summary)}</summary>",
    ]
    lines += [f'    <category term={quoteattr(c)} scheme="{ARXIV_NS}"/>' for c in paper.categories]
    lines.append(f"    <published>{paper.published}</published>")
    if paper.comment:
        lines.append(f"    <arxiv:comment>{escape(paper.comment)}</arxiv:comment>")
    lines.append(f"    <arxiv:primary_category term={quoteattr(paper.primary_category)}/>")
    if paper.journal_ref:
        lines.append(f"    <arxiv:journal_ref>{escape(paper.journal_ref)}</arxiv:journal_ref>")
    for author in paper.authors:
        lines += ["    <author>", f"      <name>{escape(author)}</name>"]
        lines += [
            f"      <arxiv:affiliation>{escape(aff)}</arxiv:affiliation>"
            for aff in paper.affiliations_of(author)
        ]
        lines.append("    </author>")
    if paper.doi:
        lines.append(f"    <arxiv:doi>{escape(paper.doi)}</arxiv:doi>")
        href = quoteattr("https://doi.org/" + paper.doi)
        lines.append(f'    <link href={href} rel="related" title="doi"/>')
    lines.append("  </entry>")
    return "\n".join(lines)


def _old_entry(hit: _Hit) -> str:
    paper, version = hit.paper, hit.version
    short = f"{paper.arxiv_id}v{version}"
    ns = f'xmlns:arxiv="{ARXIV_NS}"'
    lines = [
        "  <entry>",
        f"    <id>{escape(paper.entry_id(version))}</id>",
        f"    <updated>{paper.updated_for(version)}</updated>",
        f"    <published>{paper.published}</published>",
        f"    <title>{escape(_wrap_title(paper.title))}</title>",
        f"    <summary>{escape(_wrap_summary(paper.summary))}</summary>",
    ]
    for author in paper.authors:
        lines += ["    <author>", f"      <name>{escape(author)}</name>"]
        lines += [
            f"      <arxiv:affiliation {ns}>{escape(aff)}</arxiv:affiliation>"
            for aff in paper.affiliations_of(author)
        ]
        lines.append("    </author>")
    if paper.doi:
        lines.append(f"    <arxiv:doi {ns}>{escape(paper.doi)}</arxiv:doi>")
        href = quoteattr("http://dx.doi.org/" + paper.doi)
        lines.append(f'    <link title="doi" href={href} rel="related"/>')
    if paper.comment:
        lines.append(f"    <arxiv:comment {ns}>{escape(paper.comment)}</arxiv:comment>")
    if paper.journal_ref:
        lines.append(f"    <arxiv:journal_ref {ns}>{escape(paper.journal_ref)}</arxiv:journal_ref>")
    lines += [
        f'    <link href="http://arxiv.org/abs/{short}" rel="alternate" type="text/html"/>',
        f'    <link title="pdf" href="http://arxiv.org/pdf/{short}" rel="related" type="application/pdf"/>',
        f'    <arxiv:primary_category {ns} term={quoteattr(paper.primary_category)} scheme="{ARXIV_NS}"/>',
    ]
    lines += [f'    <category term={quoteattr(c)} scheme="{ARXIV_NS}"/>' for c in paper.categories]
    lines.append("  </entry>")
    return "\n".join(lines)


def current_feed(
    params: dict[str, str], hits: Sequence[_Hit], total: int, start: int, max_results: int
) -> str:
    query_text = _feed_query_text(params, start, max_results)
    link = (
        f"https://arxiv.org/api/query?search_query={params.get('search_query', '')}&start={start}"
        f"&max_results={max_results}&id_list={params.get('id_list', '')}"
    )
    head = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f'<feed xmlns:opensearch="{OPENSEARCH_NS}" xmlns:arxiv="{ARXIV_NS}" xmlns="{ATOM_NS}">',
        f"  <id>{_feed_id(query_text)}</id>",
        f"  <title>arXiv Query: {escape(query_text)}</title>",
        f"  <updated>{_now()}</updated>",
        f'  <link href={quoteattr(link)} type="application/atom+xml"/>',
        f"  <opensearch:itemsPerPage>{max_results}</opensearch:itemsPerPage>",
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>",
        f"  <opensearch:startIndex>{start}</opensearch:startIndex>",
    ]
    return "\n".join([*head, *(_current_entry(hit) for hit in hits), "</feed>"]) + "\n"


def old_feed(params: dict[str, str], hits: Sequence[_Hit], total: int, start: int, max_results: int) -> str:
    query_text = _feed_query_text(params, start, max_results)
    ns = f'xmlns:opensearch="{OPENSEARCH_NS}"'
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<feed xmlns="{ATOM_NS}">',
        f'  <link href={quoteattr("http://arxiv.org/api/query?" + quote(query_text, safe=""))} rel="self" '
        'type="application/atom+xml"/>',
        f'  <title type="html">ArXiv Query: {escape(query_text)}</title>',
        f"  <id>{_feed_id(query_text).replace('https://', 'http://')}</id>",
        f"  <updated>{time.strftime('%Y-%m-%dT00:00:00-04:00', time.gmtime())}</updated>",
        f"  <opensearch:totalResults {ns}>{total}</opensearch:totalResults>",
        f"  <opensearch:startIndex {ns}>{start}</opensearch:startIndex>",
        f"  <opensearch:itemsPerPage {ns}>{max_results}</opensearch:itemsPerPage>",
    ]
    return "\n".join([*head, *(_old_entry(hit) for hit in hits), "</feed>"]) + "\n"


def error_feed(key: str, message: str) -> str:
    """arXiv's error document (sent with HTTP 400): one entry with no <published>, so arxiv.py skips it."""
    error_id = f"https://arxiv.org/api/errors#{key}"
    now = _now()
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f'<feed xmlns:opensearch="{OPENSEARCH_NS}" xmlns:arxiv="{ARXIV_NS}" xmlns="{ATOM_NS}">\n'
        "  <id>https://arxiv.org/</id>\n  <title>arXiv Search Results</title>\n"
        f"  <updated>{now}</updated>\n"
        "  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n  "
        "<opensearch:totalResults>1</opensearch:totalResults>\n  "
        "<opensearch:startIndex>0</opensearch:startIndex>\n  <entry>\n"
        f"    <id>{escape(error_id)}</id>\n"
        "    <title>Error</title>\n"
        f"    <updated>{now}</updated>\n"
        f'    <link href={quoteattr(error_id)} rel="alternate" type="text/html"/>\n'
        f"    <summary>{escape(message)}</summary>\n"
        "    <author>\n      <name>arXiv api core</name>\n    </author>\n  </entry>\n</feed>\n"
    )


_SORT_KEYS = {"submittedDate": "published", "lastUpdatedDate": "updated"}


def _bad_request(key: str, message: str) -> tuple[int, str, str]:
    # Only the malformed-id case is recorded from the real API; the other messages are this fake's own.
    return 400, ATOM_CONTENT_TYPE, error_feed(key, message)


def answer(params: dict[str, str]) -> tuple[int, str, str]:
    """(status, content type, body) of arXiv's normal answer to a query; raises UnsupportedQuery."""
    try:
        start = int(params.get("start") or 0)
        max_results = int(params.get("max_results") or 10)  # arXiv's documented default
    except ValueError:
        return _bad_request(
            "start_and_max_results_must_be_integers", "start and max_results must be integers"
        )
    if start < 0 or max_results < 0:
        return _bad_request("start_must_be_non_negative", "start and max_results must be non-negative")
    sort_by = params.get("sortBy") or "relevance"
    sort_order = params.get("sortOrder") or "descending"
    if sort_by not in ("relevance", *_SORT_KEYS) or sort_order not in ("ascending", "descending"):
        return _bad_request("unknown_sort", f"unknown sortBy/sortOrder {sort_by}/{sort_order}")

    raw_ids = [item.strip() for item in params.get("id_list", "").split(",") if item.strip()]
    query = params.get("search_query", "").strip()
    hits: list[_Hit] = []
    if raw_ids:
        seen: set[str] = set()
        for raw in raw_ids:
            parsed = parse_id(raw)
            if parsed is None:
                return _bad_request(f"incorrect_id_format_for_{raw}", f"incorrect id format for {raw}")
            if raw in seen:
                continue
            seen.add(raw)
            base, version = parsed
            paper = lookup(base)
            if paper is None or (version is not None and not 1 <= version <= paper.versions):
                continue  # well-formed but nonexistent: arXiv just leaves it out
            hits.append(_Hit(paper, version or paper.versions))
        if query:  # both given: arXiv filters the listed ids by the query
            wanted = {paper.arxiv_id for paper in search(query)}
            hits = [hit for hit in hits if hit.paper.arxiv_id in wanted]
    elif query:
        hits = [_Hit(paper, paper.versions) for paper in search(query)]

    if sort_by in _SORT_KEYS:
        attribute = _SORT_KEYS[sort_by]
        hits.sort(key=lambda hit: getattr(hit.paper, attribute), reverse=sort_order == "descending")

    page = hits[start : start + max_results]
    old = bool(hits) and all(hit.paper.old_format for hit in hits)
    render = old_feed if old else current_feed
    return 200, ATOM_CONTENT_TYPE, render(params, page, len(hits), start, max_results)


# ------------------------------------------------------------------------------------------------------------
# Server
# ------------------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _FakeHTTPServer
    server_version = "FakeArxiv/1.0"
    # HTTP/1.0: one request per connection, so no idle keep-alive threads outlive a test.
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle(b"")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self._handle(self.rfile.read(length))

    def _handle(self, body: bytes) -> None:
        received = time.monotonic()
        state = self.server.fake
        split = urlsplit(self.path)
        params = {name: values[0] for name, values in parse_qs(split.query, keep_blank_values=True).items()}
        if body:
            form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
            params.update({name: values[0] for name, values in form.items()})
        headers = {name.lower(): value for name, value in self.headers.items()}
        failure = state._record(SeenRequest(received, split.path, params, headers, self.command))

        if failure is not None and failure.delay > 0 and state._stopping.wait(failure.delay):
            return  # the server is stopping: drop the connection instead of answering late

        extra: tuple[tuple[str, str], ...] = ()
        if failure is None or failure.answer_normally or failure.truncate:
            status, content_type, text = self._normal_answer(split.path, params)
            payload = text.encode("utf-8")
            if failure is not None:
                extra = failure.headers
                if failure.truncate:
                    payload = payload[: len(payload) // 2]
        else:
            status, content_type, extra = failure.status, failure.content_type, failure.headers
            payload = (failure.body or f"{failure.status} {_reason(failure.status)}\n").encode("utf-8")
        self._send(status, content_type, payload, extra)

    @staticmethod
    def _normal_answer(path: str, params: dict[str, str]) -> tuple[int, str, str]:
        if path != "/api/query":
            return 404, "text/plain; charset=utf-8", f"fake arXiv serves only /api/query, not {path}\n"
        try:
            return answer(params)
        except UnsupportedQuery as exc:
            return 501, "text/plain; charset=utf-8", f"{exc}\n"

    def _send(
        self, status: int, content_type: str, payload: bytes, extra: tuple[tuple[str, str], ...]
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its read timeout fired during a slow() answer)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class _FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: ArxivServer


class ArxivServer:
    """Starts serving on 127.0.0.1 (a free port) as soon as it is created; ``stop()`` ends it."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[SeenRequest] = []
        self._failures: deque[Failure] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _FakeHTTPServer((host, 0), _Handler)
        self._httpd.fake = self
        port = self._httpd.server_address[1]
        self.url = f"http://{host}:{port}/api/query"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-arxiv-{port}",
            daemon=True,
        )
        self._thread.start()

    def set_failures(self, *responses: Failure) -> None:
        """The next len(responses) requests get these, in order; then normal service resumes."""
        with self._lock:
            self._failures = deque(responses)

    @property
    def pending_failures(self) -> int:
        """How many queued failures no request has consumed yet."""
        with self._lock:
            return len(self._failures)

    def _record(self, request: SeenRequest) -> Failure | None:
        with self._lock:
            self.requests.append(request)
            return self._failures.popleft() if self._failures else None

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()  # wakes handlers sleeping in a slow() answer
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ArxivServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@pytest.fixture(name="arxiv_server")
def arxiv_server_fixture() -> Iterator[ArxivServer]:
    """A fresh fake arXiv for one test. Point a client at ``arxiv_server.url``."""
    server = ArxivServer()
    try:
        yield server
    finally:
        server.stop()


# Both names register the fixture `arxiv_server`. Importing `arxiv_server_fixture` keeps ruff quiet: importing
# `arxiv_server` itself into a test module makes every test parameter of that name an F811 redefinition.
arxiv_server = arxiv_server_fixture


__all__ = [
    "ATOM_CONTENT_TYPE",
    "MISSING_RANGE",
    "PAPERS",
    "SYNTHETIC_RANGE",
    "ArxivServer",
    "Failure",
    "Paper",
    "SeenRequest",
    "UnsupportedQuery",
    "answer",
    "arxiv_server",
    "arxiv_server_fixture",
    "html_page",
    "lookup",
    "parse_id",
    "rate_limited",
    "search",
    "slow",
    "synthetic_paper",
    "truncated",
    "unavailable",
]
