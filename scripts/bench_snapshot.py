"""Snapshot import benchmark: `llmref import` of a synthetic arXiv snapshot against a raw floor.

The floor, measured in the same run on the same file: plain `sqlite3` loading the same records
(id, title, authors, abstract, categories) into one table and building an FTS5 index after
the load — the least any tool must do to make the snapshot searchable.

    python scripts/bench_snapshot.py [--records 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def floor(path: Path, db: Path) -> float:
    start = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE papers (id TEXT PRIMARY KEY, title TEXT, authors TEXT, abstract TEXT, categories TEXT)"
    )
    with open(path, encoding="utf-8") as lines, conn:
        rows = (
            (
                d["id"],
                " ".join(d["title"].split()),
                d["authors"],
                " ".join(d["abstract"].split()),
                d["categories"],
            )
            for d in map(json.loads, lines)
        )
        conn.executemany("INSERT INTO papers VALUES (?, ?, ?, ?, ?)", rows)
    conn.execute("CREATE VIRTUAL TABLE papers_fts USING fts5(title, authors, abstract, content='papers')")
    conn.execute("INSERT INTO papers_fts(papers_fts) VALUES ('rebuild')")
    conn.commit()
    conn.close()
    return time.perf_counter() - start


def llmref(path: Path, db: Path) -> float:
    env = {**os.environ, "LLMREF_DB": str(db)}
    subprocess.run(
        [sys.executable, "-m", "llmref", "init", "--empty"], env=env, check=True, capture_output=True
    )
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "llmref", "import", str(path)], env=env, check=True, capture_output=True
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = Path(tmp) / "snapshot.jsonl"
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / "gen_snapshot.py"),
                str(args.records),
                "-o",
                str(snapshot),
            ],
            check=True,
            capture_output=True,
        )
        floors, ours = [], []
        for run in range(args.runs):
            floors.append(floor(snapshot, Path(tmp) / f"floor{run}.db"))
            ours.append(llmref(snapshot, Path(tmp) / f"llmref{run}.db"))
        size = (Path(tmp) / "llmref0.db").stat().st_size
    f, o = statistics.median(floors), statistics.median(ours)
    print(f"records: {args.records:,}  (medians of {args.runs} runs)")
    print(f"floor  (sqlite3, FTS5 after load): {f:7.2f} s  {args.records / f:10,.0f} records/s")
    print(f"llmref import --format arxiv-snapshot: {o:7.2f} s  {args.records / o:10,.0f} records/s")
    print(f"ratio (llmref rate / floor rate): {f / o:.2f}   target >= 0.6")
    print(f"library size: {size / args.records:,.0f} bytes/record")
    return 0


if __name__ == "__main__":
    sys.exit(main())
