from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmref.errors import NotFoundError, StoreError, UsageError
from llmref.models import Record
from llmref.store import query as filters_sql
from llmref.store import schema
from llmref.store.library import Library
from llmref.store.query import NO_FILTERS, Filters, parse_years

from .conftest import ADALORA, FIXTURE_RECORDS, LORA


@pytest.fixture(params=["gathered", "looked up", "looked up, names read"])
def membership(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Filters in all their forms: the records that pass gathered first, or each record looked
    up (when more pass than GATHERED_AT_MOST, or ROWS_GATHERED_AT_MOST for year, venue, kind),
    by the ids of the authors' names that pass or, past NAMES_LISTED_AT_MOST, by its names."""
    if request.param != "gathered":
        monkeypatch.setattr(filters_sql, "GATHERED_AT_MOST", -1)
        monkeypatch.setattr(filters_sql, "ROWS_GATHERED_AT_MOST", -1)
    if request.param == "looked up, names read":
        monkeypatch.setattr(filters_sql, "NAMES_LISTED_AT_MOST", -1)
    return str(request.param)


def keys_of(records) -> list[str]:
    return [r.key for r in records]


def test_a_new_library_holds_the_seed_with_keys(library: Library) -> None:
    assert library.keys() == [
        "hu2021lora",
        "zhang2023adaptive",
        "li2021prefixtuning",
        "pfeiffer2021adapterfusion",
        "peft",
        "towards",
    ]


def test_records_come_back_exactly_as_stored(library: Library) -> None:
    for original, key in zip(FIXTURE_RECORDS, library.keys(), strict=True):
        assert library.get(key) == original.with_(key=key)
    assert library.get("hu2021lora") == LORA.with_(key="hu2021lora")


@pytest.mark.parametrize(
    "ref",
    [
        "hu2021lora",
        "HU2021LORA",
        "2106.09685",
        "2106.09685v2",
        "arXiv:2106.09685",
        "https://arxiv.org/abs/2106.09685v1",
        "https://arxiv.org/pdf/2106.09685.pdf",
        "10.48550/arXiv.2106.09685",
    ],
)
def test_find_accepts_a_key_or_any_form_of_the_arxiv_id(library: Library, ref: str) -> None:
    assert library.find(ref).key == "hu2021lora"


@pytest.mark.parametrize(
    "ref",
    ["2021.acl-long.353", "https://aclanthology.org/2021.acl-long.353.pdf", "10.18653/v1/2021.acl-long.353"],
)
def test_find_accepts_acl_ids_and_their_doi(library: Library, ref: str) -> None:
    assert library.find(ref).key == "li2021prefixtuning"


def test_find_by_url(library: Library) -> None:
    assert library.find("https://www.github.com/huggingface/peft/").key == "peft"


def test_unknown_key_suggests_close_matches(library: Library) -> None:
    with pytest.raises(NotFoundError) as err:
        library.find("hu2021lroa")
    assert "hu2021lora" in (err.value.hint or "")


def test_search_puts_title_matches_first_and_finds_compound_names(library: Library) -> None:
    hits = library.search("lora")
    assert keys_of(h.record for h in hits)[:2] == ["hu2021lora", "zhang2023adaptive"]
    assert "peft" in keys_of(h.record for h in hits)


@pytest.mark.parametrize(
    "query",
    [
        "GPT-4",
        "low-rank",
        "chain-of-thought",
        '"unbalanced',
        "AND",
        "OR lora",
        "NOT",
        "a:b",
        "lora*",
        "x' OR 1=1",
    ],
)
def test_any_text_is_a_query(library: Library, query: str) -> None:
    library.search(query)


@pytest.mark.parametrize("query", ["*", "   ", '"', "-", "("])
def test_a_query_without_words_is_a_usage_error(library: Library, query: str) -> None:
    with pytest.raises(UsageError):
        library.search(query)


def test_search_matches_hyphenated_words_as_phrases(library: Library) -> None:
    assert keys_of(h.record for h in library.search("low-rank")) == ["hu2021lora"]


def test_search_folds_accents_and_finds_chinese(library: Library) -> None:
    assert keys_of(h.record for h in library.search("ruckle")) == ["pfeiffer2021adapterfusion"]
    assert "hu2021lora" in keys_of(h.record for h in library.search("情况"))
    assert keys_of(h.record for h in library.search("家族")) == ["pfeiffer2021adapterfusion"]


def test_raw_queries_allow_fts_syntax_and_report_mistakes(library: Library) -> None:
    assert set(keys_of(h.record for h in library.search("prefix OR adaptive", raw=True))) >= {
        "li2021prefixtuning",
        "zhang2023adaptive",
    }
    with pytest.raises(UsageError):
        library.search('lora AND ("x', raw=True)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(tags=("lora",)), ["hu2021lora"]),
        (Filters(authors=("liang",)), ["li2021prefixtuning"]),
        (Filters(authors=("RUCKLE",)), ["pfeiffer2021adapterfusion"]),
        (
            Filters(year_from=2021, year_to=2021),
            ["hu2021lora", "li2021prefixtuning", "pfeiffer2021adapterfusion"],
        ),
        (Filters(year_from=2022), ["zhang2023adaptive"]),
        (Filters(venue="acl"), ["li2021prefixtuning"]),
        (Filters(models=("gpt2",)), ["hu2021lora", "li2021prefixtuning"]),
        (Filters(tasks=("summar",)), ["li2021prefixtuning"]),
        (Filters(sections=("Adapter",)), ["pfeiffer2021adapterfusion"]),
        (Filters(sections=("统一",)), ["towards"]),
        (Filters(kind="tool"), ["peft"]),
        (Filters(models=("gpt2",), tasks=("glue",)), ["hu2021lora"]),
        (Filters(tags=("100%_",)), []),
    ],
)
def test_list_filters(library: Library, filters: Filters, expected: list[str], membership: str) -> None:
    assert keys_of(library.list(filters)) == expected
    assert keys_of(library.list(filters, limit=20)) == expected  # a page: read until full


def test_filters_combine_with_a_query(library: Library) -> None:
    assert keys_of(h.record for h in library.search("tuning", Filters(venue="ACL"))) == ["li2021prefixtuning"]


