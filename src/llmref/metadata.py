"""Filling the library from arXiv: add, refresh, resolve and discover.

Everything is fetched first and written afterwards in one transaction, so a network failure
half way leaves the library as it was. What arXiv says replaces bibliographic fields (title,
authors, abstract, dates, categories…); what the user curated — key, tags, notes, models,
tasks, datasets, section, a venue or year already set — is never overwritten.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from .errors import UsageError
from .ids import parse_arxiv
from .models import Record
from .text import add_paragraph, merge_names, normalise_title

if TYPE_CHECKING:
    from .sources.arxiv import ArxivEntry, ArxivSource
    from .store.library import Library

#: Told how far a long job has got: (items done so far, items in all).
Progress = Callable[[int, int], None]

ACCEPTED_FORMS = (
    "2106.09685, 2106.09685v2, arXiv:2106.09685, https://arxiv.org/abs/2106.09685v2, "
    "https://arxiv.org/pdf/2106.09685.pdf, hep-th/9901001, math.GT/0309136, 10.48550/arXiv.2106.09685"
)
#: Fields a metadata refresh may change; everything else belongs to the user.
FETCHED_FIELDS = (
    "title", "authors", "authors_truncated", "abstract", "arxiv_id", "arxiv_version", "doi", "urls",
    "published", "updated", "primary_category", "categories", "comment", "journal_ref", "year",
)  # fmt: skip


@dataclass(frozen=True)
class Curation:
    """What the user asked to put on the records being added (``llmref add --tag …``)."""

    tags: tuple[str, ...] = ()
    notes: str = ""
    section: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()

    def apply(self, record: Record) -> Record:
        notes = (
            record.notes if self.notes.strip() in record.notes else add_paragraph(record.notes, self.notes)
        )
        return record.with_(
            tags=merge_names(record.tags, self.tags),
            models=merge_names(record.models, self.models),
            tasks=merge_names(record.tasks, self.tasks),
            section=record.section or self.section,
            notes=notes,
        )


@dataclass(frozen=True)
class Outcome:
    status: str  # added, updated, unchanged, not found, failed
    ref: str
    key: str | None = None
    title: str | None = None
    reason: str | None = None


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


@dataclass(frozen=True)
class Change:
    key: str
    fields: tuple[tuple[str, object, object], ...]  # (field, before, after)


# -- reading what users paste ------------------------------------------------------------------


def arxiv_ids(refs: Iterable[str]) -> list[tuple[str, str]]:
    """``(ref, id without version)`` for each ref, in order, once per id; malformed refs are
    rejected together, before anything goes over the network."""
    parsed: dict[str, str] = {}
    bad = []
    for ref in refs:
        found = parse_arxiv(ref)
        if found is None:
            bad.append(ref)
        else:
            parsed.setdefault(found[0], ref)
    if bad:
        shown = ", ".join(repr(b) for b in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise UsageError(f"Not an arXiv identifier: {shown}.", f"Accepted forms: {ACCEPTED_FORMS}.")
    if not parsed:
        raise UsageError("No arXiv identifiers given.", "llmref add 2106.09685 (or --from-file ids.txt)")
    return [(ref, arxiv_id) for arxiv_id, ref in parsed.items()]


def refs_from_lines(lines: Iterable[str]) -> list[str]:
    """One ref a line; blank lines and ``#`` comments (whole-line or trailing) are skipped."""
    refs = []
    for line in lines:
        text = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
        if text:
            refs.append(text)
    return refs


# -- turning arXiv's answer into records ---------------------------------------------------------


def record_from_entry(entry: ArxivEntry) -> Record:
    return Record(
        title=entry.title,
        authors=entry.authors,
        year=int(entry.published[:4]),
        venue="arXiv" if not entry.journal_ref else None,
        arxiv_id=entry.arxiv_id,
        arxiv_version=entry.version,
        doi=entry.doi,
        urls=(("abs", entry.abs_url), ("pdf", entry.pdf_url)),
        abstract=entry.abstract or None,
        published=entry.published,
        updated=entry.updated,
        primary_category=entry.primary_category,
        categories=entry.categories,
        comment=entry.comment,
        journal_ref=entry.journal_ref,
    )


