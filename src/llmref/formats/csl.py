"""CSL-JSON (Citation Style Language) export and import, for pandoc, Zotero and citeproc; pure.

Items follow the CSL-JSON schema (citationstyles.org, csl-data.json): ``id`` is the citation
key, ``type`` one of CSL's item types, names are ``{"family", "given"}`` objects and dates
``{"date-parts": [[year, month, day]]}``. The decisions:

* **Types.** ``paper-conference`` and ``article-journal`` when the record appeared at a
  conference or in a journal (the same venue rules as the BibTeX exporter, see
  :mod:`llmref.formats.bibtex`), and ``article`` for everything else that is a paper — CSL's type
  for preprints and working papers (CSL has no "preprint" type). Other kinds: ``software`` for
  models, projects and tools, ``dataset``, ``post-weblog`` for blogs, ``webpage`` for articles
  and demos. A record imported from BibTeX keeps the CSL type of its entry type.
* **arXiv preprints** are written the way Zotero exports its "Preprint" items: type ``article``,
  ``publisher`` "arXiv", ``number`` "arXiv:2106.09685", ``DOI`` arXiv's own DataCite DOI
  ``10.48550/arXiv.2106.09685`` (which exists for every arXiv paper) unless the record has a DOI,
  and ``URL`` the abstract page. ``issued`` has the month and day of ``published`` (the v1 date)
  when that date is in the record's year; every other item has just the year.
* **Names.** Particles stay in ``family`` ("van der Wal"), as Zotero writes them; a single name
  is ``{"family": "Dao"}``; an organisation is ``{"literal": "Gemini Team"}``. CSL has no
  "and others": a truncated author list is exported as far as it is known, with nothing added.
* **Other fields:** ``container-title`` (the venue), ``publisher`` (an unrecognised venue of a
  paper, as ``howpublished`` in BibTeX), ``URL`` (the Anthology page, else the most relevant
  link), ``keyword`` (the tags, comma-separated, as CSL's single string), ``abstract``.

:func:`from_csl` is the inverse: names become "Given Family", ``issued`` gives the year (and
``published`` for an arXiv preprint with a full date), an arXiv id is recognised from ``number``,
``URL`` or ``DOI`` (arXiv's DOI is then not kept as the record's DOI), an ACL Anthology id from
``URL`` or ``DOI``, ``container-title`` (or a publisher other than arXiv) becomes the venue and
``keyword`` the tags. Exporting what it reads gives the same items back for every field above;
a month without a day has no place in a record and is dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from ..ids import parse_acl, parse_arxiv, parse_doi
from ..keys import sort_key
from ..models import Record
from .bibtex import (
    anthology_url,
    arxiv_url,
    main_url,
    name_parts,
    preprint_month,
    published_date,
    venue_of,
    year_of,
)

_KIND_TYPES = {
    "model": "software",
    "project": "software",
    "tool": "software",
    "dataset": "dataset",
    "blog": "post-weblog",
    "article": "webpage",
    "demo": "webpage",
}
_TYPE_KINDS = {"software": "project", "dataset": "dataset", "post-weblog": "blog", "webpage": "article"}
# BibTeX entry types and CSL types that name the same thing (as pandoc maps them).
_ENTRY_TYPES = {
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "article": "article-journal",
    "book": "book",
    "incollection": "chapter",
    "inbook": "chapter",
    "techreport": "report",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "unpublished": "manuscript",
}
# Types whose venue is the work they appear in; for the rest it is who published them.
_CONTAINED = frozenset({"paper-conference", "article-journal", "chapter"})
_TYPE_ENTRIES = {
    "paper-conference": "inproceedings",
    "article-journal": "article",
    "book": "book",
    "chapter": "incollection",
    "report": "techreport",
    "thesis": "phdthesis",
    "manuscript": "unpublished",
}


def _squash(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# Export.


def to_csl(records: Iterable[Record]) -> list[dict[str, Any]]:
    """CSL-JSON items, sorted by key; every record needs a key, and keys must be unique."""
    records = list(records)
    missing = [r.title for r in records if not r.key]
    if missing:
        raise ValueError(f"record(s) without a citation key: {missing[:3]}")
    counts = Counter(r.key for r in records)
    duplicates = sorted(str(k) for k, n in counts.items() if n > 1)
    if duplicates:
        raise ValueError(f"duplicate citation key(s): {', '.join(duplicates)}")
    return [item(r) for r in sorted(records, key=lambda r: sort_key(r.key or ""))]


def item(record: Record) -> dict[str, Any]:
    """One CSL-JSON item; fields with no value are left out."""
    venue = venue_of(record)
    csl_type = csl_type_of(record)
    out: dict[str, Any] = {"id": record.key, "type": csl_type, "title": _squash(record.title)}
    authors = [_csl_name(a) for a in record.authors if a.replace(",", " ").strip()]
    if authors:
        out["author"] = authors
    issued = _issued(record)
    if issued:
        out["issued"] = {"date-parts": [issued]}
    preprint = record.kind == "paper" and venue.kind == "preprint" and csl_type == "article"
    if venue.name and (record.kind == "paper" or record.entry_type):
        out["container-title" if csl_type in _CONTAINED else "publisher"] = venue.name
    if preprint and record.arxiv_id:
        out["publisher"] = "arXiv"
        out["number"] = f"arXiv:{record.arxiv_id}"
    doi = record.doi or (f"10.48550/arXiv.{record.arxiv_id}" if preprint else None)
    if doi:
        out["DOI"] = doi
    url = _url(record, preprint)
    if url:
        out["URL"] = url
    if record.tags:
        out["keyword"] = ", ".join(_squash(t) for t in record.tags)
    if record.abstract and record.abstract.strip():
        out["abstract"] = _squash(record.abstract)
    return out


def csl_type_of(record: Record) -> str:
    """The CSL item type llmref writes for ``record``."""
    if record.entry_type and record.entry_type.lower() in _ENTRY_TYPES:
        return _ENTRY_TYPES[record.entry_type.lower()]
    if record.kind != "paper":
        return _KIND_TYPES[record.kind]
    kind = venue_of(record).kind
    return {"conference": "paper-conference", "journal": "article-journal"}.get(kind, "article")


def _csl_name(name: str) -> dict[str, str]:
    parts = name_parts(name)
    if parts.literal:
        return {"literal": parts.family}
    out = {"family": parts.family}
    if parts.given:
        out["given"] = parts.given
    if parts.suffix:
        out["suffix"] = parts.suffix
    return out


def _issued(record: Record) -> list[int]:
    venue = venue_of(record)
    year = year_of(record, venue)
    if year is None:
        return []
    month = preprint_month(record, venue)
    date = published_date(record)
    if not month or date is None:
        return [year]
    return [year, month] if date[2] is None else [year, month, date[2]]


def _url(record: Record, preprint: bool) -> str | None:
    if record.acl_id:
        return anthology_url(record.acl_id)
    if preprint and record.arxiv_id:
        return arxiv_url(record.arxiv_id)
    link = main_url(record)
    if link:
        return link
    return arxiv_url(record.arxiv_id) if record.arxiv_id else None


# ---------------------------------------------------------------------------------------------
# Import.


def from_csl(items: list[dict[str, Any]]) -> list[Record]:
    """Records for CSL-JSON items, in order; keys come from ``id``."""
    return [record_from_csl(i) for i in items]


def _listed(authors: Any) -> list[Any]:
    # Hand-written CSL sometimes gives one name on its own: a plain string or one name object.
    if isinstance(authors, str):
        return [{"literal": authors}]
    if isinstance(authors, dict):
        return [authors]
    if authors is not None and not isinstance(authors, list):
        raise ValueError("'author' must be a list of names")
    return [a for a in authors or [] if isinstance(a, dict | str)]


def _keywords(value: Any) -> list[str]:
    # CSL's keyword is one comma-separated string; some tools write a list.
    if isinstance(value, list):
        return [str(v) for v in value]
    return (_text(value) or "").split(",")


def record_from_csl(data: dict[str, Any]) -> Record:
    """One record from one CSL-JSON item (see the module docstring for the mapping)."""
    csl_type = str(data.get("type") or "article")
    ids = _identifiers(data)
    date = _date_parts(data.get("issued"))
    year = date[0] if date else None
    published = None
    if csl_type == "article" and ids["arxiv_id"] and len(date) == 3:
        published = f"{date[0]:04d}-{date[1]:02d}-{date[2]:02d}"
    url = _text(data.get("URL"))
    return Record(
        key=_text(data.get("id")),
        kind=_TYPE_KINDS.get(csl_type, "paper"),
        title=_text(data.get("title")) or "",
        authors=tuple(n for n in (_name_from_csl(n) for n in _listed(data.get("author"))) if n),
        year=year,
        venue=_venue(data),
        urls=(("url", url),) if url else (),
        tags=tuple(t.strip() for t in _keywords(data.get("keyword")) if t.strip()),
        abstract=_text(data.get("abstract")),
        published=published,
        entry_type=_TYPE_ENTRIES.get(csl_type),
        **ids,
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = _squash(str(value))
    return text or None


def _identifiers(data: dict[str, Any]) -> dict[str, Any]:
    """arXiv id, ACL id and DOI from ``number``, ``URL`` and ``DOI``; arXiv's DOI is its id."""
    doi = _text(data.get("DOI"))
    candidates = [_text(data.get(f)) for f in ("number", "URL", "DOI")]
    arxiv = [found for found in (parse_arxiv(c) for c in candidates if c) if found]
    arxiv_id = arxiv[0][0] if arxiv else None
    # Zotero's number has no version; a URL may name the version that was read.
    version = next((v for i, v in arxiv if i == arxiv_id and v), None)
    acl = next((parse_acl(c) for c in candidates[1:] if c and parse_acl(c)), None)
    if doi and parse_arxiv(doi):
        doi = None
    elif doi and parse_doi(doi):
        # Keep the DOI as written, minus a resolver prefix: DOIs are case-insensitive.
        doi = doi[doi.lower().index("10.") :]
    return {
        "arxiv_id": arxiv_id,
        "arxiv_version": version,
        "acl_id": acl,
        "doi": doi,
    }