@pytest.mark.parametrize(
    "filters",
    [
        Filters(tags=("lora",)),
        Filters(sections=("Adapter",)),
        Filters(authors=("hu",), models=("gpt",)),
        Filters(categories=("cs.",)),
        Filters(year_from=2021, tasks=("summar",)),
        Filters(venue="acl"),
        Filters(kind="paper", year_to=2021),
    ],
)
def test_a_filtered_search_finds_what_both_find(library: Library, filters: Filters, membership: str) -> None:
    # Filters that test a record by its id alone are checked on the index's rows, without
    # reading the records: the same records either way.
    library.save(library.get("hu2021lora").with_(categories=("cs.CL",)))
    for query in ("a", "adaptation", "tuning"):
        found = {h.record.key for h in library.search(query, limit=None)}
        allowed = {r.key for r in library.list(filters)}
        expected = found & allowed
        assert {h.record.key for h in library.search(query, filters)} == expected
        assert {r.key for r in library.records(library.search_ids(query, filters))} == expected


def statements(library: Library, run) -> list[str]:
    """The SQL statements ``run()`` sends to the library's connection."""
    sent: list[str] = []
    library.conn.set_trace_callback(sent.append)
    try:
        run()
    finally:
        library.conn.set_trace_callback(None)
    return sent


@pytest.mark.parametrize(
    "filters", [Filters(venue="Nowhere"), Filters(authors=("nobody",)), Filters(tags=("lora",), kind="tool")]
)
def test_a_filter_nothing_passes_ends_a_search_before_the_indexes(library: Library, filters: Filters) -> None:
    for limit in (20, None):
        sent = statements(library, lambda n=limit: library.search("adaptation", filters, limit=n))
        assert sent and not any("MATCH" in sql for sql in sent)
    assert library.search_ids("adaptation", filters) == []


@pytest.mark.parametrize("apart", [True, False])
@pytest.mark.parametrize(
    ("filters", "query", "expected", "form"),
    [
        (Filters(venue="ICLR", year_from=2022), "budget", ["zhang2023adaptive"], "f.rowid = "),
        (
            Filters(year_from=2021, year_to=2021),
            "prefix",
            ["li2021prefixtuning"],
            "+f.rowid IN (SELECT value",
        ),
    ],
)
def test_a_narrow_filter_is_tested_on_the_matches_by_id(
    library: Library,
    membership: str,
    monkeypatch: pytest.MonkeyPatch,
    apart: bool,
    filters: Filters,
    query: str,
    expected: list[str],
    form: str,
) -> None:
    # Few records pass: in a large library searched alone, in indexes of their own; else their
    # ids tested on the library's index (one id: the only row FTS5 looks at).
    monkeypatch.setattr(filters_sql, "SEARCHED_APART_FROM", 0 if apart else 10**9)
    form = " FROM apart_records_" if apart else form
    sent = statements(library, lambda: library.search(query, filters))
    searches = [sql for sql in sent if "MATCH" in sql]
    if membership == "gathered":  # few records pass: their ids are all a search needs
        assert searches and all("JOIN records" not in sql and form in sql for sql in searches)
    else:  # no filter counts as narrow: each match's row is read
        assert searches and all("JOIN records" in sql for sql in searches)
    assert keys_of(h.record for h in library.search(query, filters)) == expected


@pytest.mark.parametrize(
    ("query", "raw"),
    [
        ("adapt", False),
        ("low rank", False),
        ("ruckle", False),
        ("家族", False),
        ("gpt2", False),
        ("title:tuning", True),
        ("lora OR prefix", True),
        ("NEAR(low adaptation, 3)", True),
        ('tags:"moe moe"', True),
        ("moe", False),
    ],
)
def test_the_few_records_searched_alone_are_those_the_library_index_finds(
    library: Library, monkeypatch: pytest.MonkeyPatch, query: str, raw: bool
) -> None:
    # A name given twice is stored, and so indexed, once: the text made again from the record
    # read back is the text the library's index holds.
    library.insert(
        Record(title="Mixture of Adapters", year=2021, tags=("moe", "moe"), models=("GPT2", "GPT2"))
    )
    filters = Filters(year_from=2021, year_to=2021)
    found = {}
    for apart in (True, False):
        monkeypatch.setattr(filters_sql, "SEARCHED_APART_FROM", 0 if apart else 10**9)
        sent = statements(library, lambda: library.search_ids(query, filters, raw=raw))
        assert any(" FROM apart_records_" in sql for sql in sent) == apart
        found[apart] = (
            set(library.search_ids(query, filters, raw=raw)),
            {h.record.key for h in library.search(query, filters, raw=raw, limit=50)},
        )
    assert found[True] == found[False]
    assert all(library.records(list(found[True][0])))  # the records themselves, all there


