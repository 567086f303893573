"""The database schema as named, append-only migrations.

Each migration is a plain function; :func:`migrations` registers them, in order, with
sqlite-utils' ``Migrations`` only when some are pending, so that opening an up-to-date library
(every ``llmref search``) does not pay for importing sqlite-utils. Never edit or reorder a
migration that has shipped: add a new one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..errors import StoreError

if TYPE_CHECKING:
    import sqlite3

    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

MIGRATION_SET = "llmref"

#: Facets of a record stored as a name table plus an ordered join table each.
FACETS = ("tags", "models", "tasks", "datasets")

#: Columns of the full-text index, with their bm25 weights: a title match outranks everything,
#: then tags (a badge is a strong statement about a paper), then authors and the rest.
FTS_COLUMNS = (
    ("title", 10.0),
    ("tags", 6.0),
    ("subwords", 4.0),
    ("authors", 4.0),
    ("models", 3.0),
    ("tasks", 3.0),
    ("datasets", 2.0),
    ("venue", 2.0),
    ("section", 1.0),
    ("abstract", 1.5),
    ("notes", 1.0),
)


#: Small indexes of their own, with some of records_fts's columns and their bm25 weights, for
#: what says most about a record: the names it was given (tags, models, the parts of compound
#: names such as AdaLoRA) and its title. Search takes their matches first, ranked in the small
#: index: ranking "lora" among a million titles is cheap where ranking it among a million
#: abstracts is not, and there a column few records fill is not drowned by bm25's length
#: normalisation over the rest.
SMALL_INDEXES = {
    "records_badges": (("tags", 6.0), ("models", 3.0), ("subwords", 2.0)),
    "records_title": (("title", 1.0),),
}
_TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'"

#: Indexes that only queries use (filters, stats, title matching), not a bulk load itself: a
#: large load drops them and builds them again at its end, a sort each, where keeping them up
#: to date costs a look-up per row (see Library.loading). Keys and identifiers stay indexed:
#: a load checks and matches by them.
DEFERRED_INDEXES = (
    "records_title_key",
    "records_year",
    "records_kind",
    "urls_normalized",
    "record_authors_author",
    "authors_family",
    "authors_folded",
    "record_categories_record",
    "records_venue",
    "records_title_order",
)
#: Where a load keeps the indexes it dropped until it builds them again.
PENDING_INDEXES = "pending_indexes"


def any_filled(columns: tuple[tuple[str, float], ...]) -> str:
    """SQL that holds when a records_fts row has text in any of ``columns`` (only such rows are
    in a small index)."""
    return " OR ".join(f"{name} != ''" for name, _ in columns)


def m001_initial(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE records (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            year INTEGER,
            venue TEXT,
            arxiv_version INTEGER,
            authors_truncated INTEGER NOT NULL DEFAULT 0,
            abstract TEXT,
            notes TEXT NOT NULL DEFAULT '',
            todo INTEGER NOT NULL DEFAULT 0,
            section TEXT NOT NULL DEFAULT '[]',
            added TEXT NOT NULL,
            modified TEXT NOT NULL
        )"""
    )
    # One row per identifier: every arXiv id, DOI, ACL Anthology id or Semantic Scholar id
    # points at exactly one record, so any of them finds it.
    db.execute(
        """
        CREATE TABLE identifiers (
            scheme TEXT NOT NULL,
            value TEXT NOT NULL,
            record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
            PRIMARY KEY (scheme, value)
        )"""
    )
    db.execute("CREATE INDEX identifiers_record ON identifiers(record_id)")
    # Links are many per record and may legitimately be shared (a project page), so they are
    # looked up through their normalised form but not unique.
    db.execute(
        """
        CREATE TABLE urls (
            record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            label TEXT NOT NULL,
            url TEXT NOT NULL,
            normalized TEXT NOT NULL,
            PRIMARY KEY (record_id, position)
        )"""
    )
    db.execute("CREATE INDEX urls_normalized ON urls(normalized)")
    db.execute(
        """
        CREATE TABLE authors (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            folded TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE record_authors (
            record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            author_id INTEGER NOT NULL REFERENCES authors(id),
            PRIMARY KEY (record_id, position)
        )"""
    )
    db.execute("CREATE INDEX record_authors_author ON record_authors(author_id)")
    for facet in FACETS:
        db.execute(f"CREATE TABLE {facet} (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE)")
        db.execute(
            f"""
            CREATE TABLE record_{facet} (
                record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                {facet}_id INTEGER NOT NULL REFERENCES {facet}(id),
                PRIMARY KEY (record_id, position),
                UNIQUE (record_id, {facet}_id)
            )"""
        )
        db.execute(f"CREATE INDEX record_{facet}_name ON record_{facet}({facet}_id)")
    columns = ", ".join(name for name, _ in FTS_COLUMNS)
    # Diacritics folded so that "ruckle" finds Rücklé. No stemmer: queries match as prefixes
    # instead, and porter would make "adapter" find "adaptive" (both stem to "adapt").
    db.execute(f"CREATE VIRTUAL TABLE records_fts USING fts5({columns}, {_TOKENIZE})")


