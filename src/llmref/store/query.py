"""Filters shared by ``search``, ``list`` and (later) ``export``, turned into SQL in one place."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
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

    def split_rows(self) -> tuple[Filters, Filters]:
        """The filters on the record's row (year, venue, kind), and the others."""
        rows = {"year_from": self.year_from, "year_to": self.year_to, "venue": self.venue, "kind": self.kind}
        return replace(NO_FILTERS, **rows), replace(self, **dict.fromkeys(rows))

    @property
    def reads_rows(self) -> bool:
        """Whether a filter tests the record's own row (year, venue, kind)."""
        return any(test.on_row for test in self._tests())

    def where(
        self,
        conn: sqlite3.Connection | None = None,
        *,
        stops_early: bool = False,
        record_id: str = "r.id",
    ) -> tuple[str, list[object]]:
        """A WHERE clause over ``records r`` (``1`` when nothing is filtered) and its parameters.

        ``stops_early``: the query reads records in an order an index gives and stops after a
        page; then, given the library's connection, an author or category filter that many
        records pass is tested on each record read (see :func:`_membership`). ``record_id``:
        what holds the record's id in the query (``r.id``; any id when no filter is on the
        record's row).
        """
        conn = conn if stops_early else None
        tests = [test.clause(conn, record_id) for test in self._tests()]
        return (" AND ".join(c for c, _ in tests) or "1"), [p for _, params in tests for p in params]

    def rows_by_id(self, conn: sqlite3.Connection) -> bool:
        """Whether each filter on the record's row lets at most :data:`ROWS_GATHERED_AT_MOST`
        records through (counted in its index): then a search gathers their ids from those
        indexes once rather than reading the row of each match, most of which fail (``model
        --year 2020``)."""
        return all(
            _passing(conn, test.source, test.params, ROWS_GATHERED_AT_MOST) <= ROWS_GATHERED_AT_MOST
            for test in self._tests()
            if test.on_row
        )

    def few_passing(self, conn: sqlite3.Connection, at_most: int) -> list[int] | None:
        """The ids of the records that pass, in order, when one of the filters alone lets at
        most ``at_most`` records through (counted in its own index, up to just past that);
        else None. A filter so narrow is best applied first: a search then tests the few ids
        rather than reading each match's record, or finds at once that nothing passes."""
        counted = [(_passing(conn, test.source, test.params, at_most), test) for test in self._tests()]
        if not counted:
            return None
        count, narrowest = min(counted, key=lambda item: item[0])
        if count > at_most:
            return None
        where, params = self.where(conn, stops_early=True)
        sql = f"SELECT r.id FROM records r WHERE r.id IN ({narrowest.source}) AND {where} ORDER BY r.id"
        return [row[0] for row in conn.execute(sql, [*narrowest.params, *params])]

    def _tests(self) -> list[_Test]:
        tests: list[_Test] = []
        for tag in self.tags:
            tests.append(_facet_test("tags", "n.name = ?", [tag]))
        for model in self.models:
            tests.append(_facet_test("models", "n.name LIKE ? ESCAPE '\\'", [_like(model)]))
        for task in self.tasks:
            tests.append(_facet_test("tasks", "n.name LIKE ? ESCAPE '\\'", [_like(task)]))
        for author in self.authors:
            # The family name, or the start of the whole name ("Edward", "Edward Hu"): both
            # index look-ups, and "hu" does not drag in every Zhu and Shuai.
            name = fold(author)
            params = [name, name, name + _LAST_CHARACTER]
            tests.append(
                _Test(
                    "record_authors ra JOIN authors a ON a.id = ra.author_id",
                    "ra.record_id",
                    _author_condition,
                    params,
                    looked_up=True,
                    by_names=partial(_authors_listed, params),
                )
            )
        for wanted in self.categories:
            exact, prefixes = _categories(wanted)
            values = [json.dumps(exact)] if exact else []
            for prefix in prefixes:
                values += [prefix, prefix + _LAST_CHARACTER]
            test = partial(_category_test, bool(exact), len(prefixes))
            tests.append(_Test("record_categories", "record_id", test, values, looked_up=True))
        bounds = {op: year for op, year in ((">=", self.year_from), ("<=", self.year_to)) if year is not None}
        if bounds:

            def years(c: str) -> str:
                return " AND ".join(f"{c}year {op} ?" for op in bounds)

            tests.append(_row_test(years, [*bounds.values()]))
        if self.venue:
            tests.append(_row_test(lambda c: f"{c}venue = ? COLLATE NOCASE", [self.venue]))
        for section in self.sections:
            # Few records have a section, and records_section indexes those: only they are read.
            tests.append(
                _Test(
                    "records s",
                    "s.id",
                    lambda _: (
                        "s.section != '[]' AND EXISTS"
                        " (SELECT 1 FROM json_each(s.section) WHERE value LIKE ? ESCAPE '\\')"
                    ),
                    [_like(section)],
                )
            )
        if self.kind:
            tests.append(_row_test(lambda c: f"{c}kind = ?", [self.kind]))
        return tests