def test_a_search_reads_one_state_of_the_library(
    library: Library, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A record another process deletes while a search runs is found, or not, but never half.
    monkeypatch.setattr(filters_sql, "SEARCHED_APART_FROM", 0)
    few_passing = Filters.few_passing

    def then_deleted(self: Filters, conn: sqlite3.Connection, at_most: int) -> list[int] | None:
        few = few_passing(self, conn, at_most)
        with Library.open(db_path) as other:
            if other.get("li2021prefixtuning"):
                other.delete_many(["li2021prefixtuning"])
        return few

    monkeypatch.setattr(Filters, "few_passing", then_deleted)
    filters = Filters(year_from=2021, year_to=2021)
    (prefix_id,) = library.record_ids_for("acl", "2021.acl-long.353")
    assert prefix_id in library.search_ids("prefix", filters)  # as the search began
    assert "li2021prefixtuning" not in keys_of(h.record for h in library.search("tuning", filters))
    assert not library.conn.in_transaction


def test_a_list_reads_one_state_of_the_library(
    library: Library, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ids of the names an author filter matches are looked up before the records are read:
    # what another process writes in between (ids of deleted names are given again) is not seen.
    monkeypatch.setattr(filters_sql, "GATHERED_AT_MOST", -1)  # each record read is tested
    authors_listed = filters_sql._authors_listed

    def then_deleted(params: list, conn: sqlite3.Connection):
        test = authors_listed(params, conn)
        with Library.open(db_path) as other:
            if other.get("hu2021lora"):
                other.delete_many(["hu2021lora"])
        return test

    monkeypatch.setattr(filters_sql, "_authors_listed", then_deleted)
    assert keys_of(library.list(Filters(authors=("hu",)), limit=5)) == ["hu2021lora"]
    assert keys_of(library.list(Filters(authors=("hu",)), limit=5)) == []  # gone by then
    assert not library.conn.in_transaction


def test_the_few_records_a_filter_passes_are_searched_alone_and_ranked_in_tiers(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filters_sql, "SEARCHED_APART_FROM", 5)  # a large library, for this test
    about = Record(title="Sparse Mixtures", abstract="Routing tokens to experts.", tags=("moe",))
    mention = Record(
        title="Dense Models", abstract="Unlike sparse mixtures, nothing is routed.", tags=("moe",)
    )
    named = Record(title="Switch", abstract="A router.", tags=("moe",), models=("SparseMixer",))
    library.insert_many([mention, about, named])
    library.insert(Record(title="Sparse Everything", abstract="Not tagged."))
    moe = Filters(tags=("moe",))
    sent = statements(library, lambda: library.search("sparse", moe))
    searches = [sql for sql in sent if "MATCH" in sql]
    assert searches and all(" FROM apart_records_" in sql for sql in searches)
    # Compound-name parts first, then titles, then the rest: as in the library's indexes.
    assert keys_of(h.record for h in library.search("sparse", moe)) == ["switch", "sparse", "dense"]
    assert keys_of(library.records(library.search_ids("sparse", moe))) == ["switch", "sparse", "dense"]
    assert keys_of(h.record for h in library.search("routing", moe)) == ["sparse"]
    assert library.search("tagged", moe) == []
    assert not library.conn.in_transaction
    with library.reading():
        assert keys_of(h.record for h in library.search("routing", moe)) == ["sparse"]
        # Made for the search and emptied when it ends.
        for table in ("apart_records_fts", "apart_records_title", "apart_records_badges"):
            assert (
                library.conn.execute(f"SELECT rowid FROM {table} WHERE {table} MATCH 'r*'").fetchall() == []
            )
        assert library.conn.in_transaction  # reading's own, still open
    assert not library.conn.in_transaction
    library.save(library.get("dense").with_(abstract="Routing, densely."))  # can write after it
    assert {h.record.key for h in library.search("routing", moe)} == {"sparse", "dense"}


def test_a_row_filter_many_records_pass_is_tested_by_id_from_its_index(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filters_sql, "GATHERED_AT_MOST", -1)  # none counts as few
    filters = Filters(year_from=2021, tasks=("summar",))
    sent = statements(library, lambda: library.search("tuning", filters))
    searches = [sql for sql in sent if "MATCH" in sql]
    assert len(searches) > 1 and all("+f.rowid IN temp.search_passing" in sql for sql in searches)
    assert sum("INSERT INTO temp.search_passing" in sql for sql in sent) == 1  # gathered once
    assert keys_of(h.record for h in library.search("tuning", filters)) == ["li2021prefixtuning"]
    assert not library.conn.in_transaction  # the temporary table's writes left nothing open
    with library.reading():
        assert keys_of(h.record for h in library.search("tuning", filters)) == ["li2021prefixtuning"]
        assert library.conn.in_transaction  # reading's own, still open
    library.insert(Record(title="Tuning Again", year=2022, tasks=("summarization",)))  # can write
    assert len(library.search("tuning", filters)) == 2
    monkeypatch.setattr(filters_sql, "ROWS_GATHERED_AT_MOST", 1)  # too many for that
    sent = statements(library, lambda: library.search("tuning", filters))
    assert all("JOIN records" in sql for sql in sent if "MATCH" in sql)


def test_every_match_of_a_search_is_tested_against_a_gathered_filter_not_looked_up_by_it(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a constraint on the index's rowid, FTS5 would run the query once for each of the
    # (maybe hundreds of thousands of) ids: minutes for `search_ids` at a million records.
    monkeypatch.setattr(filters_sql, "GATHERED_AT_MOST", -1)
    filters = Filters(authors=("hu",), categories=("cs.",))
    library.save(library.get("hu2021lora").with_(categories=("cs.CL",)))
    sent = statements(library, lambda: library.search_ids("adaptation", filters))
    searches = [sql for sql in sent if "MATCH" in sql]
    assert searches and all(sql.count("+f.rowid IN (SELECT") == 2 for sql in searches)
    assert keys_of(library.records(library.search_ids("adaptation", filters))) == ["hu2021lora"]


def test_few_passing_gives_the_records_every_filter_lets_through(library: Library) -> None:
    hu = Filters(authors=("hu",), year_from=2019)
    assert keys_of(library.records(hu.few_passing(library.conn, 1))) == ["hu2021lora"]
    assert Filters(authors=("hu",), year_from=2022).few_passing(library.conn, 1) == []
    assert Filters(year_from=2019).few_passing(library.conn, 1) is None  # each lets more through
    assert Filters(venue="nowhere").few_passing(library.conn, 0) == []
    assert NO_FILTERS.few_passing(library.conn, 100) is None


def test_list_sorts(library: Library) -> None:
    assert keys_of(library.list(sort="year", reverse=True))[0] == "zhang2023adaptive"
    assert keys_of(library.list(sort="key"))[0] == "hu2021lora"
    library.insert(
        LORA.with_(key="Houlsby2019", title="Parameter-Efficient Transfer", arxiv_id=None, doi=None)
    )
    assert keys_of(library.list(sort="key"))[:2] == ["Houlsby2019", "hu2021lora"]  # case ignored, as biber
    library.delete_many(["Houlsby2019"])
    for n, year in enumerate((None, 2019, None, 2019)):
        library.insert(Record(title=f"Dated {n}", year=year))
    everything = list(enumerate(library.list()))  # in the order added
    for reverse in (False, True):
        # Ties in the order added (newest first when reversed); no year last either way.
        dated = sorted(((r.year, n, r) for n, r in everything if r.year), reverse=reverse)
        undated = sorted(((n, r) for n, r in everything if not r.year), reverse=reverse)
        expected = keys_of(r for *_, r in dated) + keys_of(r for _, r in undated)
        assert keys_of(library.list(sort="year", reverse=reverse)) == expected
        for limit in range(1, len(expected) + 1):
            assert keys_of(library.list(sort="year", reverse=reverse, limit=limit)) == expected[:limit]
    assert keys_of(library.list(Filters(year_to=2019), sort="year", limit=3)) == ["dated2019", "dated2019b"]
    with pytest.raises(UsageError):
        library.list(sort="colour")


def test_title_order_ignores_case_and_keeps_ties_in_the_order_added(library: Library) -> None:
    for title in ("alpha", "Beta", "ALPHA", "beta", "Alpha"):
        library.insert(Record(title=title))
    everything = list(enumerate(library.list()))
    for reverse in (False, True):
        expected = keys_of(
            r for *_, r in sorted(((r.title.casefold(), n, r) for n, r in everything), reverse=reverse)
        )
        for limit in (None, *range(1, len(expected) + 1)):
            assert keys_of(library.list(sort="title", reverse=reverse, limit=limit)) == expected[:limit]
    sql = "EXPLAIN QUERY PLAN SELECT r.id FROM records r ORDER BY r.title COLLATE NOCASE, r.id LIMIT 5"
    plan = " ".join(row[-1] for row in library.conn.execute(sql))
    assert "records_title_order" in plan and "TEMP B-TREE" not in plan  # read in order, not sorted


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2021", (2021, 2021)), ("2021-2023", (2021, 2023)), ("2021-", (2021, None)), ("-2020", (None, 2020))],
)
def test_parse_years(text: str, expected: tuple) -> None:
    assert parse_years(text) == expected


@pytest.mark.parametrize("text", ["202", "twenty", "2023-2021", "-"])
def test_bad_years_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_years(text)


def test_unknown_kind_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        Filters(kind="poem")


def test_facet_counts(library: Library) -> None:
    assert ("GPT2 M/L", 2) in library.facet_counts("models")
    assert library.facet_counts("tags")[0][1] == 1


def test_a_colliding_key_gets_a_suffix_and_the_first_keeps_its_own(library: Library) -> None:
    other = Record(title="LoRA Learns Less and Forgets Less", authors=("Dan Hu",), year=2021)
    stored = library.insert(other)
    assert stored.key == "hu2021lorab"
    assert library.get("hu2021lora").title.startswith("LoRA: Low-Rank")


def test_editing_a_title_keeps_the_key(library: Library) -> None:
    lora = library.get("hu2021lora")
    library.save(lora.with_(title="Completely Different Title", tags=("LoRA", "PEFT")))
    again = library.get("hu2021lora")
    assert again.title == "Completely Different Title"
    assert again.tags == ("LoRA", "PEFT")
    assert keys_of(h.record for h in library.search("completely")) == ["hu2021lora"]
    assert library.search("low-rank", limit=5) == []


def test_an_identifier_belongs_to_one_record(library: Library) -> None:
    with pytest.raises(UsageError, match="hu2021lora"):
        library.insert(Record(title="Copy", arxiv_id="2106.09685"))
    assert len(library.keys()) == len(FIXTURE_RECORDS)


def test_a_failed_save_changes_nothing(library: Library) -> None:
    ada = library.get("zhang2023adaptive")
    with pytest.raises(UsageError):
        library.save(ada.with_(title="Changed", arxiv_id="2106.09685"))
    assert library.get("zhang2023adaptive") == ada


def test_delete_removes_the_record_and_its_index_entries(library: Library) -> None:
    library.delete_many(["hu2021lora"])
    assert library.get("hu2021lora") is None
    assert library.find("zhang2023adaptive")
    assert all(h.record.key != "hu2021lora" for h in library.search("lora"))
    assert library.record_ids_for("arxiv", "2106.09685") == []
    assert all(name != "RoBERTa" for name, _ in library.facet_counts("models"))


def test_names_no_record_uses_any_more_are_dropped_and_shared_ones_kept(library: Library) -> None:
    def names(table: str) -> set[str]:
        return {r[0] for r in library.conn.execute(f"SELECT name FROM {table}")}

    library.insert(Record(title="Another", authors=("Yelong Shen",), tags=("LoRA",), year=2022))
    lora = library.get("hu2021lora")
    library.save(lora.with_(authors=("Edward J. Hu",), tags=("PEFT",), models=()))
    assert {"Yelong Shen", "Edward J. Hu"} <= names("authors")  # Shen is on "Another"
    assert "Phillip Wallis" not in names("authors")
    assert {"LoRA", "PEFT"} <= names("tags")
    assert "RoBERTa" not in names("models")
    library.delete_many(["hu2021lora", "shen2022another"])
    assert not {"Yelong Shen", "Edward J. Hu"} & names("authors")
    assert not {"LoRA", "PEFT"} & names("tags")
    assert "AdaLoRA" in names("tags")


def test_stats(library: Library) -> None:
    stats = library.stats()
    assert stats["records"] == len(FIXTURE_RECORDS)
    assert stats["kinds"] == {"paper": 5, "tool": 1}
    assert stats["identifiers"] == {"acl": 2, "arxiv": 2}
    assert stats["without_identifier"] == 1
    assert stats["todo"] == 1


def test_the_database_uses_wal_and_foreign_keys(library: Library, db_path: Path) -> None:
    assert library.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert library.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert library.conn.execute("PRAGMA page_size").fetchone()[0] == 16384  # a new library's


def test_a_failing_seed_leaves_no_database_behind(db_path: Path) -> None:
    broken = (LORA, Record(title="Duplicate id", arxiv_id="2106.09685"))
    with pytest.raises(UsageError):
        Library.open(db_path, seed=broken)
    assert not db_path.exists()
    assert list(db_path.parent.glob(f".{db_path.name}*")) == []


def test_a_library_from_a_newer_llmref_is_refused_and_untouched(library: Library, db_path: Path) -> None:
    library.conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, 'm999_future', 'x')",
        [schema.MIGRATION_SET],
    )
    library.conn.commit()
    library.close()
    before = db_path.read_bytes()
    with pytest.raises(StoreError, match="newer llmref"):
        Library.open(db_path)
    assert db_path.read_bytes() == before


