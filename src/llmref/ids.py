"""Recognise paper identifiers (arXiv, ACL Anthology, DOI) in the forms people write them; pure.

Every parser takes what a user typed or a list linked (a bare id, a prefixed id, a URL, a DOI)
and returns the canonical id, or ``None`` when the text is not that kind of identifier. Nothing
here touches the network: whether an id exists is for ``sources/`` to find out.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote, urlsplit, urlunsplit

# New-style arXiv ids (April 2007 on) are YYMM.NNNN, and YYMM.NNNNN from January 2015 on
# (https://info.arxiv.org/help/arxiv_identifier.html). Old-style ids are archive[.CLASS]/YYMMNNN.
_ARXIV_ID = r"""
    (?:
        (?P<yymm>\d{4})\.(?P<seq>\d{4,5})
      | (?P<archive>[a-z]+(?:-[a-z]+)*)(?:\.(?P<cls>[a-z]{2}))?/(?P<old>\d{7})
    )
    (?:v(?P<version>[0-9]{1,4}))?
"""
_ARXIV = re.compile(
    rf"""^(?:
        arxiv:\s*
      | (?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/
      | (?:(?:https?://)?(?:dx\.|www\.)?doi\.org/|doi:\s*)?10\.48550/arxiv\.
    )?{_ARXIV_ID}(?:\.pdf)?/?(?:[?#]\S*)?$""",
    re.IGNORECASE | re.VERBOSE,
)
_NEW_STYLE_START = 704  # 0704.0001 is the first new-style id
_FIVE_DIGIT_START = 1501

# ACL Anthology ids: 2021.acl-long.353 (2020 on), P19-1001 (before). The DOI prefix 10.18653/v1/
# is the Anthology's own, so its DOIs carry the id verbatim.
_ACL_ID = r"(?P<id>\d{4}\.[a-z0-9]+(?:-[a-z0-9]+)*\.\d+|[a-z]\d{2}-\d{4})(?:v\d+)?"
_ACL = re.compile(
    rf"""^(?:
        (?:https?://)?(?:www\.)?aclanthology\.org/
      | (?:https?://)?(?:www\.)?aclweb\.org/anthology/(?:[a-z]/[a-z]\d{{2}}/)?
      | (?:(?:https?://)?(?:dx\.|www\.)?doi\.org/|doi:\s*)?10\.18653/v1/
    )?{_ACL_ID}(?:\.pdf|\.bib|\.xml)?/?$""",
    re.IGNORECASE | re.VERBOSE,
)

_DOI = re.compile(
    r"^(?:doi:\s*|(?:https?://)?(?:dx\.|www\.)?doi\.org/|https?://[^/]+/doi/(?:abs/|full/|pdf/|epdf/)?)?"
    r"(?P<doi>10\.\d{4,9}/\S+)$",
    re.IGNORECASE,
)
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)


@lru_cache(maxsize=256)
def parse_arxiv(text: str) -> tuple[str, int | None] | None:
    """The arXiv id (without version) and the version written, from an id, ``arXiv:`` id, URL or DOI."""
    # Cached for the few just parsed: a paper of a large load has its id read, then checked
    # again when it is written (see store.library._implies_links).
    match = _ARXIV.match(text.strip())
    if not match:
        return None
    version = int(match["version"]) if match["version"] else None
    if match["yymm"]:
        if not _valid_new_style(match["yymm"], match["seq"]):
            return None
        return f"{match['yymm']}.{match['seq']}", version
    if not _valid_month(match["old"][2:4]):
        return None
    # The subject class (math.GT/…) is not part of the identifier: arXiv files the paper under
    # archive/number, and that is what its API answers with.
    return f"{match['archive'].lower()}/{match['old']}", version


def _valid_new_style(yymm: str, seq: str) -> bool:
    if not _valid_month(yymm[2:]) or int(yymm) < _NEW_STYLE_START:
        return False
    return len(seq) == (5 if int(yymm) >= _FIVE_DIGIT_START else 4)


def _valid_month(mm: str) -> bool:
    return 1 <= int(mm) <= 12


def arxiv_year(arxiv_id: str) -> int | None:
    """The year an arXiv id was assigned (its YY digits), for any form :func:`parse_arxiv` accepts."""
    parsed = parse_arxiv(arxiv_id)
    if parsed is None:
        return None
    bare = parsed[0]
    yy = int(bare.split("/")[-1][:2])
    if "/" in bare:
        # Old-style ids started in August 1991 and ended in March 2007.
        return 1900 + yy if yy >= 91 else 2000 + yy
    return 2000 + yy


def parse_acl(text: str) -> str | None:
    """The ACL Anthology id from an id, an aclanthology.org / aclweb.org URL, or an ACL DOI."""
    match = _ACL.match(text.strip())
    if not match:
        return None
    found = match["id"]
    # New ids are lower case (2021.acl-long.353); old ones start with a capital (P19-1001).
    return found.lower() if "." in found else found.upper()


def parse_doi(text: str) -> str | None:
    """A bare, lower-cased DOI from ``10.…``, ``doi:10.…`` or a doi.org (or publisher /doi/) URL."""
    stripped = text.strip()
    match = _DOI.match(stripped)
    if not match:
        return None
    doi = _strip_trailing_punctuation(match["doi"])
    if "://" in stripped:
        doi = unquote(doi).split("#")[0].split("?")[0]
    # DOIs are case-insensitive (DOI Handbook 2.4); lower case makes them comparable.
    return doi.lower() if "/" in doi and not doi.endswith("/") else None


def _strip_trailing_punctuation(doi: str) -> str:
    doi = doi.rstrip(".,;:'\"")
    # A closing bracket is part of the DOI only when the DOI opened it, as in 10.1002/(SICI)….
    pairs = {")": "(", "]": "[", "}": "{"}
    while doi and doi[-1] in pairs and doi.count(doi[-1]) > doi.count(pairs[doi[-1]]):
        doi = doi[:-1].rstrip(".,;:'\"")
    return doi


def parse_identifier(text: str) -> tuple[str, str] | None:
    """Classify what a user typed to find a record: ``("arxiv" | "acl" | "doi" | "url", value)``.

    The arXiv id comes without its version, since a record is one paper across versions. The
    arXiv DOI counts as arXiv and the ACL DOI as ACL, because those ids are what records carry.
    """
    stripped = text.strip()
    if not stripped:
        return None
    arxiv = parse_arxiv(stripped)
    if arxiv:
        return "arxiv", arxiv[0]
    acl = parse_acl(stripped)
    if acl:
        return "acl", acl
    doi = parse_doi(stripped)
    if doi:
        return "doi", doi
    if _URL.match(stripped):
        return "url", normalise_url(stripped)
    return None


# A link with nothing to normalise: lower-case scheme and host without www., a path that does
# not end in a slash, a non-empty query and no fragment.
_NORMAL_URL = re.compile(r"https?://(?!www\.)[a-z0-9.-]+(?::[0-9]+)?(?:/[^\s?#]*[^\s?#/])?(?:\?[^\s#]+)?")


def normalise_url(url: str) -> str:
    """One spelling per link: lower-case scheme and host, no ``www.``, no trailing slash or fragment.

    The path and query keep their case: servers may treat them case-sensitively (GitHub does not,
    arXiv's old ids do).
    """
    url = url.strip()
    if _NORMAL_URL.fullmatch(url):
        return url  # already in that form, as most stored links are
    parts = urlsplit(url)
    host = parts.netloc.lower()
    host = host.removeprefix("www.")
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), host, path, parts.query, ""))
