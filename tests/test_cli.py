from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmref.cli.app import app
from llmref.store import schema


def test_search_shows_a_table_with_lora_first(cli) -> None:
    result = cli("search", "lora")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert "Key" in lines[0] and "Title" in lines[0]
    body = [line for line in lines if "20" in line]
    assert body[0].lstrip().startswith("hu2021lora")
    assert body[1].lstrip().startswith("zhang2023adaptive")
    assert result.stderr == ""


def test_search_json_parses_and_has_the_documented_fields(cli) -> None:
    result = cli("search", "lora", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    first = data[0]
    for field in (
        "key",
        "kind",
        "title",
        "authors",
        "year",
        "venue",
        "arxiv_id",
        "arxiv_version",
        "doi",
        "acl_id",
        "urls",
        "tags",
        "models",
        "tasks",
        "datasets",
        "section",
        "notes",
        "abstract",
        "identified",
        "score",
    ):
        assert field in first
    assert first["arxiv_id"] == "2106.09685"
    assert first["authors"][0] == "Edward J. Hu"
    assert isinstance(first["urls"], dict) and isinstance(first["section"], list)


def test_json_scores_of_a_search_of_few_records_are_not_rounded_away(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Searched on their own (as in a large library), words most of them hold weigh next to
    # nothing: the scores stay numbers that order the results, not -0.0.
    from llmref.store import query

    monkeypatch.setattr(query, "SEARCHED_APART_FROM", 0)
    result = cli("search", "tuning", "--year", "2021", "--json")
    assert result.exit_code == 0
    scores = [hit["score"] for hit in json.loads(result.stdout)]
    assert len(scores) >= 2 and all(score < 0 for score in scores)
    assert scores == sorted(scores)


def test_search_without_matches_says_so_on_stderr(cli) -> None:
    result = cli("search", "nonexistentword")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No records match" in result.stderr
    assert cli("search", "nonexistentword", "--json").stdout == "[]\n"


@pytest.mark.parametrize("query", ["GPT-4", "low-rank", "chain-of-thought", '"unbalanced', "AND", "[v2]"])
def test_search_never_fails_on_user_text(cli, query: str) -> None:
    result = cli("search", query)
    assert result.exit_code == 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("query", ["*", '"', "--"])
def test_search_without_words_lists_and_says_why(cli, query: str) -> None:
    result = cli("search", "--json", "--", query)
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 6
    assert "no words to search for" in result.stderr


def test_search_with_filters_only_lists(cli) -> None:
    result = cli("search", "--tag", "PrefixTuning", "--json")
    assert [r["key"] for r in json.loads(result.stdout)] == ["li2021prefixtuning"]


def test_search_filters_narrow_a_query(cli) -> None:
    result = cli("search", "tuning", "--year", "2021", "--venue", "ACL", "--json")
    assert [r["key"] for r in json.loads(result.stdout)] == ["li2021prefixtuning"]


def test_category_and_author_filters_from_the_command_line(cli, library) -> None:
    library.save(library.get("hu2021lora").with_(categories=("cs.CL", "cs.LG")))
    for command in (("search", "lora"), ("list",)):
        result = cli(*command, "--category", "cs.", "--json")
        assert [r["key"] for r in json.loads(result.stdout)] == ["hu2021lora"], result.output
    result = cli("list", "--author", "liang", "--json")
    assert [r["key"] for r in json.loads(result.stdout)] == ["li2021prefixtuning"]
    assert cli("list", "--author", "iang", "--json").stdout.strip() == "[]"  # not a substring match
    exported = cli("export", "--bibtex", "--category", "cs.LG")
    assert exported.exit_code == 0 and "@" in exported.stdout and "hu2021lora" in exported.stdout
    assert exported.stdout.count("\n@") == 0


def test_bad_year_is_a_usage_error(cli) -> None:
    result = cli("search", "lora", "--year", "202x")
    assert result.exit_code == 2
    assert "Error:" in result.stderr and "--year 2021" in result.stderr


def test_raw_flag_allows_fts_syntax(cli) -> None:
    result = cli("search", "--raw", "title:prefix OR title:budget", "--json")
    assert {r["key"] for r in json.loads(result.stdout)} == {"li2021prefixtuning", "zhang2023adaptive"}
    broken = cli("search", "--raw", '"unbalanced')
    assert broken.exit_code == 2 and "Error:" in broken.stderr


def test_show_by_key_and_by_arxiv_url(cli) -> None:
    by_key = cli("show", "li2021prefixtuning")
    assert by_key.exit_code == 0
    assert "Prefix-Tuning" in by_key.stdout and "2021.acl-long.353" in by_key.stdout
    by_url = cli("show", "https://arxiv.org/pdf/2106.09685v2.pdf", "--json")
    assert json.loads(by_url.stdout)["key"] == "hu2021lora"


def test_show_keeps_brackets_in_titles(cli) -> None:
    assert cli("set", "hu2021lora", "--title", "[v2] LoRA [/] revisited").exit_code == 0
    result = cli("show", "hu2021lora")
    assert "[v2] LoRA [/] revisited" in result.stdout


def test_show_unknown_key_suggests_close_matches(cli) -> None:
    result = cli("show", "hu2021lroa")
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0] == "Error: No record 'hu2021lroa' in the library."
    assert "hu2021lora" in result.stderr


def test_list_in_list_order_and_sorted(cli) -> None:
    result = cli("list", "--json")
    assert [r["key"] for r in json.loads(result.stdout)][:2] == ["hu2021lora", "zhang2023adaptive"]
    by_year = cli("list", "--sort", "year", "--reverse", "--json")
    assert json.loads(by_year.stdout)[0]["key"] == "zhang2023adaptive"
    table = cli("list", "--section", "PEFT")
    assert "5 records" in table.stdout


def test_facet_commands_count(cli) -> None:
    tags = json.loads(cli("tags", "--json").stdout)
    assert {"name": "LoRA", "count": 1} in tags
    models = cli("models")
    assert "GPT2 M/L" in models.stdout
    assert json.loads(cli("tasks", "--tag", "LoRA", "--json").stdout) == [{"name": "GLUE", "count": 1}]


def test_stats(cli) -> None:
    data = json.loads(cli("stats", "--json").stdout)
    assert data["records"] == 6
    assert "records" in cli("stats").stdout


def test_tag_adds_and_removes(cli) -> None:
    result = cli("tag", "hu2021lora", "+PEFT", "-LoRA", "Reading")
    assert result.exit_code == 0, result.output
    record = json.loads(cli("show", "hu2021lora", "--json").stdout)
    assert record["tags"] == ["PEFT", "Reading"]


def test_the_issue_example_works_when_the_tag_to_remove_is_absent(cli) -> None:
    result = cli("tag", "hu2021lora", "+LoRA", "-Adapter", "+PEFT")
    assert result.exit_code == 0, result.output
    assert json.loads(cli("show", "hu2021lora", "--json").stdout)["tags"] == ["LoRA", "PEFT"]


def test_an_option_among_tag_changes_is_refused_and_changes_nothing(cli) -> None:
    result = cli("tag", "hu2021lora", "+New", "--json")
    assert result.exit_code == 2
    assert "Options go before the key" in result.stderr
    assert json.loads(cli("show", "hu2021lora", "--json").stdout)["tags"] == ["LoRA"]


def test_an_empty_tag_change_is_refused(cli) -> None:
    result = cli("tag", "hu2021lora", "")
    assert result.exit_code == 2 and result.stderr.startswith("Error: '' names no tag.")


@pytest.mark.parametrize("command", ["search lora", "list"])
def test_a_limit_past_any_library_is_a_usage_error(cli, command: str) -> None:
    result = cli(*command.split(), "--limit", "99999999999999999999")
    assert result.exit_code == 2 and "--limit" in result.output


def test_note_appends_replaces_and_prints(cli) -> None:
    assert cli("note", "hu2021lora", "Rank 4 is enough.").exit_code == 0
    notes = cli("note", "hu2021lora").stdout
    assert notes == "做了Low-data Setting的情况\n\nRank 4 is enough.\n"
    assert cli("note", "hu2021lora", "Only this.", "--replace").exit_code == 0
    assert cli("note", "hu2021lora").stdout == "Only this.\n"
    assert cli("search", "enough", "--json").stdout == "[]\n"


def test_an_empty_note_is_refused_but_replace_with_nothing_clears(cli) -> None:
    empty = cli("note", "hu2021lora", "  ")
    assert empty.exit_code == 2 and "no text" in empty.stderr
    cleared = cli("note", "hu2021lora", "", "--replace")
    assert cleared.exit_code == 0 and "cleared" in cleared.stderr
    assert json.loads(cli("show", "hu2021lora", "--json").stdout)["notes"] == ""


def test_set_changes_curated_fields_but_never_the_key(cli) -> None:
    result = cli(
        "set",
        "2106.09685",
        "--model",
        "LLaMA",
        "--drop-model",
        "RoBERTa",
        "--task",
        "MMLU",
        "--title",
        "LoRA (corrected)",
        "--venue",
        "ICLR",
        "--year",
        "2022",
        "--todo",
    )
    assert result.exit_code == 0, result.output
    record = json.loads(cli("show", "hu2021lora", "--json").stdout)
    assert record["models"] == ["GPT2 M/L", "LLaMA"]
    assert record["tasks"] == ["GLUE", "MMLU"]
    assert (record["title"], record["venue"], record["year"], record["todo"]) == (
        "LoRA (corrected)",
        "ICLR",
        2022,
        True,
    )
    assert record["key"] == "hu2021lora"


def test_rm_asks_and_needs_yes_without_a_terminal(cli) -> None:
    refused = cli("rm", "hu2021lora")
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert cli("show", "hu2021lora").exit_code == 0
    assert cli("rm", "hu2021lora", "li2021prefixtuning", "--yes").exit_code == 0
    assert cli("show", "hu2021lora").exit_code == 3
    assert cli("show", "li2021prefixtuning").exit_code == 3


def test_rm_of_an_unknown_key_removes_nothing(cli) -> None:
    result = cli("rm", "hu2021lora", "nosuchkey", "--yes")
    assert result.exit_code == 3
    assert cli("show", "hu2021lora").exit_code == 0


def test_first_use_creates_the_library_from_the_bundled_seed(tmp_path: Path) -> None:
    db = tmp_path / "new" / "library.db"
    result = CliRunner().invoke(app, ["search", "lora", "--json"], env={"LLMREF_DB": str(db)})
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)[0]
    assert first["arxiv_id"] == "2106.09685"
    assert db.exists()