def test_a_foreign_sqlite_file_is_refused(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not an llmref library"):
        Library.open(db_path)


def test_a_file_that_is_not_sqlite_is_refused(db_path: Path) -> None:
    db_path.write_text("@article{x, title={Not a database}}\n")
    with pytest.raises(StoreError):
        Library.open(db_path)
    assert db_path.read_text().startswith("@article")


def test_an_old_schema_is_migrated_on_open(db_path: Path) -> None:
    # A library with no migrations applied yet but the bookkeeping table present, as an
    # interrupted first migration would leave it.
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE _sqlite_migrations (migration_set TEXT, name TEXT, applied_at TEXT)")
    conn.commit()
    conn.close()
    with Library.open(db_path) as lib:
        assert lib.keys() == []
        lib.insert(ADALORA)
        assert lib.find("2303.10512").key == "zhang2023adaptive"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=40))
def test_no_typed_text_makes_search_fail(library: Library, query: str) -> None:
    try:
        library.search(query)
    except UsageError:
        assert not any(ch.isalnum() for ch in query)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("database is locked", "busy"),
        ("attempt to write a readonly database", "read-only"),
        ("database or disk is full", "Cannot write"),
    ],
)
def test_sqlite_write_failures_become_store_errors(message: str, expected: str) -> None:
    from llmref.store.library import _unwritable

    error = _unwritable(Path("lib.db"), sqlite3.OperationalError(message))
    assert isinstance(error, StoreError)
    assert expected in error.message and error.hint


