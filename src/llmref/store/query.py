"""Filters shared by ``search``, ``list`` and (later) ``export``, turned into SQL in one place."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..errors import UsageError
from ..models import check_kind
from ..text import fold

SORTS = ("added", "key", "year", "title")


@dataclass(frozen=True)
class Filters:
    """Each filter narrows the selection; repeated values of one filter must all match."""

    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    venue: str | None = None
    models: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    kind: str | None = None
    #: Each item: arXiv categories of which the record must have one ("cs.CL,cs.LG"); one
    #: ending in "." stands for all of its archive ("cs.").
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind is not None:
            check_kind(self.kind)

    def where(self) -> tuple[str, list[object]]:
        """A WHERE clause over ``records r`` (``1`` when nothing is filtered) and its parameters."""
        clauses: list[str] = []
        params: list[object] = []
        for tag in self.tags:
            clauses.append(_facet_clause("tags", exact=True))
            params.append(tag)
        for model in self.models:
            clauses.append(_facet_clause("models", exact=False))
            params.append(_like(model))
        for task in self.tasks:
            clauses.append(_facet_clause("tasks", exact=False))
            params.append(_like(task))
        for author in self.authors:
            # The family name, or the start of the whole name ("Edward", "Edward Hu"): both
            # index look-ups, and "hu" does not drag in every Zhu and Shuai.
            clauses.append(
                "r.id IN (SELECT ra.record_id FROM record_authors ra JOIN authors a ON a.id = ra.author_id"
                " WHERE a.family = ? OR (a.folded >= ? AND a.folded < ?))"
            )
            name = fold(author)
            params += [name, name, name + _LAST_CHARACTER]
        for wanted in self.categories:
            exact, prefixes = _categories(wanted)
            tests = ["category IN (SELECT value FROM json_each(?))"] if exact else []
            params += [json.dumps(exact)] if exact else []
            for prefix in prefixes:
                tests.append("(category >= ? AND category < ?)")
                params += [prefix, prefix + _LAST_CHARACTER]
            clauses.append(
                f"r.id IN (SELECT record_id FROM record_categories WHERE {' OR '.join(tests) or '0'})"
            )
        if self.year_from is not None:
            clauses.append("r.year >= ?")
            params.append(self.year_from)
        if self.year_to is not None:
            clauses.append("r.year <= ?")
            params.append(self.year_to)
        if self.venue:
            clauses.append("r.venue = ? COLLATE NOCASE")
            params.append(self.venue)
        for section in self.sections:
            clauses.append("EXISTS (SELECT 1 FROM json_each(r.section) WHERE value LIKE ? ESCAPE '\\')")
            params.append(_like(section))
        if self.kind:
            clauses.append("r.kind = ?")
            params.append(self.kind)
        return (" AND ".join(clauses) or "1"), params


NO_FILTERS = Filters()

#: Sorts after any text that starts with what precedes it: a prefix as an index range.
_LAST_CHARACTER = "\U0010ffff"


def _categories(text: str) -> tuple[list[str], list[str]]:
    """``cs.CL,cs.`` → exact categories ``[cs.CL]`` and archive prefixes ``[cs.]``."""
    names = [c.strip() for c in text.split(",") if c.strip()]
    return [c for c in names if not c.endswith(".")], [c for c in names if c.endswith(".")]


def _facet_clause(facet: str, *, exact: bool) -> str:
    test = "f.name = ?" if exact else "f.name LIKE ? ESCAPE '\\'"
    return (
        f"r.id IN (SELECT rf.record_id FROM record_{facet} rf JOIN {facet} f ON f.id = rf.{facet}_id"
        f" WHERE {test})"
    )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_YEAR_RANGE = re.compile(r"^\s*(\d{4})?\s*(?:(-|–|\.\.)\s*(\d{4})?)?\s*$")


def parse_years(text: str) -> tuple[int | None, int | None]:
    """``2021`` → (2021, 2021); ``2021-2023``, ``2021-`` and ``-2020`` are ranges."""
    m = _YEAR_RANGE.match(text)
    if not m or not (m.group(1) or m.group(3)):
        raise UsageError(
            f"Cannot read {text!r} as a year.", "Use --year 2021 or a range like --year 2021-2023."
        )
    start = int(m.group(1)) if m.group(1) else None
    end = int(m.group(3)) if m.group(3) else None
    if not m.group(2):
        end = start
    if start is not None and end is not None and start > end:
        raise UsageError(f"The year range {text!r} runs backwards.", f"Did you mean --year {end}-{start}?")
    return start, end