def m002_arxiv_metadata(db: Database) -> None:
    records = db["records"]
    for column in ("published", "updated", "primary_category", "comment", "journal_ref"):
        records.add_column(column, str)
    records.add_column("categories", str, not_null_default="[]")


def m003_key_case_insensitive(db: Database) -> None:
    # BibTeX and biber treat keys that differ only in case as the same key: keep them unique
    # that way, and let the uniqueness check use an index.
    db.execute("CREATE UNIQUE INDEX records_key_nocase ON records(key COLLATE NOCASE)")


def m004_bibtex_entry(db: Database) -> None:
    db["records"].add_column("entry_type", str)
    db["records"].add_column("bibtex_fields", str, not_null_default="{}")


def m005_title_key(db: Database) -> None:
    # The normalised title, so that finding "the same work by title" (imports, arXiv matches
    # for title-only records) is an index look-up rather than a pass over every title.
    from ..text import normalise_title

    db["records"].add_column("title_key", str, not_null_default="")
    for rid, title in db.execute("SELECT id, title FROM records").fetchall():
        db.execute("UPDATE records SET title_key = ? WHERE id = ?", [normalise_title(title), rid])
    db.execute("CREATE INDEX records_title_key ON records(title_key)")


def m006_small_indexes(db: Database) -> None:
    # Contentless: their text is records_fts's, which a delete reads back (until m008).
    for table, spec in SMALL_INDEXES.items():
        columns = ", ".join(name for name, _ in spec)
        db.execute(f"CREATE VIRTUAL TABLE {table} USING fts5({columns}, content = '', {_TOKENIZE})")
        db.execute(
            f"INSERT INTO {table} (rowid, {columns})"
            f" SELECT rowid, {columns} FROM records_fts WHERE {any_filled(spec)}"
        )


def m007_indexes_for_scale(db: Database) -> None:
    # What --year, --author and --category look up, indexed: at a million records a scan of
    # the records (or of two million author names) takes longer than the search itself.
    from ..keys import family_name
    from ..text import fold

    db.execute("CREATE INDEX records_year ON records(year)")
    # What stats counts, so that it reads small indexes rather than every row (abstracts included).
    db.execute("CREATE INDEX records_kind ON records(kind)")
    # Of the records without an abstract (few, in a library of arXiv papers): an index of those
    # with one would take an entry for nearly every record.
    db.execute(
        "CREATE INDEX records_without_abstract ON records(kind) WHERE abstract IS NULL OR abstract = ''"
    )
    db.execute("CREATE INDEX records_todo ON records(todo) WHERE todo")
    db["records"].add_column("identified", int, not_null_default=1)
    db.execute(
        "UPDATE records SET identified = 0 WHERE id NOT IN (SELECT record_id FROM identifiers)"
        " AND id NOT IN (SELECT record_id FROM urls)"
    )
    db.execute("CREATE INDEX records_unidentified ON records(identified) WHERE NOT identified")
    db.execute("CREATE INDEX records_section ON records(section) WHERE section != '[]'")
    db["authors"].add_column("family", str, not_null_default="")
    for author_id, name in db.execute("SELECT id, name FROM authors").fetchall():
        db.execute("UPDATE authors SET family = ? WHERE id = ?", [fold(family_name(name)), author_id])
    db.execute("CREATE INDEX authors_family ON authors(family)")
    db.execute("CREATE INDEX authors_folded ON authors(folded)")
    db.execute(
        """
        CREATE TABLE record_categories (
            category TEXT NOT NULL,
            record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
            PRIMARY KEY (category, record_id)
        ) WITHOUT ROWID"""
    )
    db.execute("CREATE INDEX record_categories_record ON record_categories(record_id)")
    db.execute(
        "INSERT OR IGNORE INTO record_categories (category, record_id)"
        " SELECT j.value, r.id FROM records r, json_each(r.categories) j"
    )