def test_a_write_blocked_by_another_writer_is_a_store_error(library: Library, db_path: Path) -> None:
    other = sqlite3.connect(db_path, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        library.conn.execute("PRAGMA busy_timeout = 0")
        with pytest.raises(StoreError, match="busy"):
            library.update("hu2021lora", lambda r: r.with_(tags=("X",)))
    finally:
        other.rollback()
        other.close()
    assert library.get("hu2021lora").tags == ("LoRA",)


def test_title_matches_come_before_any_other_match(library: Library) -> None:
    # peft's notes say "Tuning" three times and the PEFT section's heading says it too; the
    # two titles say it once.
    keys = keys_of(h.record for h in library.search("tuning"))
    assert set(keys[:2]) == {"li2021prefixtuning", "zhang2023adaptive"}
    assert "peft" in keys[2:]


def test_a_library_from_the_first_schema_is_upgraded_on_open_and_keeps_its_records(db_path: Path) -> None:
    from sqlite_utils import Database

    old = Database(db_path)
    schema.migrations().apply(old, stop_before="m002_arxiv_metadata")
    old.execute(
        "INSERT INTO records (key, kind, title, year, added, modified)"
        " VALUES (?, 'paper', ?, 2021, 'x', 'x')",
        ["hu2021lora", "LoRA"],
    )
    old.execute("INSERT INTO identifiers (scheme, value, record_id) VALUES ('arxiv', '2106.09685', 1)")
    old.conn.commit()
    old.close()
    with Library.open(db_path) as lib:
        record = lib.find("2106.09685")
        assert (record.key, record.title, record.categories, record.published) == (
            "hu2021lora",
            "LoRA",
            (),
            None,
        )
        lib.save(record.with_(published="2021-06-17", categories=("cs.CL",)))
        assert lib.get("hu2021lora").categories == ("cs.CL",)
        assert lib.schema_version == schema.MIGRATION_NAMES[-1]


def _small_indexes_are_consistent(library: Library) -> bool:
    try:
        for table in ("records_badges", "records_title"):
            library.conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
    except sqlite3.DatabaseError:
        return False
    return True


def test_the_small_indexes_follow_edits_and_deletes(library: Library) -> None:
    lora = library.get("hu2021lora")
    library.save(lora.with_(title="Zebra Adaptation", tags=("Stripes",)))
    assert keys_of(h.record for h in library.search("zebra")) == ["hu2021lora"]
    assert keys_of(h.record for h in library.search("stripes")) == ["hu2021lora"]
    library.delete_many(["hu2021lora"])
    assert library.search("zebra") == []
    assert _small_indexes_are_consistent(library)


def _indexed_terms(library: Library) -> int:
    """How many term occurrences the three search indexes hold, all rows together."""
    total = 0
    for table in ("records_fts", "records_badges", "records_title"):
        vocab = f"fts5vocab(main, {table}, 'instance')"
        library.conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{table}_terms USING {vocab}")
        total += library.conn.execute(f"SELECT COUNT(*) FROM temp.{table}_terms").fetchone()[0]
    return total


def test_edits_and_deletes_take_out_exactly_what_was_indexed(library: Library) -> None:
    # The indexes keep no copy of their text: taking a record out gives FTS5 the text made
    # again from the record as stored. Any difference would leave terms behind.
    library.insert(Record(title="Adapters 家族 Survey", tags=("LoRA", "lora", "PrefixTuning"), year=2020))
    library.insert(Record(title="Other", tags=("walrus",), year=2021))
    library.insert(Record(title="Third", tags=("WalRus", "AdaLoRA"), models=("gpt-2", "GPT-2"), year=2022))
    # Spelt as the library spells it, so its compound-name part ("Rus") is not indexed.
    assert library.get("third2022").tags == ("walrus", "AdaLoRA")
    assert library.search("rus") == []
    lora = library.get("hu2021lora")
    library.save(
        lora.with_(title="Zebra Adaptation", tags=("Stripes", "stripes"), notes="新しい", abstract=None)
    )
    assert keys_of(h.record for h in library.search("stripes")) == ["hu2021lora"]
    library.save(library.get("hu2021lora").with_(tags=(), models=()))
    assert library.search("stripes") == []
    assert _indexed_terms(library) > 0
    library.delete_many(library.keys())
    assert _indexed_terms(library) == 0
    assert _small_indexes_are_consistent(library)


def test_an_index_that_kept_its_text_is_made_anew_from_the_records(library: Library, db_path: Path) -> None:
    # Libraries before m008 kept the indexed text in records_fts, and what an older version
    # indexed need not be what the records make now: the upgrade indexes the records again.
    library.insert(Record(title="Tagged", tags=("LoRA",), year=2020))
    columns = ", ".join(name for name, _ in schema.FTS_COLUMNS)
    conn = library.conn
    conn.execute("DROP TABLE records_fts")
    conn.execute(
        f"CREATE VIRTUAL TABLE records_fts USING fts5({columns}, tokenize = 'unicode61 remove_diacritics 2')"
    )
    conn.execute("INSERT INTO records_fts (rowid, title) SELECT id, 'stale words' FROM records")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm008_contentless_index'")
    conn.commit()
    library.close()
    with Library.open(db_path) as again:
        assert again.search("stale") == []
        assert keys_of(h.record for h in again.search("tagged")) == ["tagged2020"]
        assert {"hu2021lora", "tagged2020"} <= set(keys_of(h.record for h in again.search("lora")))
        sql = again.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'records_fts'").fetchone()[0]
        assert "content = ''" in sql
        again.delete_many(again.keys())
        assert _indexed_terms(again) == 0


def test_a_tag_or_a_compound_name_outranks_a_mention_in_an_abstract(library: Library) -> None:
    library.insert(Record(title="Something Else", abstract="Walrus walrus walrus walrus.", year=2020))
    library.insert(Record(title="Tagged Paper", tags=("Walrus",), year=2019))
    library.insert(Record(title="MegaWalrus: Bigger", year=2018))
    keys = keys_of(h.record for h in library.search("walrus"))
    assert keys[-1] == "something2020"
    assert set(keys[:2]) == {"tagged2019", "megawalrus2018"}


def test_past_a_bound_only_the_newest_other_matches_are_ranked(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmref.store import library as store

    for n in range(5):
        library.insert(Record(title=f"Paper {n}", abstract="An okapi.", year=2000 + n))
    monkeypatch.setattr(store, "RANKED_AT_MOST", 2)
    assert {h.record.year for h in library.search("okapi")} == {2003, 2004}
    assert len(library.search("okapi", limit=None)) == 5  # everything, when everything is asked for
    assert len(library.search_ids("okapi")) == 5


def test_a_library_without_the_small_indexes_gets_them_on_open(library: Library, db_path: Path) -> None:
    expected = keys_of(h.record for h in library.search("tuning"))
    library.conn.execute("DROP TABLE records_badges")
    library.conn.execute("DROP TABLE records_title")
    library.conn.execute(
        "DELETE FROM _sqlite_migrations"
        " WHERE name IN ('m006_small_indexes', 'm007_indexes_for_scale', 'm009_venue_index')"
    )
    library.conn.execute("DROP INDEX records_venue")
    for index in (
        "records_year",
        "records_kind",
        "records_without_abstract",
        "records_todo",
        "records_section",
    ):
        library.conn.execute(f"DROP INDEX {index}")
    library.conn.execute("DROP INDEX authors_family")
    library.conn.execute("DROP INDEX authors_folded")
    library.conn.execute("ALTER TABLE authors DROP COLUMN family")
    library.conn.execute("DROP INDEX records_unidentified")
    library.conn.execute("ALTER TABLE records DROP COLUMN identified")
    library.conn.execute("DROP TABLE record_categories")
    library.conn.commit()
    library.close()
    with Library.open(db_path) as again:
        assert keys_of(h.record for h in again.search("tuning")) == expected
        assert _small_indexes_are_consistent(again)
        assert keys_of(again.list(Filters(authors=("liang",)))) == ["li2021prefixtuning"]
        assert again.stats()["without_identifier"] == 1


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        ("hu", ["hu2021lora"]),  # the family name: not every Zhu or Shuai
        ("edward", ["hu2021lora"]),  # the start of the whole name
        ("Edward J. Hu", ["hu2021lora"]),
        ("rücklé", ["pfeiffer2021adapterfusion"]),
        ("ward hu", []),
    ],
)
def test_author_filter_matches_a_family_name_or_the_start_of_a_name(
    library: Library, author: str, expected: list[str], membership: str
) -> None:
    assert keys_of(library.list(Filters(authors=(author,)))) == expected
    assert keys_of(library.list(Filters(authors=(author,)), sort="key", limit=3)) == expected
    assert keys_of(h.record for h in library.search("a", Filters(authors=(author,)))) == expected


