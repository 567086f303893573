"""BibTeX export streams: records are read a batch at a time and written as they come, and what
ends up on stdout or in the file is exactly what the whole-library writer makes."""

from __future__ import annotations

import errno
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from llmref.errors import StoreError
from llmref.exchange import EXPORT_BATCH
from llmref.formats.bibtex import bibtex_entries, to_bibtex
from llmref.models import Record
from llmref.store.library import Library

from .conftest import runner_for

#: More than two batches, and not a multiple of one.
SIZE = 2 * EXPORT_BATCH + 500
NAMES = ("Edward J. Hu", "Oskar van der Wal", "Tri Dao", "Andreas Rücklé", "Gemini Team", "Wang, Yizhong")
VENUES = (None, "ICLR", "EMNLP 2021", "Journal of Machine Learning Research", "arXiv", "A Workshop on Things")


def _records(count: int) -> Iterator[Record]:
    for i in range(count):
        kind = "tool" if i % 7 == 0 else "paper"
        imported = i % 11 == 0
        yield Record(
            kind=kind,
            title=f"{'LoRA' if i % 3 else 'The 100% {Solution} & More'}: Model {i} for T5_{i % 9} Tasks",
            authors=tuple(NAMES[(i + k) % len(NAMES)] for k in range(1 + i % 4)),
            authors_truncated=i % 13 == 0,
            year=2000 + i % 25,
            venue=VENUES[i % len(VENUES)],
            arxiv_id=f"{2101 + i % 12}.{i:05d}" if i % 2 else None,
            doi=f"10.1234/x.{i}" if i % 5 == 0 else None,
            urls=(("project", f"https://github.com/example/p{i}"),) if kind == "tool" else (),
            tags=("PEFT", "LoRA") if i % 4 == 0 else (),
            abstract=f"We study ~{i} models with 5% of the $\\alpha$ parameters." if i % 3 == 0 else None,
            published=f"{2000 + i % 25}-{1 + i % 12:02d}-01",
            entry_type="inproceedings" if imported else None,
            bibtex_fields=(("pages", f"{i}--{i + 9}"), ("Title", "{LoRA} as written")) if imported else (),
        )


@pytest.fixture(scope="module")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("big") / "big.db"
    Library.open(db, seed=_records(SIZE)).close()
    return db


@pytest.fixture
def big(big_db: Path) -> Callable[..., Any]:
    return runner_for(big_db)


def _whole(db: Path, keys: list[str] | None = None) -> str:
    with Library.open(db) as library:
        if keys is None:
            return to_bibtex(library.records(library.list_ids()))
        return to_bibtex(library.find(key) for key in keys)


def _spy_on_batches(
    monkeypatch: pytest.MonkeyPatch, before: Callable[[int, list[int]], None]
) -> list[list[int]]:
    calls: list[list[int]] = []
    real = Library.records

    def spy(self: Library, record_ids: list[int]) -> list[Record]:
        calls.append(list(record_ids))
        before(len(calls), list(record_ids))
        return real(self, record_ids)

    monkeypatch.setattr(Library, "records", spy)
    return calls


def test_bibtex_export_of_many_batches_is_the_whole_library_file(big, big_db: Path, tmp_path: Path) -> None:
    expected = _whole(big_db)
    assert expected.count("\n@") + 1 == SIZE
    shown = big("export", "--bibtex")
    assert shown.exit_code == 0 and shown.stdout == expected
    target = tmp_path / "refs.bib"
    written = big("export", "--bibtex", "-o", str(target))
    assert written.exit_code == 0 and f"Wrote {SIZE} records" in written.stderr
    assert target.read_bytes() == expected.encode("utf-8")


def test_a_searched_bibtex_export_is_sorted_by_key_like_the_whole_file(big, big_db: Path) -> None:
    keys = [r["key"] for r in json.loads(big("export", "--json", "LoRA", "--year", "2003-2020").stdout)]
    assert len(keys) > EXPORT_BATCH
    expected = _whole(big_db, keys)
    assert big("export", "--bibtex", "LoRA", "--year", "2003-2020").stdout == expected


def test_bibtex_export_loads_a_batch_at_a_time_and_writes_as_it_goes(
    big, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "refs.bib"
    written: list[int] = []
    calls = _spy_on_batches(
        monkeypatch,
        lambda n, ids: written.append(sum(p.stat().st_size for p in tmp_path.glob(".refs.bib.*.tmp"))),
    )
    assert big("export", "--bibtex", "-o", str(target)).exit_code == 0
    assert [len(c) for c in calls] == [EXPORT_BATCH, EXPORT_BATCH, SIZE - 2 * EXPORT_BATCH]
    # The first batches are in the file before the last one is read.
    assert written[0] == 0 and 0 < written[1] < written[2] < target.stat().st_size


@pytest.mark.parametrize(
    ("failure", "exit_code", "message"),
    [
        (StoreError("database is locked."), 4, "Error: database is locked."),
        (OSError(errno.ENOSPC, "No space left on device"), 2, "Error: Cannot write"),
    ],
)
def test_a_failure_midway_keeps_the_old_file_and_leaves_no_partial_one(
    big, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: Exception, exit_code: int, message: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "refs.bib"
    target.write_text("the old file\n", encoding="utf-8")

    def fail_on_the_second_batch(n: int, ids: list[int]) -> None:
        if n == 2:
            raise failure

    _spy_on_batches(monkeypatch, fail_on_the_second_batch)
    result = big("export", "--bibtex", "-o", str(target))
    assert result.exit_code == exit_code and result.stderr.startswith(message)
    assert target.read_text(encoding="utf-8") == "the old file\n"
    assert [p.name for p in out.iterdir()] == ["refs.bib"]


def test_an_empty_bibtex_export_says_so_and_writes_an_empty_file(big, tmp_path: Path) -> None:
    shown = big("export", "--bibtex", "--tag", "NoSuchTag")
    assert shown.exit_code == 0 and shown.stdout == ""
    assert "Nothing matches: the export is empty." in shown.stderr
    target = tmp_path / "refs.bib"
    assert big("export", "--bibtex", "no-such-word-anywhere", "-o", str(target)).exit_code == 0
    assert target.read_text(encoding="utf-8") == ""


def test_bibtex_entries_join_into_the_file_and_refuse_keys_out_of_order() -> None:
    records = [r.with_(key=f"k{i:04d}") for i, r in enumerate(_records(30))]
    assert "".join(bibtex_entries(records)) == to_bibtex(reversed(records))
    with pytest.raises(ValueError, match="duplicate citation key"):
        list(bibtex_entries([records[0], records[1].with_(key="k0000")]))
    with pytest.raises(ValueError, match="out of key order: k0000 after k0001"):
        list(bibtex_entries([records[1], records[0]]))


def test_a_long_import_lists_only_what_needs_a_look(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from llmref.cli import app as cli_app

    bib = tmp_path / "many.bib"
    entries = [f"@misc{{k{n},\n  title = {{Paper number {n}}},\n  year = {{2020}},\n}}\n" for n in range(150)]
    entries.append("@misc{hu2021lora,\n  title = {A clash},\n  year = {2020},\n}\n")  # a seed's key
    bib.write_text("\n".join(entries), encoding="utf-8")
    result = CliRunner().invoke(
        cli_app.app, ["--db", str(tmp_path / "lib.db"), "import", str(bib)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "Paper number 7" not in result.stdout
    assert "A clash" in result.stdout
    assert "150 not listed one by one" in result.output