def test_default_location_is_the_user_data_directory(isolated: Path) -> None:
    result = CliRunner().invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    path = Path(json.loads(result.stdout)["path"])
    assert path.is_relative_to(isolated)
    assert path.exists()


def test_init_empty_and_refusing_to_overwrite(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    runner = CliRunner()
    result = runner.invoke(app, ["--db", str(db), "init", "--empty"])
    assert result.exit_code == 0 and "0 records" in result.stderr
    assert json.loads(runner.invoke(app, ["--db", str(db), "list", "--json"]).stdout) == []
    again = runner.invoke(app, ["--db", str(db), "init"])
    assert again.exit_code == 4 and "already exists" in again.stderr


def test_a_newer_library_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    runner = CliRunner()
    assert runner.invoke(app, ["--db", str(db), "init", "--empty"]).exit_code == 0
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, 'm999', 'x')",
        [schema.MIGRATION_SET],
    )
    conn.commit()
    conn.close()
    result = runner.invoke(app, ["--db", str(db), "search", "lora"])
    assert result.exit_code == 4
    assert "newer llmref" in result.stderr and "Hint:" in result.stderr


def test_every_command_has_help_with_an_example() -> None:
    runner = CliRunner()
    for name in (
        "search",
        "list",
        "show",
        "tags",
        "models",
        "tasks",
        "datasets",
        "stats",
        "tag",
        "note",
        "set",
        "rm",
        "init",
    ):
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example: llmref" in result.stdout, name