#: What a date's year, month and day may be; a date stops at the first part out of its range.
_DATE_RANGES = ((1000, 9999), (1, 12), (1, 31))


def _date_parts(issued: Any) -> list[int]:
    """``{"date-parts": [[2021, 6, 17]]}`` → [2021, 6, 17], as far as the parts make a date."""
    if not isinstance(issued, dict):
        return []
    parts = issued.get("date-parts")
    first = parts[0] if isinstance(parts, list) and parts and isinstance(parts[0], list) else []
    date: list[int] = []
    for part, (low, high) in zip(first, _DATE_RANGES, strict=False):  # as many parts as given
        try:
            number = int(part)
        except (TypeError, ValueError, OverflowError):
            break
        if not low <= number <= high:
            break
        date.append(number)
    return date


def _venue(data: dict[str, Any]) -> str | None:
    container = _text(data.get("container-title"))
    if container:
        return container
    publisher = _text(data.get("publisher"))
    return publisher if publisher and publisher.lower() != "arxiv" else None


def _name_from_csl(name: Any) -> str:
    """ "Given Family" (with particles and suffix) from a CSL name object."""
    if not isinstance(name, dict):
        return _text(name) or ""
    if name.get("literal"):
        return _text(name["literal"]) or ""
    keys = ("given", "dropping-particle", "non-dropping-particle", "family", "suffix")
    return " ".join(t for t in (_text(name.get(k)) for k in keys) if t)