def test_category_filter(library: Library, membership: str) -> None:
    lora = library.get("hu2021lora")
    library.save(lora.with_(categories=("cs.CL", "cs.LG")))
    ada = library.get("zhang2023adaptive")
    library.save(ada.with_(categories=("stat.ML",)))
    assert keys_of(library.list(Filters(categories=("cs.LG",)))) == ["hu2021lora"]
    assert keys_of(library.list(Filters(categories=("cs.",)))) == ["hu2021lora"]
    assert keys_of(library.list(Filters(categories=("cs.CV,stat.",)))) == ["zhang2023adaptive"]
    assert keys_of(library.list(Filters(categories=("cs.CL", "stat.ML")))) == []  # both must hold
    assert keys_of(library.list(Filters(categories=("cs.CV,stat.",)), limit=5)) == ["zhang2023adaptive"]
    library.save(library.get("hu2021lora").with_(categories=("cs.CV",)))
    assert keys_of(library.list(Filters(categories=("cs.LG",)))) == []


def test_a_filter_many_records_pass_is_looked_up_by_record(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    filters = Filters(authors=("hu",), categories=("cs.",))
    where, _ = filters.where(library.conn, stops_early=True)
    assert where.count("r.id IN (") == 2  # few pass
    monkeypatch.setattr(filters_sql, "GATHERED_AT_MOST", -1)
    where, _ = filters.where(library.conn)
    assert where.count("r.id IN (") == 2  # a query that reads every record
    library.save(library.get("hu2021lora").with_(categories=("cs.CL",)))
    for names_listed in (True, False):  # the ids of the names that pass, or each name read
        monkeypatch.setattr(filters_sql, "NAMES_LISTED_AT_MOST", 1000 if names_listed else -1)
        where, params = filters.where(library.conn, stops_early=True)
        assert where.count("EXISTS (") == 2 and "r.id IN (" not in where
        assert ("JOIN authors" not in where) == names_listed
        plan = " ".join(
            row[-1]
            for row in library.conn.execute(
                f"EXPLAIN QUERY PLAN SELECT r.id FROM records r WHERE {where}", params
            )
        )
        # Each record's own rows, by its id: never every row that passes.
        assert "USING INDEX authors_family" not in plan and "folded" not in plan
        assert re.search(r"SEARCH ra USING [\w ]+ \(record_id=\?\)", plan)
        assert ("SEARCH a USING INTEGER PRIMARY KEY (rowid=?)" in plan) != names_listed
        assert re.search(r"SEARCH record_categories USING [\w ]+ \(record_id=\?\)", plan)
        assert keys_of(library.list(filters, limit=5)) == ["hu2021lora"]


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        (Filters(venue="iclr"), "records_venue"),
        (Filters(year_from=2020, year_to=2021), "records_year"),
        (Filters(kind="tool"), "records_kind"),
    ],
)
def test_filters_on_a_record_s_row_read_an_index(library: Library, filters: Filters, index: str) -> None:
    where, params = filters.where(library.conn, stops_early=True)
    sql = f"EXPLAIN QUERY PLAN SELECT r.id FROM records r WHERE {where} ORDER BY r.id LIMIT 20"
    plan = " ".join(row[-1] for row in library.conn.execute(sql, params))
    assert index in plan