def test_concurrent_edits_of_one_record_all_land(tmp_path: Path) -> None:
    import subprocess
    import sys

    db = tmp_path / "shared.db"
    assert CliRunner().invoke(app, ["--db", str(db), "init"]).exit_code == 0
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "llmref", "--db", str(db), "tag", "hu2021lora", f"+T{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(6)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    tags = json.loads(CliRunner().invoke(app, ["--db", str(db), "show", "hu2021lora", "--json"]).stdout)[
        "tags"
    ]
    assert sorted(tags) == ["LoRA", *(f"T{i}" for i in range(6))]


def test_an_empty_file_becomes_a_library_with_the_seed(tmp_path: Path) -> None:
    db = tmp_path / "touched.db"
    db.touch()
    result = CliRunner().invoke(app, ["--db", str(db), "show", "2106.09685", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["key"] == "hu2021lora"


def test_a_db_path_with_a_tilde_is_expanded(tmp_path: Path, isolated: Path) -> None:
    result = CliRunner().invoke(app, ["stats", "--json"], env={"LLMREF_DB": "~/papers/lib.db"})
    assert result.exit_code == 0, result.output
    assert Path(json.loads(result.stdout)["path"]) == isolated / "papers" / "lib.db"


@pytest.mark.parametrize(("answer", "removed"), [("y", True), ("n", False)])
def test_rm_on_a_terminal_asks_first(tmp_path: Path, answer: str, removed: bool) -> None:
    import os
    import pty
    import subprocess
    import sys
    import time

    db = tmp_path / "lib.db"
    assert CliRunner().invoke(app, ["--db", str(db), "init"]).exit_code == 0
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmref", "--db", str(db), "rm", "hu2021lora"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 30
    while b"[y/N]" not in seen and time.monotonic() < deadline:  # the prompt may come in several reads
        seen += os.read(leader, 1024)
    assert b"Remove 1 record" in seen and b"hu2021lora" in seen
    os.write(leader, answer.encode() + b"\n")
    assert proc.wait(timeout=30) == (0 if removed else 1)
    os.close(leader)
    shown = CliRunner().invoke(app, ["--db", str(db), "show", "hu2021lora"])
    assert (shown.exit_code == 3) is removed


def test_a_library_from_an_earlier_version_is_upgraded_once_and_says_so(tmp_path: Path) -> None:
    from .conftest import runner_for

    db = tmp_path / "old.db"
    run = runner_for(db)
    assert run("init").exit_code == 0
    with sqlite3.connect(db) as conn:  # as versions before m011 left it: authors in a rowid table
        conn.execute(
            "CREATE TABLE old_authors (record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,"
            " position INTEGER NOT NULL, author_id INTEGER NOT NULL REFERENCES authors(id),"
            " PRIMARY KEY (record_id, position))"
        )
        conn.execute("INSERT INTO old_authors SELECT record_id, position, author_id FROM record_authors")
        conn.execute("DROP TABLE record_authors")
        conn.execute("ALTER TABLE old_authors RENAME TO record_authors")
        conn.execute("CREATE INDEX record_authors_author ON record_authors(author_id)")
        before = conn.execute("SELECT * FROM record_authors ORDER BY record_id, position").fetchall()
        # A row of a record gone (foreign keys are off here, as in other tools): not copied.
        conn.execute("INSERT INTO record_authors VALUES (999999, 0, ?)", [before[0][2]])
        conn.execute("DROP INDEX records_title_order")  # and before m010
        conn.execute(
            "DELETE FROM _sqlite_migrations WHERE name IN"
            " ('m010_title_order_index', 'm011_record_authors_by_record')"
        )
    assert before
    result = run("list", "--json", "--limit", "1")
    assert result.exit_code == 0 and len(json.loads(result.stdout)) == 1
    assert result.stderr.startswith(f"Upgrading {db} for this version of llmref")
    again = run("list", "--json", "--limit", "1")
    assert again.exit_code == 0 and again.stderr == ""
    with sqlite3.connect(db) as conn:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'record_authors'").fetchone()[0]
        assert sql.rstrip().endswith("WITHOUT ROWID")
        assert conn.execute("SELECT * FROM record_authors ORDER BY record_id, position").fetchall() == before
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'record_authors_author'").fetchone()
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'records_title_order'").fetchone()
    assert "hu2021lora" in run("list", "--author", "hu").stdout