def m008_contentless_index(db: Database) -> None:
    # The full-text index keeps no copy of the text it indexes: that copy held every abstract a
    # second time, a third of the file and of what each load writes. To take a record out, its
    # index text is made again from the record (Library._unindex), so all three indexes are
    # filled anew from the records, as that makes them, whatever an older version wrote.
    # Changing what Library's _fts_values makes of a record needs a migration like this one.
    from pathlib import Path

    from .library import Library

    columns = ", ".join(name for name, _ in FTS_COLUMNS)
    db.execute("DROP TABLE records_fts")
    db.execute(f"CREATE VIRTUAL TABLE records_fts USING fts5({columns}, content = '', {_TOKENIZE})")
    for table in SMALL_INDEXES:
        db.execute(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")
    Library(db.conn, Path()).reindex()


def m009_venue_index(db: Database) -> None:
    # What --venue looks up: a million records were read for `list --venue ICLR`.
    db.execute("CREATE INDEX records_venue ON records(venue COLLATE NOCASE)")


def m010_title_order_index(db: Database) -> None:
    # What `list --sort title` reads a page from: sorting a million titles took most of a second.
    db.execute("CREATE INDEX records_title_order ON records(title COLLATE NOCASE)")


def m011_record_authors_by_record(db: Database) -> None:
    # A record's authors kept in one b-tree ordered by record and position, author ids included:
    # testing a record against --author reads its few rows there, where the rowid table's rows
    # were found in the key's own index and then read again from the table (most of `search
    # quantum --author wang` at a million records), and a load writes one b-tree for them, not two.
    db.execute(
        """
        CREATE TABLE record_authors_by_record (
            record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            author_id INTEGER NOT NULL REFERENCES authors(id),
            PRIMARY KEY (record_id, position)
        ) WITHOUT ROWID"""
    )
    db.execute(
        "INSERT INTO record_authors_by_record (record_id, position, author_id)"
        " SELECT record_id, position, author_id FROM record_authors"
        # Rows a tool without foreign keys left behind would fail the copy's checks.
        " WHERE record_id IN (SELECT id FROM records) AND author_id IN (SELECT id FROM authors)"
    )
    db.execute("DROP TABLE record_authors")
    db.execute("ALTER TABLE record_authors_by_record RENAME TO record_authors")
    db.execute("CREATE INDEX record_authors_author ON record_authors(author_id)")


def m012_one_key_index(db: Database) -> None:
    # Keys were indexed twice: by the UNIQUE of m001 and by records_key_nocase (m003), whose
    # uniqueness implies the other's. Every record a load writes went into both, and at a
    # million records each commit rewrote most pages of both (keys come in no order). The table
    # is made again without the first, the documented way to drop a column constraint.
    conn = db.conn
    if conn.in_transaction:
        raise RuntimeError("m012 must run outside a transaction")  # foreign keys cannot be turned off
    # With foreign keys on, dropping the table would delete every row that points at a record.
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        try:
            conn.execute("BEGIN IMMEDIATE")
            # Read under the write lock: another process may have built or dropped indexes (a
            # load's deferred ones), or made this very change, since the library was opened.
            if conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'sqlite_autoindex_records_1'"
            ).fetchone():
                _rebuild_records_without_key_constraint(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # an error may have ended it already
                conn.execute("ROLLBACK")
            raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


def _rebuild_records_without_key_constraint(conn: sqlite3.Connection) -> None:
    (table,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'records'"
    ).fetchone()
    indexes = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' AND sql IS NOT NULL"
    ).fetchall()
    rebuilt, changes = re.subn(r"\bkey TEXT NOT NULL UNIQUE\b", "key TEXT NOT NULL", table)
    rebuilt, named = re.subn(r"^CREATE TABLE \W?records\W?", "CREATE TABLE records_rebuilt ", rebuilt)
    if changes != 1 or named != 1:
        raise StoreError(
            "This library's records table is not as llmref made it; it cannot be upgraded.",
            "Restore the file from a backup, or point --db or LLMREF_DB at another library.",
        )
    conn.execute(rebuilt)
    conn.execute("INSERT INTO records_rebuilt SELECT * FROM records")
    conn.execute("DROP TABLE records")
    conn.execute("ALTER TABLE records_rebuilt RENAME TO records")
    for (sql,) in indexes:
        conn.execute(sql)


m012_one_key_index.transactional = False  # type: ignore[attr-defined]


#: Bytes of new index entries FTS5 holds in memory before writing them out as a segment
#: (its default is 1 MB); it writes them at each commit anyway.
FTS_PENDING_BYTES = 64 * 2**20


def m013_index_segments_per_commit(db: Database) -> None:
    # FTS5 wrote what a transaction added to an index as a new segment every 1 MB of it, and
    # merges segments four at a time as they pile up: a load's 20,000-record chunk made dozens
    # of small segments, each merged again and again. Held until the commit, a chunk makes one,
    # and a million records' index takes about three quarters of the time. Searches read as
    # many segments as before (merges still go four at a time).
    for table in ("records_fts", *SMALL_INDEXES):
        db.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('hashsize', ?)", [FTS_PENDING_BYTES])


def m014_implied_arxiv_links(db: Database) -> None:
    # A paper from arXiv's snapshot or API has its abstract and PDF pages as its first two
    # links: two rows of links, with entries in two indexes, for each of a million papers, that
    # its arXiv id already says. 1: the record's links begin with those two, not stored as rows.
    # Records stored before keep their rows (0), which read back the same.
    db["records"].add_column("arxiv_links", int, not_null_default=0)


MIGRATIONS = (
    m001_initial,
    m002_arxiv_metadata,
    m003_key_case_insensitive,
    m004_bibtex_entry,
    m005_title_key,
    m006_small_indexes,
    m007_indexes_for_scale,
    m008_contentless_index,
    m009_venue_index,
    m010_title_order_index,
    m011_record_authors_by_record,
    m012_one_key_index,
    m013_index_segments_per_commit,
    m014_implied_arxiv_links,
)
MIGRATION_NAMES = tuple(m.__name__ for m in MIGRATIONS)


def migrations() -> Migrations:
    from sqlite_utils.migrations import Migrations

    registry = Migrations(MIGRATION_SET)
    for migration in MIGRATIONS:
        registry(transactional=getattr(migration, "transactional", True))(migration)
    return registry