def test_a_new_key_avoids_a_key_given_in_another_case(library: Library) -> None:
    library.insert(Record(key="Wang2020Deep", title="Deep One", authors=("Wei Wang",), year=2020))
    stored = library.insert(Record(title="Deep Two", authors=("Wei Wang",), year=2020))
    assert stored.key == "wang2020deepb"


def test_keys_within_one_batch_never_collide(library: Library) -> None:
    batch = [Record(title=f"Deep Thing {n}", authors=("Wei Wang",), year=2020) for n in range(30)]
    stored = library.insert_many(batch)
    assert len({r.key.casefold() for r in stored}) == 30
    assert stored[0].key == "wang2020deep" and stored[1].key == "wang2020deepb"


def test_a_prepared_record_gives_back_the_record_as_the_library_stores_it(library: Library) -> None:
    from llmref.store.library import prepare

    for stored in library.list():
        assert prepare(stored)._replace(record=None).as_record() == stored
    with_doi = Record(key="x2020", title="T", doi="10.1000/ABC", urls=(("pdf", "https://x.org/a.pdf"),))
    assert prepare(with_doi)._replace(record=None).as_record() == with_doi.with_(doi="10.1000/abc")


def test_a_new_key_never_reuses_a_deleted_records_suffix_nor_another_base(library: Library) -> None:
    def paper(title: str) -> Record:
        return Record(title=title, authors=("Wei Wang",), year=2020)

    first = library.insert_many([paper("Deep Thing"), paper("Deep Other"), paper("Deep Third")])
    assert [r.key for r in first] == ["wang2020deep", "wang2020deepb", "wang2020deepc"]
    library.delete_many(["wang2020deepb"])
    # "Deepb" is a base of its own, which "wang2020deep" + "b" would also make.
    second = library.insert_many([paper("Deep Again"), paper("Deepb Networks"), paper("Deepd Nets")])
    assert [r.key for r in second] == ["wang2020deepd", "wang2020deepb", "wang2020deepdb"]
    assert library.insert(paper("Deep More")).key == "wang2020deepe"


def test_keys_of_other_writers_are_seen_between_batches(library: Library, db_path: Path) -> None:
    library.insert(Record(title="Deep A", authors=("Wei Wang",), year=2020))
    with Library.open(db_path) as other:
        other.insert(Record(title="Deep B", authors=("Wei Wang",), year=2020))
    assert library.insert(Record(title="Deep C", authors=("Wei Wang",), year=2020)).key == "wang2020deepc"


def test_whole_words_fill_a_page_before_prefixes_are_searched(library: Library) -> None:
    library.insert_many(
        [
            Record(title="Modeling", authors=("Ann Lee",), year=2024),  # the best bm25 of all
            Record(title="A Model for Reading Long Scientific Documents", authors=("Bo Li",), year=2022),
            Record(title="Another Model for Reading Long Documents", authors=("Cy Ng",), year=2023),
        ]
    )
    two = [h.record.title for h in library.search("model", limit=2)]
    assert all(" Model " in title for title in two)
    every = [h.record.title for h in library.search("model", limit=20)]
    assert every[0] == "Modeling" and len(every) == len(library.search_ids("model"))


def test_a_base_that_reads_as_another_base_and_a_suffix_is_not_given_twice(library: Library) -> None:
    def paper(title: str) -> Record:
        return Record(title=title, authors=("Jin Kim",), year=2023)

    library.insert_many([paper("Model A"), paper("Model B")])  # kim2023model, kim2023modelb
    library.insert_many([paper("Models C")])  # kim2023models: "s" after kim2023model
    more = library.insert_many([paper(f"Model {n}") for n in range(20)])
    assert "kim2023models" not in {r.key for r in more}
    assert [r.key for r in more[:8]] == [f"kim2023model{c}" for c in "tuvwxyz2"]  # after the "s"


def _all_rows(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_sqlite%' ESCAPE '\\'"
            " AND sql NOT LIKE 'CREATE VIRTUAL%'"
        )
    ]
    shadows = tuple(f"{index}_" for index in ("records_fts", *schema.SMALL_INDEXES))  # FTS5's own
    rows = {}
    for table in tables:
        if not table.startswith(shadows):
            # The columns of m001–m011, not the one m014 adds.
            columns = [c[1] for c in conn.execute(f"PRAGMA table_info({table})") if c[1] != "arxiv_links"]
            rows[table] = sorted(
                conn.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall(), key=repr
            )
    return rows