def merge(existing: Record, entry: ArxivEntry) -> Record:
    """``existing`` with arXiv's bibliographic fields; curated fields and a set venue/year stay."""
    fetched = record_from_entry(entry)
    return existing.with_(
        title=fetched.title,
        authors=fetched.authors,
        authors_truncated=False,
        abstract=fetched.abstract or existing.abstract,
        year=existing.year or fetched.year,
        arxiv_id=fetched.arxiv_id,
        arxiv_version=fetched.arxiv_version,
        doi=existing.doi or fetched.doi,
        urls=_with_arxiv_links(existing.urls, entry),
        published=fetched.published,
        updated=fetched.updated,
        primary_category=fetched.primary_category,
        categories=fetched.categories,
        comment=fetched.comment,
        journal_ref=fetched.journal_ref,
    )


def _with_arxiv_links(urls: tuple[tuple[str, str], ...], entry: ArxivEntry) -> tuple[tuple[str, str], ...]:
    """Add arXiv's abs and PDF links, unless the record already links to that page of the paper."""
    links = list(urls)
    styles = {
        ("pdf" if "/pdf/" in url else "abs")
        for _, url in urls
        if (parse_arxiv(url) or ("",))[0] == entry.arxiv_id
    }
    for style, url in (("abs", entry.abs_url), ("pdf", entry.pdf_url)):
        if style not in styles:
            taken = {label for label, _ in links}
            label = style if style not in taken else f"arxiv-{style}"
            if label not in taken:
                links.append((label, url))
    return tuple(links)


def changes(before: Record, after: Record) -> tuple[tuple[str, object, object], ...]:
    return tuple(
        (f.name, getattr(before, f.name), getattr(after, f.name))
        for f in fields(Record)
        if getattr(before, f.name) != getattr(after, f.name)
    )


# -- use cases -------------------------------------------------------------------------------------


def add(
    library: Library,
    refs: Sequence[str],
    source: ArxivSource,
    curation: Curation = Curation(),
    progress: Progress | None = None,
) -> Report:
    """Add papers by arXiv id; a paper already in the library is updated, never duplicated."""
    wanted = arxiv_ids(refs)
    entries = source.fetch([arxiv_id for _, arxiv_id in wanted], progress=progress)
    found = [(ref, entries[arxiv_id]) for ref, arxiv_id in wanted if arxiv_id in entries]
    report = add_entries(library, found, curation)
    report.outcomes.extend(
        Outcome("not found", ref, reason="arXiv has no paper with this id")
        for ref, arxiv_id in wanted
        if arxiv_id not in entries
    )
    return report


def add_entries(
    library: Library, entries: Sequence[tuple[str, ArxivEntry]], curation: Curation = Curation()
) -> Report:
    """Store fetched entries (``(what the user wrote, entry)``) in one transaction."""
    report = Report()
    with library.transaction():
        for ref, entry in entries:
            report.outcomes.append(_store(library, ref, entry, curation))
    return report


def _store(library: Library, ref: str, entry: ArxivEntry, curation: Curation) -> Outcome:
    fetched = record_from_entry(entry)
    try:
        with library.transaction():  # a savepoint: one failing paper does not undo the others
            existing = library.matching(fetched)
            if existing is None:
                stored = library.insert(curation.apply(fetched))
                return Outcome("added", ref, stored.key, stored.title)
            updated = curation.apply(merge(existing, entry))
            if updated == existing:
                return Outcome("unchanged", ref, existing.key, existing.title)
            library.save(updated)
            return Outcome("updated", ref, existing.key, updated.title)
    except UsageError as exc:
        return Outcome("failed", ref, title=entry.title, reason=exc.message)


