"""The library: records in SQLite, found by key or by any identifier, searched with FTS5.

Reads use the ``sqlite3`` connection directly (``llmref search`` must start in a blink, and
sqlite-utils costs ~80 ms to import); schema changes and writes go through sqlite-utils, each
write in one transaction.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .. import keys
from ..errors import NotFoundError, StoreError, UsageError
from ..models import Record, arxiv_pages
from ..text import fold, normalise_title
from . import fts, schema
from . import query as filtering
from .query import NO_FILTERS, SORTS, Filters

if TYPE_CHECKING:
    from sqlite_utils import Database


@dataclass(frozen=True)
class Hit:
    record: Record
    score: float


class Pending(NamedTuple):
    """A record made ready to be written: all the work that needs no database, so that another
    process can do it while this one writes (see :meth:`Library.insert_prepared`). Writing
    needs only the fields after ``record``."""

    #: The record, or None where a load's reading process leaves it out: :meth:`as_record`
    #: gives it back, as the library would store it, from the rest.
    record: Record | None
    #: The key the record brings, if any, and the key to make unique for one that brings none.
    key: str | None
    base_key: str | None
    #: The record's row, as :data:`_ROW_COLUMNS` lists the columns.
    row: tuple[Any, ...]
    #: Its full-text index columns, as :data:`schema.FTS_COLUMNS` lists them.
    index: tuple[str, ...]
    #: (position, label, url, normalised url) for each link.
    links: tuple[tuple[int, str, str, str], ...]
    identifiers: tuple[tuple[str, str], ...]
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    #: The names of each of :data:`schema.FACETS`, in order, without repeats.
    facets: tuple[tuple[str, ...], ...]

    def as_record(self) -> Record:
        if self.record is not None:
            return self.record
        return _assemble(
            {"key": self.key, **dict(zip(_ROW_COLUMNS, self.row, strict=True))},
            identifiers=self.identifiers,
            urls=((label, url) for _, label, url, _ in self.links),
            authors=self.authors,
            facets=self.facets,
        )


def prepare(record: Record) -> Pending:
    from ..ids import normalise_url

    implied = _implies_links(record)
    stored = record.urls[2:] if implied else record.urls  # the links the row does not imply
    return Pending(
        record,
        record.key,
        None if record.key else keys.base_key(record),
        _row_values(record, implied),
        _fts_values(record),
        tuple((i, label, url, normalise_url(url)) for i, (label, url) in enumerate(stored)),
        tuple(record.identifiers()),
        record.authors,
        _once(record.categories),
        tuple(_once(getattr(record, facet)) for facet in schema.FACETS),
    )


def _once(names: tuple[str, ...]) -> tuple[str, ...]:
    """``names`` without repeats, in order."""
    return tuple(dict.fromkeys(names)) if len(names) > 1 else tuple(names)


#: The indexes search takes its results from, in order, with their bm25 weights (see
#: :meth:`Library.search`).
SEARCH_TIERS = (*schema.SMALL_INDEXES.items(), ("records_fts", schema.FTS_COLUMNS))
#: How many matches of one tier search ranks, at most, for a page of results.
RANKED_AT_MOST = 10_000


class Library:
    """An open llmref database. Use :meth:`open`; close with :meth:`close` or ``with``."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._db: Database | None = None
        #: (table, name) → the name's id and its spelling as stored (facets ignore case).
        self._name_ids: dict[tuple[str, str], tuple[int, str]] = {}
        self._suffixes: dict[str, tuple[bool, int]] = {}  # see _key_suffixes
        self._data_version: int | None = None
        #: While a load defers indexes: names that edits may have left unused, dropped at its end.
        self._orphan_candidates: dict[str, list[int]] | None = None

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        seed: Iterable[Record] | None = None,
        upgrading: Callable[[], None] | None = None,
    ) -> Library:
        """Open the library at ``path``, creating it (filled with ``seed``) if it does not exist.

        A new library is built in a temporary file and moved into place only when complete, so
        an interrupted first run never leaves a half-filled database behind. ``upgrading`` is
        called before a library made by an earlier version is brought up to this one's schema
        (for a large library, a matter of minutes).
        """
        path = Path(path)
        if cls.missing(path):
            cls.create(path, seed or ())
        conn = _connect(path)
        library = cls(conn, path)
        try:
            library._migrate(upgrading)
        except BaseException:
            conn.close()
            raise
        return library

    @staticmethod
    def missing(path: Path) -> bool:
        """Whether there is no library at ``path`` yet, so that :meth:`open` creates one. An
        empty file is what `touch` or a crashed editor leaves: nothing to keep, so it counts as
        missing."""
        return not path.exists() or (path.is_file() and path.stat().st_size == 0)

    @classmethod
    def create(cls, path: Path, seed: Iterable[Record] = ()) -> None:
        """Write a new library at ``path`` (which must not exist, or be empty) holding ``seed``."""
        replacing_empty = path.is_file() and path.stat().st_size == 0
        if path.exists() and not replacing_empty:
            raise StoreError(f"{path} already exists.", "Choose another --db path, or remove the file first.")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Cannot create {path.parent}: {exc.strerror}.", "Choose another --db path."
            ) from exc
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            library = cls(_connect(tmp), tmp)
            try:
                library.conn.execute(f"PRAGMA page_size = {_PAGE_SIZE}")
                library._migrate()
                library.insert_many(seed)
                library.conn.execute("PRAGMA journal_mode = WAL")
            finally:
                library.close()
            if replacing_empty:
                os.replace(tmp, path)
            else:
                _move_if_absent(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def _migrate(self, upgrading: Callable[[], None] | None = None) -> None:
        try:
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.OperationalError as exc:
            raise StoreError(
                f"Cannot read {self.path}: {exc}.", "Check the permissions of the file and its folder."
            ) from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not an llmref library ({exc}).", "Point --db or LLMREF_DB at another file."
            ) from exc
        applied: list[str] = []
        if "_sqlite_migrations" in tables:
            applied = [
                r[0]
                for r in self.conn.execute(
                    "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
                    [schema.MIGRATION_SET],
                )
            ]
        elif tables:
            raise StoreError(
                f"{self.path} is an SQLite database, but not an llmref library.",
                "Point --db or LLMREF_DB at another file; llmref will not modify this one.",
            )
        unknown = [name for name in applied if name not in schema.MIGRATION_NAMES]
        if unknown:
            raise StoreError(
                f"{self.path} was made by a newer llmref (schema {unknown[-1]}).",
                "Upgrade llmref (pip install -U llmref); this version will not modify the library.",
            )
        if len(applied) < len(schema.MIGRATION_NAMES):
            if applied and upgrading:
                upgrading()
            try:
                schema.migrations().apply(self.db)
            except sqlite3.OperationalError as exc:
                raise _unwritable(self.path, exc) from exc
        if schema.PENDING_INDEXES in tables:
            self._build_abandoned_indexes()

    @property
    def db(self) -> Database:
        """The sqlite-utils view of the connection, imported on first write."""
        if self._db is None:
            from sqlite_utils import Database

            self._db = Database(self.conn)
        return self._db

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, *, keep: bool = True) -> Iterator[None]:
        """All writes inside happen together or not at all (``keep=False``: a trial, rolled back).

        ``BEGIN IMMEDIATE`` takes the write lock before anything is read, so that two processes
        editing the same record queue up (busy timeout) instead of one overwriting the other's
        change, or failing at once when a read transaction cannot be upgraded.
        """
        if self.conn.in_transaction:
            try:
                with self.db.atomic():
                    yield
            except BaseException:
                self._forget()
                raise
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise _unwritable(self.path, exc) from exc
        try:
            self._catch_up()
            with self.db.atomic():
                yield
            self.conn.execute("COMMIT" if keep else "ROLLBACK")
        except sqlite3.OperationalError as exc:
            self.conn.rollback()
            self._forget()
            raise _unwritable(self.path, exc) from exc
        except BaseException:
            self.conn.rollback()
            self._forget()
            raise
        if not keep:
            self._forget()

    def _forget(self) -> None:
        """Drop what writes remember between statements (name ids, key suffixes): after a
        rollback, or when another connection may have changed it."""
        self._name_ids.clear()
        self._suffixes.clear()

    def _catch_up(self) -> None:
        """At the start of a write transaction: forget what writes remember if another
        connection has written since (``PRAGMA data_version``), as a name a load remembers may
        since have been deleted with the last record that used it, and its id given again."""
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._forget()
            self._data_version = version

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Reads inside see one state of the library, whatever other processes write meanwhile
        (an export that loads records batch by batch must not lose one deleted half-way)."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.rollback()

    @contextmanager
    def loading(self, *, defer_indexes: bool) -> Iterator[None]:
        """A bulk load: a large page cache, commits that wait for the disk only at checkpoints
        (in WAL mode a crash of the program loses nothing committed; a power cut may lose the
        chunks since the last checkpoint, never the library's consistency), and with
        ``defer_indexes`` the indexes only queries use dropped until the load ends, however it
        ends. If the process dies meanwhile, the next :meth:`open` builds
        them; until then queries give the same answers, more slowly."""
        pragmas = {name: self.conn.execute(f"PRAGMA {name}").fetchone()[0] for name in _LOADING}
        try:
            for name, value in _LOADING.items():
                self.conn.execute(f"PRAGMA {name} = {value}")
            if defer_indexes:
                self._drop_deferred_indexes()  # all or none: if it fails, there is none to build
                # Whether a name is still used is a look-up in an index the load dropped.
                self._orphan_candidates = {table: [] for table, _ in _NAME_TABLES}
            try:
                yield
            finally:
                if defer_indexes:
                    candidates, self._orphan_candidates = self._orphan_candidates, None
                    self.build_pending_indexes()  # with the load's cache: sorting needs it
                    if candidates and any(candidates.values()):
                        with self.transaction():
                            self._drop_orphans(candidates)
        finally:
            for name, value in pragmas.items():
                self.conn.execute(f"PRAGMA {name} = {value}")

    def _drop_deferred_indexes(self) -> None:
        pending = schema.PENDING_INDEXES
        with self.transaction():
            self.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {pending}"
                " (name TEXT PRIMARY KEY, sql TEXT NOT NULL, pid INTEGER NOT NULL)"
            )
            self.conn.execute(f"UPDATE {pending} SET pid = ?", [os.getpid()])
            rows = self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                " AND name IN (SELECT value FROM json_each(?))",
                [json.dumps(schema.DEFERRED_INDEXES)],
            ).fetchall()
            for name, sql in rows:
                self.conn.execute(f"INSERT INTO {pending} VALUES (?, ?, ?)", [name, sql, os.getpid()])
                self.conn.execute(f"DROP INDEX {name}")

    def build_pending_indexes(self) -> None:
        """Build the indexes a load dropped (see :meth:`loading`), in one transaction."""
        pending = schema.PENDING_INDEXES
        with self.transaction():
            exists = self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [pending]
            ).fetchone()
            if not exists:
                return
            present = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
            for name, sql in self.conn.execute(f"SELECT name, sql FROM {pending}").fetchall():
                if name not in present:
                    self.conn.execute(sql)
            self.conn.execute(f"DROP TABLE {pending}")

    def _build_abandoned_indexes(self) -> None:
        """Build the indexes of a load whose process is gone; leave a running load's alone."""
        try:
            pids = {r[0] for r in self.conn.execute(f"SELECT pid FROM {schema.PENDING_INDEXES}")}
        except sqlite3.OperationalError:
            return  # its load built them while this process waited to upgrade the library
        if any(_running(pid) for pid in pids):
            return
        # Read-only, or busy: answers stay right, and the next open tries again.
        with suppress(StoreError):
            self.build_pending_indexes()

    def held(self) -> int:
        """The largest record id: about how many records the library holds, read at once where
        a count of a million records is not (ids of the newest records, once deleted, are
        given again)."""
        return self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM records").fetchone()[0]

    def update(self, ref: str, change: Callable[[Record], Record]) -> tuple[Record, Record]:
        """Find a record, change it and save it in one transaction; returns (before, after)."""
        with self.transaction():
            before = self.find(ref)
            after = change(before)
            if after != before:
                self.save(after)
        return before, after

    @property
    def schema_version(self) -> str:
        return schema.MIGRATION_NAMES[-1]

    # -- reading -------------------------------------------------------------------------

    def get(self, key: str) -> Record | None:
        row = self.conn.execute(_ID_BY_KEY, [key]).fetchone()
        return self._load([row[0]])[0] if row else None

    def find(self, ref: str) -> Record:
        """A record by key, arXiv id, DOI, ACL Anthology id or URL, in any of their written forms."""
        ref = ref.strip()
        record = self.get(ref)
        if record:
            return record
        ids = self._ids_for_ref(ref)
        if len(ids) == 1:
            return self._load(ids)[0]
        if len(ids) > 1:
            found = ", ".join(r.key or "" for r in self._load(ids))
            raise UsageError(f"{ref!r} points at several records: {found}.", "Use one of the keys instead.")
        row = self.conn.execute("SELECT id FROM records WHERE key = ? COLLATE NOCASE", [ref]).fetchone()
        if row:
            return self._load([row[0]])[0]
        raise NotFoundError(f"No record {ref!r} in the library.", self._suggestion(ref))

    def _ids_for_ref(self, ref: str) -> list[int]:
        from .. import ids

        parsed = ids.parse_identifier(ref)
        if parsed is None:
            return []
        scheme, value = parsed
        found = self.record_ids_for(scheme, value)
        if not found and scheme == "doi":
            acl = ids.parse_acl(value)
            if acl:
                found = self.record_ids_for("acl", acl)
        return found

    def record_ids_for(self, scheme: str, value: str) -> list[int]:
        """Records holding an identifier (``url`` compares normalised links)."""
        if scheme == "url":
            from ..ids import normalise_url

            rows = self.conn.execute(
                "SELECT DISTINCT record_id FROM urls WHERE normalized = ? ORDER BY record_id",
                [normalise_url(value)],
            )
        else:
            rows = self.conn.execute(
                "SELECT record_id FROM identifiers WHERE scheme = ? AND value = ?",
                [scheme, _id_value(scheme, value)],
            )
        return [r[0] for r in rows]

    def matching(self, record: Record) -> Record | None:
        """The stored record for the same work, or None.

        First by any shared identifier, then by the same key and title. Then by normalised
        title, with years (where both are
        known) at most one apart, and:

        - for a record that carries its own citation key (from a .bib, CSL or llmref JSON file),
          only with the same first author: generic titles ("Editorial", "Introduction") are
          shared by different works, and two keys must not fold into one;
        - otherwise (a paper from arXiv, an entry of a Markdown list) with a record that has no
          arXiv id yet and is of the same kind or shares a link, as the curated list's
          title-only and link-only entries are.
        """
        for scheme, value in record.identifiers():
            found = self.record_ids_for(scheme, value)
            if found:
                return self._load(found[:1])[0]
        title_key = normalise_title(record.title)
        if not title_key:
            return None  # a title of punctuation alone says nothing about which work it is
        same_key = self.get(record.key) if record.key else None
        if same_key and normalise_title(same_key.title) == title_key:
            return same_key  # the record this file was exported from
        rows = self.conn.execute("SELECT id, year FROM records WHERE title_key = ? ORDER BY id", [title_key])
        candidates = [
            rid for rid, year in rows if year is None or record.year is None or abs(year - record.year) <= 1
        ]
        for candidate in self._load(candidates):
            if record.key and _same_first_author(candidate, record):
                return candidate
            if (
                not record.key
                and not candidate.arxiv_id
                and (candidate.kind == record.kind or _share_a_link(candidate, record))
            ):
                return candidate
        return None

    def held_marks(self, marks: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of ``marks`` some record holds, in a query per kind: identifiers as
        ``(scheme, value)`` (what :meth:`Record.identifiers` gives), ``("key", folded key)``
        and ``("title", normalised title)``. What :meth:`matching` may find a record by."""
        by_kind: dict[str, list[str]] = {}
        for kind, value in marks:
            by_kind.setdefault(kind, []).append(value)
        held: set[tuple[str, str]] = set()
        for kind, values in by_kind.items():
            if kind == "key":
                column, table, test, params = "lower(key)", "records", "key COLLATE NOCASE", []
            elif kind == "title":
                column, table, test, params = "title_key", "records", "title_key", []
            else:
                column, table, test, params = "value", "identifiers", "scheme = ? AND value", [kind]
            rows = self.conn.execute(
                f"SELECT {column} FROM {table} WHERE {test} IN (SELECT value FROM json_each(?))",
                [*params, json.dumps(values)],
            )
            held.update((kind, row[0]) for row in rows)
        return held

    def key_taken(self, key: str) -> bool:
        """Whether ``key`` (compared as BibTeX does, ignoring case) belongs to a record."""
        return (
            self.conn.execute("SELECT 1 FROM records WHERE key = ? COLLATE NOCASE", [key]).fetchone()
            is not None
        )

    def _suggestion(self, ref: str) -> str:
        import difflib

        all_keys = [r[0] for r in self.conn.execute("SELECT key FROM records")]
        close = difflib.get_close_matches(ref.lower(), all_keys, n=3, cutoff=0.6)
        if not close:
            try:
                close = [h.record.key or "" for h in self.search(ref, limit=3)]
            except UsageError:
                close = []
        if close:
            return "Did you mean " + ", ".join(close) + "?"
        return "See the keys with: llmref list"

    def search(
        self, query: str, filters: Filters = NO_FILTERS, *, limit: int | None = 20, raw: bool = False
    ) -> list[Hit]:
        """Records matching ``query``, best first (bm25, title matches weighing most)."""
        with self.reading():  # a record deleted meanwhile is not found, then missed
            rows = self._search_rows(query, filters, limit=limit, raw=raw)
            records = self._load([r[0] for r in rows])
        return [Hit(rec, row[1]) for rec, row in zip(records, rows, strict=True)]

    def search_ids(self, query: str, filters: Filters = NO_FILTERS, *, raw: bool = False) -> list[int]:
        """The internal ids of every record matching ``query``, best first (see :meth:`records`)."""
        with self.reading():
            return [r[0] for r in self._search_rows(query, filters, limit=None, raw=raw)]

    def _search_rows(
        self, query: str, filters: Filters, *, limit: int | None, raw: bool
    ) -> list[tuple[int, float]]:
        """(id, bm25 score) of the matches, best first, in tiers.

        First the records whose tags, models or compound-name parts hold every word, then those
        whose title does, then the rest: each tier is found and ranked in an index of its own
        (:data:`SEARCH_TIERS`), so scores compare within a tier only. For a page of results, a
        tier with more than :data:`RANKED_AT_MOST` matches ranks only the newest that many: a
        word in half a million abstracts says little about any one of them, and ranking them
        all would take seconds. For a page (unless a year, venue or kind filter lets most of a
        large library through, when each match's row is read), a tier looks for the words as
        typed first, and for words they begin (``model`` → models, modeling) only when those do
        not fill the page.

        A filter that lets few records through (see :meth:`Filters.few_passing`) is applied
        first: the matches are then tested against those ids, without reading a record's row,
        and a filter nothing passes ends the search before the indexes are read. When very few
        pass (:data:`~llmref.store.query.SEARCHED_APART_AT_MOST`), those records are searched
        on their own, in indexes of just them made for the search: a word such as ``model``
        begins words in most of a large library, and the library's index gathers them all
        before any filter applies. Their words are then weighed among those records. (Only in
        a large library: in a small one, the index is searched as fast.)
        """
        match = fts.match_expression(query, raw=raw)
        with self._filtered(filters, stops_early=limit is not None) as filtered:
            if filtered is None:
                return []
            return self._tiers(query, match, filtered, limit=limit, raw=raw)

    @contextmanager
    def _filtered(self, filters: Filters, *, stops_early: bool) -> Iterator[_Scope | None]:
        """Where a search looks for matches and how it tests them against ``filters``; None
        when no record passes."""
        if filters == NO_FILTERS:
            yield _Scope("1", [])
            return
        few = filters.few_passing(self.conn, filtering.GATHERED_AT_MOST)
        if few is not None:
            if not few:
                yield None
            elif (
                len(few) <= filtering.SEARCHED_APART_AT_MOST and self.held() >= filtering.SEARCHED_APART_FROM
            ):
                with self._apart(few):
                    yield _Scope("1", [], apart=True)
            elif len(few) == 1:  # FTS5 runs the query for that row alone: never more work
                yield _Scope("f.rowid = ?", few)
            else:  # `+`: tested on each match; as a constraint, FTS5 would run the query per id
                yield _Scope("+f.rowid IN (SELECT value FROM json_each(?))", [json.dumps(few)])
        elif not filters.reads_rows:
            # Every indexed row is a record: filters on names and categories need only its id.
            where, params = filters.where(self.conn, stops_early=stops_early, record_id="+f.rowid")
            yield _Scope(where, params)
        elif filters.rows_by_id(self.conn):
            # The ids the row filters' indexes give, in a table; the others tested as above.
            rows, names = filters.split_rows()
            where, params = names.where(self.conn, stops_early=stops_early, record_id="+f.rowid")
            with self._gathered(rows) as table:
                yield _Scope(f"+f.rowid IN {table} AND {where}", params)
        else:  # most records pass: reading the row of each match costs less than gathering them
            where, params = filters.where(self.conn, stops_early=stops_early, record_id="+r.id")
            yield _Scope(where, params, joined=True)

    @contextmanager
    def _gathered(self, filters: Filters) -> Iterator[str]:
        """A temporary table of the records that pass ``filters``, for the length of a search:
        gathered once, where a clause would gather them again for each index searched."""
        where, params = filters.where()
        with self._scratch(["DELETE FROM temp.search_passing"]):
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS search_passing (id INTEGER PRIMARY KEY)")
            self.conn.execute(
                f"INSERT INTO temp.search_passing SELECT r.id FROM records r WHERE {where}", params
            )
            yield "temp.search_passing"

    @contextmanager
    def _apart(self, record_ids: list[int]) -> Iterator[None]:
        """Temporary search indexes holding only the records ``record_ids``, for the length of a
        search: defined as the library's are, filled with the text :func:`_fts_values` makes of
        each record (what :meth:`_write_children` indexes)."""
        tables = [_APART + index for index, _ in SEARCH_TIERS]
        with self._scratch([f"INSERT INTO {table} ({table}) VALUES ('delete-all')" for table in tables]):
            definitions = self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE name IN (SELECT value FROM json_each(?))",
                [json.dumps([index for index, _ in SEARCH_TIERS])],
            )
            for index, sql in definitions.fetchall():
                module = sql[sql.index(" USING ") :]
                self.conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{_APART}{index}{module}")
            records = self._load(record_ids)
            self._index(zip(record_ids, map(_fts_values, records), strict=True), _APART_WRITES)
            yield

    @contextmanager
    def _scratch(self, emptying: Sequence[str]) -> Iterator[None]:
        """Writes to temporary tables for the length of a search: the ``emptying`` statements
        run when it ends, and the transaction the writes began, only it, is committed."""
        began = not self.conn.in_transaction
        try:
            yield
        finally:
            for sql in emptying:
                self.conn.execute(sql)
            if began and self.conn.in_transaction:
                self.conn.commit()

    def _tiers(
        self, query: str, match: str, filtered: _Scope, *, limit: int | None, raw: bool
    ) -> list[tuple[int, float]]:
        if raw:
            try:
                return self._ranked("records_fts", schema.FTS_COLUMNS, match, filtered, limit)
            except sqlite3.OperationalError as exc:
                raise UsageError(
                    f"Not a valid FTS5 query: {exc}.", "Check the quotes and operators, or drop --raw."
                ) from exc
        # A prefix search gathers the matches of every word the prefix covers before it reads
        # any: for `model` in a large library, most of its titles. A filter on the records'
        # rows reads the row of each match, so a second search for the prefixes would read
        # them again: with one, the prefixes are searched at once.
        exact = None if limit is None or filtered.joined else fts.match_expression(query, prefix=False)
        rows: list[tuple[int, float]] = []
        seen: set[int] = set()
        for index, columns in SEARCH_TIERS:
            if limit is not None and len(rows) >= limit:
                break
            best = None if limit is None else limit + len(seen)  # enough, after those already taken
            found = self._ranked(index, columns, exact, filtered, best) if exact else []
            if best is None or len(found) < best:
                found = self._ranked(index, columns, match, filtered, best)
            for row in found:
                if limit is not None and len(rows) >= limit:
                    break
                if row[0] not in seen:
                    rows.append(row)
                    seen.add(row[0])
        return rows

    def _ranked(
        self,
        index: str,
        columns: Sequence[tuple[str, float]],
        match: str,
        filtered: _Scope,
        limit: int | None,
    ) -> list[tuple[int, float]]:
        """Matches of one full-text index by bm25: all of them, or the ``limit`` best of the newest
        :data:`RANKED_AT_MOST` (read newest first and scored as they are read, in one pass)."""
        where, params, joined, apart = filtered
        weights = ", ".join(str(w) for _, w in columns)
        index = _APART + index if apart else index
        sql = (
            f"SELECT f.rowid AS id, bm25({index}, {weights}) AS score FROM {index} f"
            + (" JOIN records r ON r.id = f.rowid" if joined else "")
            + f" WHERE {index} MATCH ? AND {where}"
        )
        if limit is None:
            rows = self.conn.execute(sql + " ORDER BY score, id", [match, *params])
        else:
            # The best are picked by SQLite's sorter, which keeps only ``limit`` rows, rather than
            # each of up to RANKED_AT_MOST rows being handed to Python: a third to half the time.
            rows = self.conn.execute(
                f"SELECT id, score FROM ({sql} ORDER BY f.rowid DESC LIMIT ?) ORDER BY score, id LIMIT ?",
                [match, *params, RANKED_AT_MOST, limit],
            )
        return [(r[0], r[1]) for r in rows]

    def list(
        self,
        filters: Filters = NO_FILTERS,
        *,
        sort: str = "added",
        reverse: bool = False,
        limit: int | None = None,
    ) -> list[Record]:
        with self.reading():
            return self._load(self.list_ids(filters, sort=sort, reverse=reverse, limit=limit))

    def list_ids(
        self,
        filters: Filters = NO_FILTERS,
        *,
        sort: str = "added",
        reverse: bool = False,
        limit: int | None = None,
    ) -> list[int]:
        """The internal ids of the records :meth:`list` would give, in its order."""
        if sort not in SORTS:
            raise UsageError(f"Cannot sort by {sort!r}.", f"Sort by one of: {', '.join(SORTS)}.")
        with self.reading():  # the filters may look names up before the records are read
            way = "DESC" if reverse else "ASC"
            # Records are read in an index's order, and a page is soon full.
            where, params = filters.where(self.conn, stops_early=limit is not None)
            if sort != "year":
                order = {"added": "r.id", "key": "r.key COLLATE NOCASE", "title": "r.title COLLATE NOCASE"}[
                    sort
                ]
                return self._ids(where, params, f"{order} {way}, r.id {way}", limit)
            # Records without a year come last either way: two reads, each in the year index's
            # order (a sort of every record otherwise), each stopping when the page is full.
            dated = self._ids(f"r.year IS NOT NULL AND ({where})", params, f"r.year {way}, r.id {way}", limit)
            if limit is not None and len(dated) >= limit:
                return dated
            rest = None if limit is None else limit - len(dated)
            return dated + self._ids(f"r.year IS NULL AND ({where})", params, f"r.id {way}", rest)

    def _ids(self, where: str, params: list[Any], order: str, limit: int | None) -> list[int]:
        sql = f"SELECT r.id FROM records r WHERE {where} ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [r[0] for r in self.conn.execute(sql, params)]

    def facet_counts(self, facet: str, filters: Filters = NO_FILTERS) -> list[tuple[str, int]]:
        """Names of a facet (tags, models, tasks, datasets) with how many records have each."""
        if facet not in schema.FACETS:
            raise ValueError(facet)
        where, params = filters.where()
        sql = (
            f"SELECT f.name, COUNT(*) AS n FROM record_{facet} rf JOIN {facet} f ON f.id = rf.{facet}_id"
            f" JOIN records r ON r.id = rf.record_id WHERE {where}"
            " GROUP BY f.id ORDER BY n DESC, f.name COLLATE NOCASE"
        )
        return [(r[0], r[1]) for r in self.conn.execute(sql, params)]

    def stats(self) -> dict[str, Any]:
        # Each count reads an index, never the rows themselves: at a million records the rows
        # (abstracts and all) are gigabytes.
        one = self.conn.execute
        kinds = dict(
            one("SELECT kind, COUNT(*) FROM records GROUP BY kind ORDER BY COUNT(*) DESC, kind").fetchall()
        )
        # Apart, each is one index look-up; together, a scan.
        years = (
            one("SELECT MIN(year) FROM records").fetchone()[0],
            one("SELECT MAX(year) FROM records").fetchone()[0],
        )
        id_counts = dict(
            one("SELECT scheme, COUNT(*) FROM identifiers GROUP BY scheme ORDER BY scheme").fetchall()
        )
        return {
            "path": str(self.path),
            "schema": self.schema_version,
            "records": sum(kinds.values()),
            "kinds": kinds,
            "identifiers": id_counts,
            "without_identifier": one("SELECT COUNT(*) FROM records WHERE NOT identified").fetchone()[0],
            "with_abstract": sum(kinds.values())
            - one("SELECT COUNT(*) FROM records WHERE abstract IS NULL OR abstract = ''").fetchone()[0],
            "todo": one("SELECT COUNT(*) FROM records WHERE todo").fetchone()[0],
            "years": {"first": years[0], "last": years[1]},
            # Names no record uses are dropped whenever a record changes, so every row counts.
            "authors": one("SELECT COUNT(*) FROM authors").fetchone()[0],
            **{facet: one(f"SELECT COUNT(*) FROM {facet}").fetchone()[0] for facet in schema.FACETS},
            "sections": [
                json.loads(r[0])
                for r in one(
                    "SELECT section FROM records WHERE section != '[]' GROUP BY section ORDER BY MIN(id)"
                )
            ],
        }

    def with_identifier(self, scheme: str) -> list[Record]:
        """Records that have an identifier of ``scheme`` (``arxiv``, ``doi``…), in the order added."""
        rows = self.conn.execute(
            "SELECT DISTINCT record_id FROM identifiers WHERE scheme = ? ORDER BY record_id", [scheme]
        )
        return self._load([r[0] for r in rows])

    def records(self, record_ids: Sequence[int]) -> list[Record]:
        """Whole records by internal id (as :meth:`record_ids_for` gives them), in that order."""
        return self._load(record_ids)

    def keys(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT key FROM records ORDER BY id")]

    def _load(self, record_ids: Sequence[int]) -> list[Record]:
        """Whole records for ``record_ids``, in that order, with a fixed number of queries."""
        if not record_ids:
            return []
        marks = ",".join("?" * len(record_ids))
        ids = list(record_ids)
        rows = {r[0]: r for r in self.conn.execute(f"SELECT * FROM records WHERE id IN ({marks})", ids)}
        names = [d[0] for d in self.conn.execute("SELECT * FROM records LIMIT 0").description]

        def grouped(sql: str) -> dict[int, list[tuple[Any, ...]]]:
            out: dict[int, list[tuple[Any, ...]]] = {}
            for row in self.conn.execute(sql, ids):
                out.setdefault(row[0], []).append(row[1:])
            return out

        idents = grouped(
            f"SELECT record_id, scheme, value FROM identifiers WHERE record_id IN ({marks}) ORDER BY rowid"
        )
        urls = grouped(
            f"SELECT record_id, label, url FROM urls WHERE record_id IN ({marks})"
            " ORDER BY record_id, position"
        )
        authors = grouped(
            f"SELECT ra.record_id, a.name FROM record_authors ra JOIN authors a ON a.id = ra.author_id"
            f" WHERE ra.record_id IN ({marks}) ORDER BY ra.record_id, ra.position"
        )
        facets = {
            facet: grouped(
                f"SELECT rf.record_id, f.name FROM record_{facet} rf JOIN {facet} f ON f.id = rf.{facet}_id"
                f" WHERE rf.record_id IN ({marks}) ORDER BY rf.record_id, rf.position"
            )
            for facet in schema.FACETS
        }
        return [
            _assemble(
                dict(zip(names, rows[rid], strict=True)),
                identifiers=idents.get(rid, ()),
                urls=urls.get(rid, ()),
                authors=tuple(a[0] for a in authors.get(rid, [])),
                facets=[tuple(f[0] for f in facets[facet].get(rid, [])) for facet in schema.FACETS],
            )
            for rid in ids
        ]

    # -- writing -------------------------------------------------------------------------

    def insert(self, record: Record) -> Record:
        """Add a new record, giving it a key if it has none; returns it as stored."""
        return self.insert_many([record])[0]

    def insert_many(self, records: Iterable[Record]) -> list[Record]:
        """Add new records in one transaction, giving keys to those without; returns them as stored."""
        records = list(records)
        given = self.insert_prepared([prepare(r) for r in records])
        return [r if r.key == key else r.with_(key=key) for r, key in zip(records, given, strict=True)]

    def insert_prepared(self, batch: Sequence[Pending], *, part: bool = False) -> list[str]:
        """Add records made ready by :func:`prepare` (maybe in another process), in one
        transaction; returns their keys.

        The batch is written table by table, one statement each, with its search index rows
        last: what makes loading hundreds of thousands of records fast. ``part``: as part of
        the caller's open transaction, which an error must end, without a savepoint of its own
        (FTS5 writes out its pending index entries as a segment at each savepoint: a load's
        chunk written in parts under one makes one segment, not one a part).
        """
        if part and not self.conn.in_transaction:
            raise RuntimeError("insert_prepared(part=True) needs the caller's transaction")
        with nullcontext() if part else self.transaction():
            given = self._keys_for(batch)
            self._check_identifiers_free([p.identifiers for p in batch], given)
            first = self.held() + 1
            now = _now()
            self.conn.executemany(
                _RECORD_INSERT,
                [
                    (rid, key, now, *p.row, now)
                    for rid, p, key in zip(range(first, first + len(batch)), batch, given, strict=True)
                ],
            )
            self._write_children(list(enumerate(batch, first)))
        return given

    def save(self, record: Record) -> Record:
        """Write every field of an existing record (found by its key); the key itself never changes."""
        with self.transaction():
            row = self.conn.execute(_ID_BY_KEY, [record.key]).fetchone()
            if row is None:
                raise NotFoundError(
                    f"No record {record.key!r} in the library.", "See the keys with: llmref list"
                )
            rid = row[0]
            pending = prepare(record)
            self._check_identifiers_free([pending.identifiers], [record.key or ""], own_id=rid)
            names = self._names_of([rid])
            self._unindex(rid)  # from the record as it was
            self.conn.execute(_RECORD_UPDATE, [*pending.row, _now(), rid])
            for table in _CHILD_TABLES:
                self.conn.execute(f"DELETE FROM {table} WHERE record_id = ?", [rid])
            self._write_children([(rid, pending)])
            kept = self._names_of([rid])
            self._drop_orphans({table: list(set(ids) - set(kept[table])) for table, ids in names.items()})
        return record

    def delete_many(self, record_keys: Iterable[str]) -> None:
        with self.transaction():
            rids = []
            for key in record_keys:
                row = self.conn.execute(_ID_BY_KEY, [key]).fetchone()
                if row is None:
                    raise NotFoundError(
                        f"No record {key!r} in the library.", "See the keys with: llmref list"
                    )
                rids.append(row[0])
            names = self._names_of(rids)
            for rid in rids:
                self._unindex(rid)
                self.conn.execute("DELETE FROM records WHERE id = ?", [rid])
            self._drop_orphans(names)

    def record_ids_by(self, scheme: str, values: Iterable[str]) -> dict[str, int]:
        """Which record holds each of ``values`` (identifiers of one scheme), in one query."""
        wanted = json.dumps([_id_value(scheme, v) for v in values])
        rows = self.conn.execute(
            "SELECT value, record_id FROM identifiers"
            " WHERE scheme = ? AND value IN (SELECT value FROM json_each(?))",
            [scheme, wanted],
        )
        return dict(rows.fetchall())

    def _keys_for(self, batch: Sequence[Pending]) -> list[str]:
        """The keys of the batch: keys given are checked, new ones are made unique against the
        library and the rest of the batch."""
        taken: set[str] = set()  # case-folded, as keys compare
        given = [p.key for p in batch if p.key]
        held = {value for _, value in self.held_marks(("key", key.casefold()) for key in given)}
        for key in given:
            if not keys.is_valid_key(key):
                raise UsageError(
                    f"{key!r} is not a usable citation key.",
                    "Keys are letters, digits and _ : . + / - and start with a letter, digit or _.",
                )
            if key.casefold() in taken or key.casefold() in held:
                raise UsageError(f"The key {key!r} is already in the library.", "Choose another key.")
            taken.add(key.casefold())
        bases = {p.base_key for p in batch if p.base_key is not None}
        if not bases:
            return [p.key or "" for p in batch]
        state = self._key_suffixes(bases)
        out = []
        for pending in batch:
            key, base = pending.key, pending.base_key
            if base is not None:
                base_taken, n = state[base]
                key = base
                if base_taken or base.casefold() in taken:
                    n += 1
                    while (base + keys.suffix(n)).casefold() in taken:  # already given in the batch
                        n += 1
                    key = base + keys.suffix(n)
                state[base] = (True, n)
                taken.add(key.casefold())
                # The key may also read as another base and a suffix ("deep" + "s" for the base
                # "deeps"), or be another base itself ("deep" + "b" for the base "deepb").
                for other, number in keys.suffixed(key):
                    if other in state and state[other][1] < number:
                        state[other] = (state[other][0], number)
                if key in state:
                    state[key] = (True, state[key][1])
            out.append(key or "")
        return out

    def _key_suffixes(self, bases: Iterable[str]) -> dict[str, tuple[bool, int]]:
        """For each base key: whether the library holds it, and the number of the last suffix it
        holds after it (0: none). A new key takes the suffix after that: never the suffixed key
        of a deleted record, which a document may still cite.

        Remembered across transactions, as a load asks about the same bases chunk after chunk,
        until another connection writes (see :meth:`_catch_up`) or a transaction fails.
        """
        if len(self._suffixes) > _NAME_CACHE:
            self._suffixes.clear()
        unknown = [b for b in bases if b not in self._suffixes]
        if unknown:
            # "{" sorts after every character a key may hold, once case is folded.
            rows = self.conn.execute(
                "SELECT j.value, MAX(lower(r.key) = lower(j.value)),"
                f" MAX({keys.suffix_number_sql('r.key', 'j.value')})"
                " FROM json_each(?) j JOIN records r"
                " ON r.key >= j.value COLLATE NOCASE AND r.key < j.value || '{' COLLATE NOCASE"
                " GROUP BY j.value",
                [json.dumps(unknown)],
            )
            found = {base: (bool(held), last or 0) for base, held, last in rows}
            self._suffixes.update((base, found.get(base, (False, 0))) for base in unknown)
        return self._suffixes

    def _check_identifiers_free(
        self,
        identifiers: Sequence[Sequence[tuple[str, str]]],
        record_keys: Sequence[str],
        own_id: int | None = None,
    ) -> None:
        """Refuse an identifier (of records with ``record_keys``) that another record holds
        (``own_id``: the record being saved)."""
        owners: dict[tuple[str, str], str] = {}
        for idents, key in zip(identifiers, record_keys, strict=True):
            for ident in idents:
                if ident in owners:
                    raise UsageError(
                        f"{ident[0]} {ident[1]} is given to both {owners[ident]} and {key}.",
                        "Keep it on one record.",
                    )
                owners[ident] = key
        by_scheme: dict[str, list[str]] = {}
        for scheme, value in owners:
            by_scheme.setdefault(scheme, []).append(value)
        for scheme, values in by_scheme.items():
            row = self.conn.execute(
                "SELECT i.value, r.key FROM identifiers i JOIN records r ON r.id = i.record_id"
                " WHERE i.scheme = ? AND i.value IN (SELECT value FROM json_each(?)) AND r.id IS NOT ?"
                " LIMIT 1",
                [scheme, json.dumps(values), own_id],
            ).fetchone()
            if row:
                raise UsageError(
                    f"{scheme} {row[0]} already belongs to {row[1]}.",
                    f"Show that record with: llmref show {row[1]}",
                )

    def _write_children(self, batch: Sequence[tuple[int, Pending]]) -> None:
        """Everything of a record outside its row: identifiers, links, names, search index."""
        # Plain executemany: these rows are written for every record added, and sqlite-utils'
        # per-call table checks cost more than the inserts themselves.
        run = self.conn.executemany
        run(
            "INSERT INTO identifiers (scheme, value, record_id) VALUES (?, ?, ?)",
            [(scheme, value, rid) for rid, p in batch for scheme, value in p.identifiers],
        )
        run(
            "INSERT INTO urls (record_id, position, label, url, normalized) VALUES (?, ?, ?, ?, ?)",
            [(rid, *link) for rid, p in batch for link in p.links],
        )
        author_ids = self._author_ids({name for _, p in batch for name in p.authors})
        run(
            "INSERT INTO record_authors (record_id, position, author_id) VALUES (?, ?, ?)",
            [(rid, i, author_ids[name]) for rid, p in batch for i, name in enumerate(p.authors)],
        )
        run(
            "INSERT INTO record_categories (category, record_id) VALUES (?, ?)",
            [(category, rid) for rid, p in batch for category in p.categories],
        )
        respelt: dict[int, dict[str, tuple[str, ...]]] = {}
        for f, facet in enumerate(schema.FACETS):
            rows = []
            for rid, p in batch:
                if names := p.facets[f]:
                    stored = dict(self._name_id(facet, name) for name in names)  # one per id
                    rows.extend((rid, i, fid) for i, fid in enumerate(stored))
                    if tuple(stored.values()) != names:
                        respelt.setdefault(rid, {})[facet] = tuple(stored.values())
            if rows:
                run(f"INSERT INTO record_{facet} (record_id, position, {facet}_id) VALUES (?, ?, ?)", rows)
        # Names spelt as the library already spells them ("lora" for a given "LoRA") are indexed
        # as they will be read back, for a later edit to take them out.
        self._index(
            (rid, _fts_values(p.as_record().with_(**respelt[rid])) if rid in respelt else p.index)
            for rid, p in batch
        )

    def _index(self, rows: Iterable[tuple[int, tuple[str, ...]]], writes: _Writes | None = None) -> None:
        """Add records (id, :func:`_fts_values`) to the search indexes (``writes``: others of the
        same columns)."""
        rows = list(rows)
        for insert, _, positions in writes or _INDEX_WRITES:
            pick = itemgetter(*positions)  # a value, or a tuple of them (run for every record loaded)
            if len(positions) == 1:
                self.conn.executemany(insert, [(rid, v) for rid, text in rows if (v := pick(text))])
            else:
                self.conn.executemany(insert, [(rid, *v) for rid, text in rows if any(v := pick(text))])

    def _unindex(self, rid: int) -> None:
        """Take a record out of the search indexes. They keep no copy of the text they index:
        FTS5 takes a row out given the very text it was given, which is what the record as
        stored makes (see :meth:`_write_children`)."""
        text = _fts_values(self._load([rid])[0])
        for _, delete, positions in _INDEX_WRITES:
            row = [text[i] for i in positions]
            if any(row):
                self.conn.execute(delete, [rid, *row])

    def reindex(self) -> None:
        """Fill the (empty) search indexes from the records, a thousand at a time."""
        ids = [r[0] for r in self.conn.execute("SELECT id FROM records ORDER BY id")]
        for start in range(0, len(ids), 1000):
            batch = ids[start : start + 1000]
            self._index((rid, _fts_values(r)) for rid, r in zip(batch, self._load(batch), strict=True))

    def _author_ids(self, names: set[str]) -> dict[str, int]:
        """Ids of author names, adding the new ones: two statements for a whole batch."""
        cache = self._name_ids
        missing = [name for name in names if ("authors", name) not in cache]
        if missing:
            if len(cache) + len(missing) > _NAME_CACHE:
                cache.clear()  # bounded, so a long import keeps a flat memory profile
            self.conn.executemany(
                "INSERT OR IGNORE INTO authors (name, folded, family) VALUES (?, ?, ?)",
                [(n, fold(n), fold(keys.family_name(n))) for n in missing],
            )
            rows = self.conn.execute(
                "SELECT name, id FROM authors WHERE name IN (SELECT value FROM json_each(?))",
                [json.dumps(missing)],
            )
            cache.update((("authors", name), (rid, name)) for name, rid in rows)
            for name in missing:
                if ("authors", name) not in cache:  # a name JSON cannot carry intact (a NUL)
                    row = self.conn.execute("SELECT id FROM authors WHERE name = ?", [name]).fetchone()
                    cache[("authors", name)] = (row[0], name)
        return {name: cache[("authors", name)][0] for name in names}

    def _name_id(self, table: str, name: str) -> tuple[int, str]:
        """The id of ``name`` in a facet table (tags, models…), adding it if new, and its
        spelling there: names differing only in case are one name, spelt as first given.

        Remembered while a load runs; forgotten whenever a transaction fails, since the ids it
        added are then gone.
        """
        cached = self._name_ids.get((table, name))
        if cached is not None:
            return cached
        row = self.conn.execute(f"SELECT id, name FROM {table} WHERE name = ?", [name]).fetchone()
        if row is None:
            row = (self.conn.execute(f"INSERT INTO {table} (name) VALUES (?)", [name]).lastrowid or 0, name)
        if len(self._name_ids) >= _NAME_CACHE:
            self._name_ids.clear()
        self._name_ids[(table, name)] = row
        return row

    def _names_of(self, rids: Sequence[int]) -> dict[str, list[int]]:
        """The author and facet name ids the records use: those that may be left without a
        record when the records change or go."""
        wanted = json.dumps(list(rids))
        return {
            table: [
                r[0]
                for r in self.conn.execute(
                    f"SELECT {column} FROM record_{table}"
                    " WHERE record_id IN (SELECT value FROM json_each(?))",
                    [wanted],
                )
            ]
            for table, column in _NAME_TABLES
        }

    def _drop_orphans(self, candidates: dict[str, list[int]]) -> None:
        """Remove the names among ``candidates`` (from :meth:`_names_of`) no record uses any more."""
        if self._orphan_candidates is not None:  # a load: at its end
            for table, ids in candidates.items():
                self._orphan_candidates[table].extend(ids)
            return
        self._name_ids.clear()
        for table, column in _NAME_TABLES:
            if ids := candidates[table]:
                self.conn.execute(
                    f"DELETE FROM {table} WHERE id IN (SELECT value FROM json_each(?))"
                    f" AND NOT EXISTS (SELECT 1 FROM record_{table} WHERE {column} = {table}.id)",
                    [json.dumps(ids)],
                )


_CHILD_TABLES = (
    "identifiers", "urls", "record_authors", "record_categories", *(f"record_{f}" for f in schema.FACETS)
)  # fmt: skip
#: Tables of names (authors, tags…) and the column of their join table that points at them.
_NAME_TABLES = (("authors", "author_id"), *((facet, f"{facet}_id") for facet in schema.FACETS))
_Writes = tuple[tuple[str, str, tuple[int, ...]], ...]


def _index_writes(prefix: str = "") -> _Writes:
    """For each search index (its name after ``prefix``): the statements that add a record's
    row and take it out, and the positions in :func:`_fts_values` of its columns. A row is
    written only when it has some text, and taken out on the same condition: FTS5 is not told
    to remove what it never had."""
    return tuple(
        (
            f"INSERT INTO {prefix}{table} (rowid, {', '.join(n for n, _ in spec)})"
            f" VALUES (?{', ?' * len(spec)})",
            f"INSERT INTO {prefix}{table} ({prefix}{table}, rowid, {', '.join(n for n, _ in spec)})"
            f" VALUES ('delete', ?{', ?' * len(spec)})",
            tuple([n for n, _ in schema.FTS_COLUMNS].index(n) for n, _ in spec),
        )
        for table, spec in SEARCH_TIERS
    )


class _Scope(NamedTuple):
    """Where a search looks for matches (rows ``f`` of an index) and how it tests them."""

    #: The filters' clause and its parameters.
    where: str
    params: list[Any]
    #: Whether the clause reads the record's row (``records r``).
    joined: bool = False
    #: Whether the search reads the temporary indexes of the few records that pass
    #: (see Library._apart) rather than the library's.
    apart: bool = False


_INDEX_WRITES = _index_writes()
#: A record's id by its exact key, found in the key's only index (which ignores case).
_ID_BY_KEY = "SELECT id FROM records WHERE key = ?1 COLLATE NOCASE AND key = ?1"
#: What the temporary indexes of a search's few records are called: this before the name of
#: the index each stands for.
_APART = "apart_"
_APART_WRITES = _index_writes(_APART)  # in the temp schema: no table of the library has such a name
#: Bytes a page of a new library: a record's row (an abstract is 1-2 kB) takes a 4 kB page of
#: its own, a 16 kB page holds several and wastes less of it. Fewer, fuller pages make the
#: file about a tenth smaller and a load's commits write less. An older library keeps its own.
_PAGE_SIZE = 16384
#: Settings for a bulk load (see Library.loading): a page cache of 256 MB (KiB, negative),
#: sync only at WAL checkpoints, and those every 16,384 pages rather than 1,000 (a page that
#: several chunks change, as an index's inner pages, is copied to the database once per
#: checkpoint). Foreign keys go unchecked: every row a load writes points at a record or a
#: name it has just written or looked up, and a look-up in the records for each of a
#: record's rows of identifiers, links, authors and categories cost a tenth of the load.
_LOADING = {"cache_size": -256 * 1024, "synchronous": 1, "wal_autocheckpoint": 16384, "foreign_keys": 0}
#: Author and facet names remembered during a load before the memory is given back.
_NAME_CACHE = 50_000

#: The columns of a record's row that :func:`_row_values` gives, in order.
_ROW_COLUMNS = (
    "kind", "title", "title_key", "year", "venue", "arxiv_version", "authors_truncated", "abstract",
    "notes", "todo", "section", "published", "updated", "primary_category", "categories", "comment",
    "journal_ref", "entry_type", "bibtex_fields", "identified", "arxiv_links",
)  # fmt: skip
_RECORD_INSERT = (
    f"INSERT INTO records (id, key, added, {', '.join(_ROW_COLUMNS)}, modified)"
    f" VALUES (?, ?, ?{', ?' * len(_ROW_COLUMNS)}, ?)"
)
_RECORD_UPDATE = (
    f"UPDATE records SET {', '.join(c + ' = ?' for c in _ROW_COLUMNS)}, modified = ? WHERE id = ?"
)


def _row_values(record: Record, implied_links: bool) -> tuple[Any, ...]:
    return (
        record.kind,
        record.title,
        normalise_title(record.title),
        record.year,
        record.venue,
        record.arxiv_version,
        int(record.authors_truncated),
        record.abstract,
        record.notes,
        int(record.todo),
        json.dumps(list(record.section), ensure_ascii=False) if record.section else "[]",
        record.published,
        record.updated,
        record.primary_category,
        _categories_json(tuple(record.categories)),
        record.comment,
        record.journal_ref,
        record.entry_type,
        json.dumps(dict(record.bibtex_fields), ensure_ascii=False) if record.bibtex_fields else "{}",
        int(record.identified),
        int(implied_links),
    )


@lru_cache(maxsize=4096)
def _categories_json(categories: tuple[str, ...]) -> str:
    # Cached: a large load has a few thousand sets of categories for a million papers.
    return json.dumps(list(categories))


def _implies_links(record: Record) -> bool:
    """Whether the record's links begin with its arXiv abstract and PDF pages, as those of every
    paper from arXiv's snapshot or API do: the row says so (``arxiv_links``) instead of two rows
    of links, with their index entries, for each of a million papers."""
    from ..ids import parse_arxiv

    arxiv_id = record.arxiv_id
    # Only for an id in the form a look-up parses a page's URL to: `find <page URL>` then goes
    # by the identifier, as it would have found the stored link.
    return (
        bool(arxiv_id)
        and record.urls[:2] == arxiv_pages(arxiv_id)
        and parse_arxiv(arxiv_id) == (arxiv_id, None)
    )


def _implied(row: dict[str, Any], id_map: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The links a record's row implies (see :func:`_implies_links`); ``arxiv_links`` is missing
    while a migration before m014 reads records."""
    return arxiv_pages(id_map["arxiv"]) if row.get("arxiv_links") and "arxiv" in id_map else ()


def _assemble(
    row: dict[str, Any],
    *,
    identifiers: Iterable[Sequence[str]],
    urls: Iterable[Sequence[str]],
    authors: tuple[str, ...],
    facets: Sequence[tuple[str, ...]],
) -> Record:
    """A record from its row (``key`` and :data:`_ROW_COLUMNS`) and what other tables hold of it
    (``facets`` as :data:`schema.FACETS` lists them)."""
    id_map: dict[str, str] = {}
    for scheme, value in identifiers:
        id_map.setdefault(scheme, value)
    return Record(
        key=row["key"],
        kind=row["kind"],
        title=row["title"],
        authors=authors,
        authors_truncated=bool(row["authors_truncated"]),
        year=row["year"],
        venue=row["venue"],
        arxiv_id=id_map.get("arxiv"),
        arxiv_version=row["arxiv_version"],
        doi=id_map.get("doi"),
        acl_id=id_map.get("acl"),
        urls=_implied(row, id_map) + tuple((label, url) for label, url in urls),
        section=tuple(json.loads(row["section"])),
        notes=row["notes"],
        abstract=row["abstract"],
        todo=bool(row["todo"]),
        published=row["published"],
        updated=row["updated"],
        primary_category=row["primary_category"],
        categories=tuple(json.loads(row["categories"])),
        comment=row["comment"],
        journal_ref=row["journal_ref"],
        entry_type=row["entry_type"],
        bibtex_fields=tuple(json.loads(row["bibtex_fields"]).items()),
        **dict(zip(schema.FACETS, facets, strict=True)),
    )


def _same_first_author(a: Record, b: Record) -> bool:
    from ..keys import family_name

    if not a.authors or not b.authors:
        return False
    return fold(family_name(a.authors[0])) == fold(family_name(b.authors[0]))


def _share_a_link(a: Record, b: Record) -> bool:
    from ..ids import normalise_url

    return bool({normalise_url(u) for _, u in a.urls} & {normalise_url(u) for _, u in b.urls})


def _move_if_absent(tmp: Path, path: Path) -> None:
    """Put the finished library in place, unless another process got there first (then use theirs)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError:
        # Filesystems without hard links: a rename, which could replace a concurrent first run's file.
        if not path.exists():
            os.replace(tmp, path)


def _unwritable(path: Path, exc: sqlite3.OperationalError) -> StoreError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreError(f"{path} is busy: another llmref is writing to it.", "Try again in a moment.")
    if "readonly" in text or "read-only" in text:
        return StoreError(f"{path} is read-only.", "Check the permissions of the file and its folder.")
    return StoreError(f"Cannot write to {path}: {text}.", "Check the disk space and the file's permissions.")


def _connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, timeout=5.0)
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        raise StoreError(
            f"Cannot open {path}: {exc}.", "Check the path and its permissions, or use --db."
        ) from exc
    return conn


def _running(pid: int) -> bool:
    """Whether process ``pid`` (of this machine) is still running."""
    if pid == os.getpid() or os.name != "posix":
        return True  # elsewhere there is no harmless way to ask; the next load builds them
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    return True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _id_value(scheme: str, value: str) -> str:
    # DOIs are case-insensitive (the DOI Handbook); they are stored and looked up in lower case.
    return value.lower() if scheme == "doi" else value


def _fts_values(record: Record) -> tuple[str, ...]:
    # Names once each, as the library stores them: a record read back must make the same text.
    tags, models, tasks, datasets = (dict.fromkeys(getattr(record, facet)) for facet in schema.FACETS)
    values = _FTS_ORDER(
        {
            "title": record.title,
            "tags": " ".join(tags),
            "subwords": fts.subwords([record.title, *tags, *models]),
            "authors": ", ".join(record.authors),
            "models": ", ".join(models),
            "tasks": ", ".join(tasks),
            "datasets": ", ".join(datasets),
            "venue": record.venue or "",
            "section": " / ".join(record.section),
            "abstract": record.abstract or "",
            "notes": record.notes,
        }
    )
    # One test of the whole text: most records are ASCII, which index_text leaves as it is.
    return values if "".join(values).isascii() else tuple(map(fts.index_text, values))


_FTS_ORDER = itemgetter(*(name for name, _ in schema.FTS_COLUMNS))