def test_keys_are_indexed_once_and_an_older_library_keeps_every_row(db_path: Path) -> None:
    from sqlite_utils import Database

    old = Database(db_path)
    schema.migrations().apply(old, stop_before="m012_one_key_index")
    # Written by this version's code, with the column a later migration adds there and gone.
    old.execute("ALTER TABLE records ADD COLUMN arxiv_links INTEGER NOT NULL DEFAULT 0")
    Library(old.conn, db_path).insert_many(FIXTURE_RECORDS)
    old.execute("ALTER TABLE records DROP COLUMN arxiv_links")
    before = _all_rows(old.conn)
    indexes = old.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'"
    ).fetchall()
    assert ("sqlite_autoindex_records_1",) in indexes
    old.close()
    with Library.open(db_path) as lib:
        assert (
            "m012_one_key_index"
            in schema.MIGRATION_NAMES[: schema.MIGRATION_NAMES.index(lib.schema_version) + 1]
        )
        after = _all_rows(lib.conn)
        assert after == before  # not a row lost: dropping the old table deleted nothing it points at
        assert lib.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert lib.conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
        now = lib.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'")
        assert sorted(now.fetchall()) == sorted(i for i in indexes if i != ("sqlite_autoindex_records_1",))
        plan = lib.conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM records WHERE key = ?1 COLLATE NOCASE AND key = ?1", ["x"]
        )
        assert "records_key_nocase" in str(plan.fetchall())
        assert lib.get("hu2021lora").title == LORA.title and lib.get("HU2021LORA") is None
        with pytest.raises(UsageError, match="already in the library"):
            lib.insert(LORA.with_(key="HU2021lora", title="Another"))
        assert keys_of(h.record for h in lib.search("lora"))[0] == "hu2021lora"
        schema.m012_one_key_index(lib.db)  # once more, as after a crash before it was recorded
        assert _all_rows(lib.conn) == after


def test_a_large_transaction_writes_the_full_text_index_as_one_segment(tmp_path: Path) -> None:
    # FTS5 writes a segment each time a transaction's pending index entries pass its limit
    # (1 MB by default), and merges small segments again and again as a load goes on.
    import random

    words = [f"w{n:05d}" for n in range(20000)]
    pick = random.Random(7).choices
    records = [
        Record(title=f"Paper {n}", abstract=" ".join(pick(words, k=250)), year=2020) for n in range(2500)
    ]
    Library.create(tmp_path / "big.db")
    with Library.open(tmp_path / "big.db") as lib:
        lib.insert_many(records)
        segments = lib.conn.execute("SELECT COUNT(DISTINCT segid) FROM records_fts_idx").fetchone()[0]
        assert segments == 1
        assert len(lib.search("w00042", limit=5000)) == sum("w00042" in r.abstract for r in records)


def test_the_key_index_upgrade_reads_the_schema_under_the_write_lock(db_path: Path) -> None:
    # Another process (a load building its deferred indexes) commits while the upgrade waits
    # for the lock: what it built is kept, not dropped with the old table.
    import threading

    from sqlite_utils import Database

    old = Database(db_path)
    schema.migrations().apply(old, stop_before="m012_one_key_index")
    old.execute("DROP INDEX records_year")
    old.conn.commit()
    old.execute("PRAGMA journal_mode = WAL")  # as every library is
    old.close()
    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE INDEX records_year ON records(year)")
    threading.Timer(0.5, other.execute, ["COMMIT"]).start()
    with Library.open(db_path) as lib:
        assert lib.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'records_year'").fetchone()
        assert not lib.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_autoindex_records_1'"
        ).fetchone()
    other.close()


def _link_rows(library: Library, key: str) -> list[tuple]:
    sql = "SELECT u.label, u.url FROM urls u JOIN records r ON r.id = u.record_id WHERE r.key = ?"
    return library.conn.execute(sql + " ORDER BY u.position", [key]).fetchall()


def test_arxiv_pages_a_record_begins_with_are_implied_not_stored(library: Library) -> None:
    abs_pdf = (("abs", "https://arxiv.org/abs/2401.00001"), ("pdf", "https://arxiv.org/pdf/2401.00001"))
    paper = Record(
        title="Implied", arxiv_id="2401.00001", year=2024, urls=(*abs_pdf, ("code", "https://g.it/x"))
    )
    key = library.insert_many([paper])[0].key
    assert library.get(key).urls == paper.urls
    assert _link_rows(library, key) == [("code", "https://g.it/x")]
    assert library.find("https://arxiv.org/pdf/2401.00001").key == key
    # Anything else is stored as it is: other order, a version, another paper's pages, no id.
    for urls, arxiv_id in (
        (abs_pdf[::-1], "2401.00001"),
        ((("abs", "https://arxiv.org/abs/2401.00001v2"), abs_pdf[1]), "2401.00001"),
        (abs_pdf, "2401.00002"),
        (abs_pdf, None),
        (abs_pdf[:1], "2401.00001"),
        (
            (("abs", "https://arxiv.org/abs/2413.00001"), ("pdf", "https://arxiv.org/pdf/2413.00001")),
            "2413.00001",
        ),
    ):
        changed = library.get(key).with_(urls=urls, arxiv_id=arxiv_id)
        library.save(changed)
        assert library.get(key) == changed
        assert _link_rows(library, key) == list(urls)
        if arxiv_id == "2413.00001":  # month 13: no arXiv id parses from the URL, the link finds it
            assert library.find(urls[0][1]).key == key
    empty_id = (("abs", "https://arxiv.org/abs/"), ("pdf", "https://arxiv.org/pdf/"))
    library.save(library.get(key).with_(urls=empty_id, arxiv_id=""))  # an empty id is no id
    assert library.get(key).urls == empty_id
    library.save(library.get(key).with_(urls=abs_pdf, arxiv_id="2401.00001"))
    assert library.get(key).urls == abs_pdf and _link_rows(library, key) == []


def test_a_snapshot_paper_keeps_no_rows_of_links(library: Library) -> None:
    from llmref.formats.arxiv_snapshot import read_snapshot

    line = (
        '{"id": "2402.01234", "title": "Tiny", "authors": "A. B", "abstract": "x",'
        ' "categories": "cs.CL", "versions": [{"version": "v1", "created": "Mon, 5 Feb 2024 10:00:00 GMT"}],'
        ' "authors_parsed": [["B", "A.", ""]]}'
    )
    (paper,) = read_snapshot([line])
    key = library.insert_many([paper])[0].key
    assert (
        library.get(key).urls
        == paper.urls
        == (
            ("abs", "https://arxiv.org/abs/2402.01234"),
            ("pdf", "https://arxiv.org/pdf/2402.01234"),
        )
    )
    assert _link_rows(library, key) == []
