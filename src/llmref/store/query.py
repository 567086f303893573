"""Filters shared by ``search``, ``list`` and (later) ``export``, turned into SQL in one place."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

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

    @property
    def by_id_only(self) -> bool:
        """Whether the filters test a record by its id alone (names, categories, sections), so
        that a query need not read the record's row."""
        return self.year_from is None and self.year_to is None and not self.venue and not self.kind

    def where(
        self, conn: sqlite3.Connection | None = None, *, stops_early: bool = False, record_id: str = "r.id"
    ) -> tuple[str, list[object]]:
        """A WHERE clause over ``records r`` (``1`` when nothing is filtered) and its parameters.

        ``stops_early``: the query reads records in an order an index gives and stops after a
        page; then, given the library's connection, an author or category filter that many
        records pass is tested on each record read (see :func:`_membership`). ``record_id``:
        what holds the record's id in the query (``r.id``; with :attr:`by_id_only`, any id).
        """
        conn = conn if stops_early else None
        clauses: list[str] = []
        params: list[object] = []
        for tag in self.tags:
            clauses.append(_facet_clause("tags", record_id, exact=True))
            params.append(tag)
        for model in self.models:
            clauses.append(_facet_clause("models", record_id, exact=False))
            params.append(_like(model))
        for task in self.tasks:
            clauses.append(_facet_clause("tasks", record_id, exact=False))
            params.append(_like(task))
        for author in self.authors:
            # The family name, or the start of the whole name ("Edward", "Edward Hu"): both
            # index look-ups, and "hu" does not drag in every Zhu and Shuai.
            name = fold(author)
            clause, values = _membership(
                conn,
                record_id,
                "record_authors ra JOIN authors a ON a.id = ra.author_id",
                "ra.record_id",
                lambda c: f"{c}a.family = ? OR ({c}a.folded >= ? AND {c}a.folded < ?)",
                [name, name, name + _LAST_CHARACTER],
            )
            clauses.append(clause)
            params += values
        for wanted in self.categories:
            exact, prefixes = _categories(wanted)
            bounds = [json.dumps(exact)] if exact else []
            for prefix in prefixes:
                bounds += [prefix, prefix + _LAST_CHARACTER]
            test = partial(_category_test, bool(exact), len(prefixes))
            clause, values = _membership(conn, record_id, "record_categories", "record_id", test, bounds)
            clauses.append(clause)
            params += values
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
            # Few records have a section, and records_section indexes those: only they are read.
            clauses.append(
                f"{record_id} IN (SELECT s.id FROM records s WHERE s.section != '[]' AND EXISTS"
                " (SELECT 1 FROM json_each(s.section) WHERE value LIKE ? ESCAPE '\\'))"
            )
            params.append(_like(section))
        if self.kind:
            clauses.append("r.kind = ?")
            params.append(self.kind)
        return (" AND ".join(clauses) or "1"), params


NO_FILTERS = Filters()

#: Sorts after any text that starts with what precedes it: a prefix as an index range.
_LAST_CHARACTER = "\U0010ffff"


#: How many records a filter may let through and still be gathered before the rest of the query
#: runs: a set of a few thousand ids costs nothing, one of a fifth of a million records (the
#: Wangs, cs.LG) costs more than the whole query, and is built again by each search tier.
GATHERED_AT_MOST = 5000


def _membership(
    conn: sqlite3.Connection | None,
    record_id: str,
    source: str,
    owner: str,
    test: Callable[[str], str],
    values: list[Any],
) -> tuple[str, list[Any]]:
    """A clause that holds for the record whose id is ``record_id`` when some row of ``source``
    passing ``test`` names it (in its column ``owner``), in the faster of two forms for a query
    that stops after a page: the ids gathered first (``IN``), when few pass (or ``conn`` is
    None); else each record's own rows looked up by its id (``EXISTS``), so that a page of the
    newest Wangs reads a few hundred records rather than gathering a fifth of the library
    first. A query that reads every record is better off with the gathered set: one look-up
    each, against several.

    ``test`` gives the condition with its columns prefixed by what it is given: ``+`` keeps
    them from choosing an index, so that the look-up goes by record id.
    """
    gathered = f"SELECT {owner} FROM {source} WHERE {test('')}"
    if conn is None or _passing(conn, gathered, values) <= GATHERED_AT_MOST:
        return f"{record_id} IN ({gathered})", values
    return f"EXISTS (SELECT 1 FROM {source} WHERE {owner} = {record_id} AND ({test('+')}))", values


def _category_test(exact: bool, prefixes: int, c: str) -> str:
    tests = [f"{c}category IN (SELECT value FROM json_each(?))"] * exact
    tests += [f"({c}category >= ? AND {c}category < ?)"] * prefixes
    return " OR ".join(tests) or "0"


def _passing(conn: sqlite3.Connection, gathered: str, values: list[Any]) -> int:
    """How many rows ``gathered`` gives, counted up to just past :data:`GATHERED_AT_MOST`."""
    sql = f"SELECT COUNT(*) FROM ({gathered} LIMIT {GATHERED_AT_MOST + 1})"
    return conn.execute(sql, values).fetchone()[0]


def _categories(text: str) -> tuple[list[str], list[str]]:
    """``cs.CL,cs.`` → exact categories ``[cs.CL]`` and archive prefixes ``[cs.]``."""
    names = [c.strip() for c in text.split(",") if c.strip()]
    return [c for c in names if not c.endswith(".")], [c for c in names if c.endswith(".")]


def _facet_clause(facet: str, record_id: str, *, exact: bool) -> str:
    test = "n.name = ?" if exact else "n.name LIKE ? ESCAPE '\\'"
    return (
        f"{record_id} IN (SELECT rf.record_id FROM record_{facet} rf JOIN {facet} n ON n.id = rf.{facet}_id"
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