def refresh(
    library: Library,
    refs: Sequence[str],
    source: ArxivSource,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> tuple[list[Change], list[Outcome]]:
    """Fetch arXiv's metadata again for records (every record with an arXiv id when ``refs`` is
    empty); returns what changed, field by field, and what could not be refreshed."""
    records = [library.find(ref) for ref in refs] if refs else library.with_identifier("arxiv")
    problems = [
        Outcome("failed", r.key or "", r.key, r.title, "it has no arXiv id")
        for r in records
        if not r.arxiv_id
    ]
    records = [r for r in records if r.arxiv_id]
    entries = source.fetch([r.arxiv_id for r in records if r.arxiv_id], progress=progress)
    found: list[Change] = []
    # Written (or, for a dry run, tried and rolled back) record by record, each re-read inside
    # the transaction: an edit made while arXiv was answering is kept, and a clash with
    # another record fails that record alone.
    with library.transaction(keep=not dry_run):
        for record in records:
            entry = entries.get(record.arxiv_id or "")
            if entry is None:
                problems.append(
                    Outcome("not found", record.key or "", record.key, record.title, "arXiv does not know it")
                )
                continue
            result = _apply(library, record.key or "", lambda current, e=entry: merge(current, e))
            if isinstance(result, Outcome):
                problems.append(result)
            elif result.fields:
                found.append(result)
    return found, problems


def resolve(
    library: Library,
    refs: Sequence[str],
    source: ArxivSource,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> tuple[list[Outcome], list[Outcome]]:
    """Find arXiv ids for papers that have none, linking only confident matches.

    A match is confident when arXiv's title, normalised, equals the record's and the year (if
    the record has one) is within a year of arXiv's first version. Returns (linked, the rest).
    """
    records = [library.find(ref) for ref in refs] if refs else library.list()
    todo = [r for r in records if r.kind == "paper" and not r.arxiv_id]
    matches: list[tuple[Record, ArxivEntry]] = []
    unresolved: list[Outcome] = []
    for done, record in enumerate(todo, 1):
        query = 'ti:"' + " ".join(normalise_title(record.title).split()) + '"'
        candidates = source.search(query, max_results=5)
        match = next((e for e in candidates if _confident(record, e)), None)
        if match is None:
            reason = (
                f"closest: {candidates[0].title!r} ({candidates[0].arxiv_id})" if candidates else "no result"
            )
            unresolved.append(Outcome("not found", record.key or "", record.key, record.title, reason))
        else:
            matches.append((record, match))
        if progress:
            progress(done, len(todo))
    linked: list[Outcome] = []
    with library.transaction(keep=not dry_run):
        for record, entry in matches:
            result = _apply(library, record.key or "", lambda current, e=entry: merge(current, e))
            if isinstance(result, Outcome):
                unresolved.append(result)
            else:
                linked.append(
                    Outcome("updated", record.key or "", record.key, entry.title, f"arXiv {entry.arxiv_id}")
                )
    return linked, unresolved


def _apply(library: Library, key: str, change: Callable[[Record], Record]) -> Change | Outcome:
    """Change the record as stored now, in a savepoint; a clash makes a failed outcome."""
    try:
        with library.transaction():
            current = library.find(key)
            after = change(current)
            if after != current:
                library.save(after)
            return Change(key, changes(current, after))
    except UsageError as exc:
        return Outcome("failed", key, key, None, exc.message)


def _confident(record: Record, entry: ArxivEntry) -> bool:
    if normalise_title(entry.title) != normalise_title(record.title):
        return False
    return record.year is None or abs(int(entry.published[:4]) - record.year) <= 1


def discovery_query(
    words: str, *, author: str | None = None, category: str | None = None, since: int | None = None
) -> str:
    """An arXiv ``search_query`` for words in title, abstract or authors, narrowed by the options."""
    parts = []
    text = " ".join(words.replace('"', " ").split())
    if text:
        parts.append(f'all:"{text}"' if " " in text else f"all:{text}")
    if author:
        name = " ".join(author.replace('"', " ").split())
        parts.append(f'au:"{name}"' if " " in name else f"au:{name}")
    if category:
        parts.append(f"cat:{category.strip()}")
    if since:
        parts.append(f"submittedDate:[{since}01010000 TO 299912312359]")
    if not parts:
        raise UsageError("Nothing to search arXiv for.", 'llmref discover "prefix tuning" --since 2023')
    return " AND ".join(parts)