@dataclass(frozen=True)
class _Test:
    """One filter: the records whose id is in column ``owner`` of the rows of ``source_table``
    that pass ``condition`` (given a prefix for its columns) with ``params``."""

    source_table: str
    owner: str
    condition: Callable[[str], str]
    params: list[Any]
    #: Whether, when many records pass, each record read looks up its own rows (see
    #: :func:`_membership`) rather than the ids being gathered first.
    looked_up: bool = False
    #: For a filter on the record's own row: the condition on ``records r`` itself.
    on_row: bool = False
    #: For a filter on names joined to the records: the same filter on the ids of the names
    #: that pass, given the connection, when there are few (see :func:`_authors_listed`).
    by_names: Callable[[sqlite3.Connection], _Test | None] | None = None

    @property
    def source(self) -> str:
        """The query that gives the ids of the records that pass."""
        return f"SELECT {self.owner} FROM {self.source_table} WHERE {self.condition('')}"

    def clause(self, conn: sqlite3.Connection | None, record_id: str) -> tuple[str, list[Any]]:
        """The test as a clause on the record whose id is ``record_id``, and its parameters."""
        if self.on_row:
            return self.condition("r."), self.params
        if self.looked_up:
            return _membership(conn, record_id, self)
        return f"{record_id} IN ({self.source})", self.params


def _row_test(condition: Callable[[str], str], params: list[Any]) -> _Test:
    """A filter on columns of the record's row."""
    return _Test("records", "id", condition, params, on_row=True)


def _facet_test(facet: str, test: str, params: list[Any]) -> _Test:
    source = f"record_{facet} rf JOIN {facet} n ON n.id = rf.{facet}_id"
    return _Test(source, "rf.record_id", lambda _: test, params)


NO_FILTERS = Filters()

#: Sorts after any text that starts with what precedes it: a prefix as an index range.
_LAST_CHARACTER = "\U0010ffff"


#: How many records a filter may let through and still be gathered before the rest of the query
#: runs: a set of a few thousand ids costs nothing, one of a fifth of a million records (the
#: Wangs, cs.LG) costs more than the whole query, and is built again by each search tier.
GATHERED_AT_MOST = 5000
#: How many records the filters may let through for a search of a library of at least
#: SEARCHED_APART_FROM records to look at those alone, in indexes of their own made for it
#: (see Library._search_rows): about 0.2 ms a record, where a search of a large library's index
#: for a word that begins many others (`model`) takes hundreds of milliseconds however few
#: records pass. A smaller library's index is searched as fast, and ranks with what the whole
#: library says of each word.
SEARCHED_APART_AT_MOST = 100
SEARCHED_APART_FROM = 50_000
#: How many records a filter on the record's row may let through and still be gathered for a
#: search from its index: cheaper than reading the row of each match (a look-up in the records
#: table) up to about a tenth of a million-record library.
ROWS_GATHERED_AT_MOST = 100_000


def _membership(conn: sqlite3.Connection | None, record_id: str, test: _Test) -> tuple[str, list[Any]]:
    """A clause that holds for the record whose id is ``record_id`` when it passes ``test``, in
    the faster of two forms for a query that stops after a page: the ids gathered first
    (``IN``), when few pass (or ``conn`` is None); else each record's own rows looked up by its
    id (``EXISTS``), so that a page of the newest Wangs reads a few hundred records rather than
    gathering a fifth of the library first. A query that reads every record is better off with
    the gathered set: one look-up each, against several.

    The condition's columns are prefixed with ``+`` in the second form: it keeps them from
    choosing an index, so that the look-up goes by record id. A filter on names that few names
    pass is then tested on the ids of those names (see ``_Test.by_names``).
    """
    if conn is None or _passing(conn, test.source, test.params, GATHERED_AT_MOST) <= GATHERED_AT_MOST:
        return f"{record_id} IN ({test.source})", test.params
    test = (test.by_names and test.by_names(conn)) or test
    rows = f"SELECT 1 FROM {test.source_table} WHERE {test.owner} = {record_id}"
    return f"EXISTS ({rows} AND ({test.condition('+')}))", test.params


#: How many authors' names a filter may match for a record read to be tested against their ids,
#: rather than by reading each of its names.
NAMES_LISTED_AT_MOST = 1000


def _author_condition(c: str) -> str:
    return f"{c}a.family = ? OR ({c}a.folded >= ? AND {c}a.folded < ?)"


def _authors_listed(params: list[Any], conn: sqlite3.Connection) -> _Test | None:
    """An author filter as the ids of the names that pass, when there are at most
    :data:`NAMES_LISTED_AT_MOST`: a record read is then tested in its join rows alone, where
    each of its names would otherwise be read too (`search quantum --author wang`, each match
    tested: a fifth less time)."""
    sql = f"SELECT a.id FROM authors a WHERE {_author_condition('')} LIMIT {NAMES_LISTED_AT_MOST + 1}"
    names = [row[0] for row in conn.execute(sql, params)]
    if len(names) > NAMES_LISTED_AT_MOST:
        return None
    return _Test(
        "record_authors ra",
        "ra.record_id",
        lambda c: f"{c}ra.author_id IN (SELECT value FROM json_each(?))",
        [json.dumps(names)],
    )


def _category_test(exact: bool, prefixes: int, c: str) -> str:
    tests = [f"{c}category IN (SELECT value FROM json_each(?))"] * exact
    tests += [f"({c}category >= ? AND {c}category < ?)"] * prefixes
    return " OR ".join(tests) or "0"


def _passing(conn: sqlite3.Connection, gathered: str, values: list[Any], at_most: int) -> int:
    """How many rows ``gathered`` gives, counted up to just past ``at_most``."""
    sql = f"SELECT COUNT(*) FROM ({gathered} LIMIT {max(at_most, 0) + 1})"
    return conn.execute(sql, values).fetchone()[0]


def _categories(text: str) -> tuple[list[str], list[str]]:
    """``cs.CL,cs.`` → exact categories ``[cs.CL]`` and archive prefixes ``[cs.]``."""
    names = [c.strip() for c in text.split(",") if c.strip()]
    return [c for c in names if not c.endswith(".")], [c for c in names if c.endswith(".")]


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
