"""Loading arXiv's metadata snapshot: streamed, chunked, idempotent, resumable."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest

from llmref.errors import StoreError, UsageError
from llmref.models import Record
from llmref.snapshot import SnapshotReport, import_snapshot
from llmref.store import schema
from llmref.store.library import Library
from llmref.store.query import Filters

from .conftest import FIXTURE_RECORDS


def line(arxiv_id: str, title: str, *, categories: str = "cs.CL", first: str = "Mon, 2 Jan 2023 10:00:00 GMT",
         doi: str | None = None, authors: list[list[str]] | None = None) -> str:  # fmt: skip
    parsed = authors or [["Lovelace", "Ada", ""], ["Turing", "Alan", ""]]
    return json.dumps(
        {
            "id": arxiv_id,
            "submitter": "Ada Lovelace",
            "authors": " and ".join(f"{first} {last}" for last, first, _ in parsed),
            "title": title,
            "comments": "10 pages",
            "journal-ref": None,
            "doi": doi,
            "report-no": None,
            "categories": categories,
            "license": None,
            "abstract": f"  We study {title.lower()}.\n",
            "versions": [
                {"version": "v1", "created": first},
                {"version": "v2", "created": "Fri, 3 Mar 2023 09:00:00 GMT"},
            ],
            "update_date": "2023-03-03",
            "authors_parsed": parsed,
        }
    )


LINES = [
    line("2301.00001", "Low-Rank Adapters for Everyone"),
    line("2301.00002", "Attention Budgets", categories="cs.LG stat.ML"),
    "{not json",
    line(
        "2106.09685",
        "LoRA: Low-Rank Adaptation of Large Language Models",
        first="Thu, 17 Jun 2021 17:37:18 GMT",
        authors=[["Hu", "Edward J.", ""], ["Shen", "Yelong", ""]],
    ),  # fmt: skip
    line("1901.00003", "Old Vision Paper", categories="cs.CV", first="Tue, 1 Jan 2019 00:00:00 GMT"),
    line("2301.00004", "Shared DOI One", doi="10.1000/shared"),
    line("2301.00005", "Shared DOI Two", doi="10.1000/shared"),
]


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    path = tmp_path / "snapshot.jsonl"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def library(tmp_path: Path) -> Library:
    lib = Library.open(tmp_path / "lib.db", seed=FIXTURE_RECORDS)
    yield lib
    lib.close()


def test_a_snapshot_loads_and_is_searchable(library: Library, snapshot: Path) -> None:
    report = import_snapshot(library, snapshot, chunk_size=2)
    assert (report.added, report.enriched) == (5, 1)
    assert [p.line for p in report.problems if p.line] == [3]
    assert any("DOI 10.1000/shared belongs to 2301.00004" in p.message for p in report.problems)
    assert [h.record.arxiv_id for h in library.search("adapters everyone")] == ["2301.00001"]
    paper = library.find("2301.00002")
    assert (paper.published, paper.updated, paper.arxiv_version) == ("2023-01-02", "2023-03-03", 2)
    assert paper.categories == ("cs.LG", "stat.ML")


def test_a_paper_the_library_has_is_enriched_and_keeps_what_was_curated(
    library: Library, snapshot: Path
) -> None:
    import_snapshot(library, snapshot)
    lora = library.find("2106.09685")
    assert lora.key == "hu2021lora" and lora.tags == ("LoRA",)
    assert lora.abstract and lora.published == "2021-06-17"
    assert len(library.record_ids_for("arxiv", "2106.09685")) == 1


def test_running_it_again_adds_nothing(library: Library, snapshot: Path) -> None:
    import_snapshot(library, snapshot)
    count = len(library.keys())
    again = import_snapshot(library, snapshot)
    assert again.added == 0 and again.unchanged == 6
    assert len(library.keys()) == count


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"categories": ("cs.LG",)}, {"2301.00002"}),
        ({"categories": ("stat.",)}, {"2301.00002"}),
        ({"categories": ("cs.CV", "cs.LG")}, {"2301.00002", "1901.00003"}),
        ({"since": 2022}, {"2301.00001", "2301.00002", "2301.00004", "2301.00005"}),
    ],
)
def test_filters_choose_what_is_loaded(
    library: Library, snapshot: Path, options: dict, expected: set
) -> None:
    before = set(library.keys())
    import_snapshot(library, snapshot, **options)
    added = {library.get(k).arxiv_id for k in set(library.keys()) - before}
    assert added == expected


def test_a_gzipped_snapshot_reads_the_same(library: Library, snapshot: Path, tmp_path: Path) -> None:
    packed = tmp_path / "snapshot.jsonl.gz"
    packed.write_bytes(gzip.compress(snapshot.read_bytes()))
    assert import_snapshot(library, packed).added == 5


def test_an_interrupted_import_leaves_a_working_library_and_resumes(library: Library, snapshot: Path) -> None:
    def stop_after_first_chunk(report: SnapshotReport) -> None:
        if report.added and not report.interrupted:
            raise KeyboardInterrupt

    first = import_snapshot(library, snapshot, chunk_size=2, progress=stop_after_first_chunk)
    assert first.interrupted and first.added == 2
    assert library.search("adapters")  # what was loaded is indexed
    rest = import_snapshot(library, snapshot, chunk_size=2)
    assert rest.added == 3 and rest.unchanged == 2


def test_the_cli_imports_a_snapshot_with_filters(empty, snapshot: Path) -> None:
    result = empty("import", str(snapshot), "--category", "cs.CL,cs.LG", "--since", "2022", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)[0]
    assert data["added"] == 4 and "DOI 10.1000/shared" in data["problems"][-1]["message"]
    assert "4 added" in result.stderr
    assert empty("import", str(snapshot), "--since", "2022", "--format", "bibtex").exit_code == 2


def test_a_version_number_sqlite_cannot_hold_is_left_out_of_an_import(empty, tmp_path: Path) -> None:
    data = json.loads(line("2301.00001", "Many Versions"))
    data["versions"][-1]["version"] = "v" + "9" * 25
    path = tmp_path / "versions.jsonl"
    path.write_text(json.dumps(data) + "\n", encoding="utf-8")
    result = empty("import", str(path), "--json")
    assert result.exit_code == 0, result.output
    (record,) = json.loads(empty("list", "--json").stdout)
    assert (record["arxiv_id"], record["arxiv_version"]) == ("2301.00001", None)


def test_a_dry_run_counts_what_the_import_then_does_and_writes_nothing(seeded, snapshot: Path) -> None:
    def outcome(result) -> dict:
        assert result.exit_code == 1, result.output  # one line is not JSON: reported, not imported
        return {k: v for k, v in json.loads(result.stdout)[0].items() if k != "written"}

    before = seeded("list", "--json").stdout
    dry = seeded("import", str(snapshot), "--dry-run", "--json")
    assert json.loads(dry.stdout)[0]["written"] is False and "Nothing was written" in dry.stderr
    assert seeded("list", "--json").stdout == before
    counted = outcome(dry)
    assert counted == outcome(seeded("import", str(snapshot), "--json"))
    assert counted["enriched"] == 1 and counted["added"] == 5  # the seed's LoRA, and the rest
    again = outcome(seeded("import", str(snapshot), "--dry-run", "--json"))
    assert (again["added"], again["enriched"], again["unchanged"]) == (0, 0, 6)


def test_a_missing_snapshot_among_several_stops_the_import_before_any_is_read(
    empty, snapshot: Path, tmp_path: Path
) -> None:
    result = empty("import", str(snapshot), str(tmp_path / "gone.jsonl"))
    assert result.exit_code == 2 and "gone.jsonl: no such file" in result.stderr
    assert json.loads(empty("list", "--json").stdout) == []


def test_a_second_process_reading_gives_the_same_library(tmp_path: Path, snapshot: Path) -> None:
    results = []
    for background in (False, True):
        with Library.open(tmp_path / f"lib-{background}.db", seed=FIXTURE_RECORDS) as lib:
            report = import_snapshot(lib, snapshot, chunk_size=2, background=background)
            results.append(
                (report.added, report.enriched, report.problems, [r.to_dict() for r in lib.list()])
            )
    assert results[0] == results[1]


@pytest.mark.parametrize("background", [False, True])
def test_a_truncated_gzip_keeps_what_was_read_and_says_so(
    library: Library, snapshot: Path, tmp_path: Path, background: bool
) -> None:
    packed = tmp_path / "cut.jsonl.gz"
    whole = gzip.compress(snapshot.read_bytes())
    packed.write_bytes(whole[: len(whole) - 12])  # the end of the stream and its checksum are gone
    with pytest.raises(UsageError, match="Cannot read cut.jsonl.gz to the end"):
        import_snapshot(library, packed, chunk_size=2, background=background)
    assert library.find("2301.00001")  # the chunks before the break are written


def test_a_paper_listed_twice_in_one_chunk_is_one_record(library: Library, tmp_path: Path) -> None:
    path = tmp_path / "twice.jsonl"
    path.write_text(LINES[0] + "\n" + LINES[0] + "\n", encoding="utf-8")
    report = import_snapshot(library, path)
    assert (report.added, report.unchanged) == (1, 1)
    assert len(library.record_ids_for("arxiv", "2301.00001")) == 1


def test_an_interrupted_background_import_stops_its_reader(library: Library, snapshot: Path) -> None:
    def stop(report: SnapshotReport) -> None:
        if report.added and not report.interrupted:
            raise KeyboardInterrupt

    first = import_snapshot(library, snapshot, chunk_size=2, progress=stop, background=True)
    assert first.interrupted and first.added == 2
    rest = import_snapshot(library, snapshot, chunk_size=2, background=True)
    assert rest.added == 3


def test_a_reader_whose_writer_stops_taking_pieces_ends_quietly(tmp_path: Path) -> None:
    import pickle
    import subprocess
    import sys

    path = tmp_path / "long.jsonl"
    # Pieces of one long paper each: more than the pipe and the pieces waiting to be sent hold.
    path.write_text(
        "".join(line(f"2301.{n:05d}", "Long " * 4000) + "\n" for n in range(60)), encoding="utf-8"
    )
    options = pickle.dumps({"path": str(path), "categories": [], "since": None, "size": 1})
    reader = subprocess.Popen(
        [sys.executable, "-m", "llmref.background", "snapshot"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    reader.stdin.write(options)
    reader.stdin.close()
    kind, piece = pickle.load(reader.stdout)
    assert kind == "piece" and piece[0].identifiers == (("arxiv", "2301.00000"),)
    reader.stdout.close()
    assert reader.wait(timeout=30) == 0
    assert reader.stderr.read() == b""


def test_a_reader_whose_pipe_fails_ends_with_an_error_instead_of_waiting(tmp_path: Path) -> None:
    import pickle
    import subprocess
    import sys

    path = tmp_path / "long.jsonl"
    path.write_text(
        "".join(line(f"2301.{n:05d}", "Long " * 4000) + "\n" for n in range(60)), encoding="utf-8"
    )
    options = pickle.dumps({"path": str(path), "categories": [], "since": None, "size": 1})
    unwritable = tmp_path / "out"
    unwritable.touch()
    with unwritable.open("rb") as out:  # every write fails, and not as a closed pipe does
        reader = subprocess.Popen(
            [sys.executable, "-m", "llmref.background", "snapshot"],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.PIPE,
        )
        _, err = reader.communicate(options, timeout=30)
    assert reader.returncode != 0
    assert err.decode().splitlines() == ["llmref: cannot pass on what was read: Bad file descriptor"]


def indexes(library: Library) -> set[str]:
    return {r[0] for r in library.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def pending_table(library: Library) -> bool:
    sql = "SELECT 1 FROM sqlite_master WHERE name = ?"
    return library.conn.execute(sql, [schema.PENDING_INDEXES]).fetchone() is not None


@pytest.mark.parametrize("interrupted", [False, True])
def test_a_large_load_builds_the_indexes_it_dropped_however_it_ends(
    library: Library, snapshot: Path, interrupted: bool
) -> None:
    before = indexes(library)
    assert set(schema.DEFERRED_INDEXES) <= before
    dropped_meanwhile = []

    def watch(report: SnapshotReport) -> None:
        dropped_meanwhile.append(not set(schema.DEFERRED_INDEXES) & indexes(library))
        if interrupted and report.added and not report.interrupted:
            raise KeyboardInterrupt

    report = import_snapshot(library, snapshot, chunk_size=2, progress=watch, defer_indexes=True)
    assert report.interrupted == interrupted
    assert dropped_meanwhile[0] and indexes(library) == before and not pending_table(library)
    assert library.conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert {
        r.arxiv_id for r in library.list(Filters(year_from=2023, year_to=2023, categories=("cs.LG",)))
    } == {"2301.00002"}


@pytest.mark.parametrize("defer", [False, True])
def test_a_load_leaves_every_row_pointing_at_its_record_and_checks_again(
    library: Library, snapshot: Path, defer: bool
) -> None:
    checked = []
    import_snapshot(
        library,
        snapshot,
        chunk_size=2,
        defer_indexes=defer,
        progress=lambda _: checked.append(library.conn.execute("PRAGMA foreign_keys").fetchone()[0]),
    )
    assert 0 in checked  # unchecked while loading: the load's rows point at what it wrote
    assert library.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert library.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        library.conn.execute("INSERT INTO record_authors VALUES (999999, 0, 1)")


@pytest.mark.parametrize("defer", [False, True])
def test_a_name_another_process_deletes_during_a_load_is_written_again(tmp_path: Path, defer: bool) -> None:
    db = tmp_path / "lib.db"
    library = Library.open(db, seed=[Record(title="Held Paper", arxiv_id="2301.00009")])
    path = tmp_path / "s.jsonl"
    quux = [["Quux", "Xavier", ""]]
    path.write_text(
        line("2301.00001", "First Paper", authors=quux)
        + "\n"
        + line("2301.00009", "Held Paper", authors=quux)
        + "\n",
        encoding="utf-8",
    )

    def between_chunks(report: SnapshotReport) -> None:
        if report.added == 1 and report.enriched == 0:
            # The only record by Xavier Quux goes, and his name with it.
            with Library.open(db) as other:
                other.delete_many([other.find("2301.00001").key])
                assert "Xavier Quux" not in {r[0] for r in other.conn.execute("SELECT name FROM authors")}

    report = import_snapshot(library, path, chunk_size=1, progress=between_chunks, defer_indexes=defer)
    assert (report.added, report.enriched) == (1, 1)
    assert library.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert library.find("2301.00009").authors == ("Xavier Quux",)
    library.insert(Record(title="Another", authors=("Grace Hopper",)))  # would take a freed id
    assert library.find("2301.00009").authors == ("Xavier Quux",)
    library.close()


def test_a_load_that_cannot_begin_leaves_the_settings_as_they_were(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = ("foreign_keys", "synchronous", "cache_size", "wal_autocheckpoint")

    def read() -> list[int]:
        return [library.conn.execute(f"PRAGMA {name}").fetchone()[0] for name in settings]

    before = read()

    def busy() -> None:
        raise StoreError("lib.db is busy: another llmref is writing to it.", "Try again in a moment.")

    monkeypatch.setattr(library, "_drop_deferred_indexes", busy)
    with pytest.raises(StoreError), library.loading(defer_indexes=True):
        pass
    assert read() == before and library._orphan_candidates is None


def test_indexes_a_dead_load_left_unbuilt_are_built_when_the_library_opens(
    library: Library, tmp_path: Path
) -> None:
    import subprocess
    import sys

    before = indexes(library)
    library._drop_deferred_indexes()
    library.close()
    with Library.open(tmp_path / "lib.db") as running:  # the load's own process: still running
        assert not set(schema.DEFERRED_INDEXES) & indexes(running) and pending_table(running)
        gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
        running.conn.execute(f"UPDATE {schema.PENDING_INDEXES} SET pid = ?", [int(gone.stdout)])
        running.conn.commit()
    with Library.open(tmp_path / "lib.db") as reopened:
        assert indexes(reopened) == before and not pending_table(reopened)


def test_opening_goes_on_when_the_load_builds_its_indexes_meanwhile(library: Library) -> None:
    # The tables were listed as the library opened; an upgrade may then wait minutes for the
    # write lock, while the load that left pending_indexes builds them and drops that table.
    library._drop_deferred_indexes()
    library.build_pending_indexes()
    assert not pending_table(library)
    library._build_abandoned_indexes()  # as _migrate calls it after finding the table listed


def test_names_an_edit_frees_during_a_load_are_dropped_at_its_end(library: Library) -> None:
    def authors() -> set[str]:
        return {r[0] for r in library.conn.execute("SELECT name FROM authors")}

    with library.loading(defer_indexes=True):
        lora = library.get("hu2021lora")
        library.save(lora.with_(authors=("Edward J. Hu",)))
        library.insert(Record(title="New", authors=("Phillip Wallis", "Grace Hopper"), year=2024))
        assert "Yelong Shen" in authors()  # not yet: whether a name is used is a look-up
    assert "Yelong Shen" not in authors()
    assert {"Phillip Wallis", "Grace Hopper", "Edward J. Hu"} <= authors()


def test_a_transaction_holds_several_pieces_of_the_reading(
    library: Library, snapshot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llmref.snapshot

    monkeypatch.setattr(llmref.snapshot, "PIECE", 2)
    seen = []

    def stop(report: SnapshotReport) -> None:
        seen.append(report.read)
        if not report.interrupted:
            raise KeyboardInterrupt

    first = import_snapshot(library, snapshot, chunk_size=4, progress=stop)
    assert first.interrupted and seen[0] >= 4  # the first commit: two pieces of two
    assert first.added == len({r.arxiv_id for r in library.list() if r.arxiv_id}) - 2  # the seed's own two


def test_a_chunk_read_in_pieces_is_indexed_as_one_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FTS5 writes its pending entries out as a segment at each savepoint: pieces written each
    # under its own would leave a segment a piece, merged again and again in a large load.
    import llmref.snapshot

    monkeypatch.setattr(llmref.snapshot, "PIECE", 10)
    path = tmp_path / "forty.jsonl"
    path.write_text("\n".join(line(f"2302.{n:05d}", f"Paper number {n}") for n in range(40)) + "\n")
    with Library.open(tmp_path / "lib.db", seed=()) as lib:

        def segments() -> set[int]:
            return {row[0] for row in lib.conn.execute("SELECT DISTINCT segid FROM records_fts_idx")}

        before = segments()
        report = import_snapshot(lib, path, chunk_size=40)
        assert report.added == 40
        assert len(segments() - before) == 1
        assert len(lib.search("number", limit=100)) == 40
