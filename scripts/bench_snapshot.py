"""Snapshot import benchmark: `llmref import` of a synthetic arXiv snapshot against a raw floor.

The floor, measured in the same run on the same file: plain `sqlite3` loading the same records
(id, title, authors, abstract, categories) into one table and building an FTS5 index after
the load — the least any tool must do to make the snapshot searchable.

    python scripts/bench_snapshot.py [--records 20000[,100000…]] [--runs 3]

Reports medians of --runs alternating runs, the import's peak memory (resident, largest
process) and the library's size per record.
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


def llmref(path: Path, db: Path) -> tuple[float, int]:
    """Seconds for `llmref import` into an empty library, and its peak memory (bytes, largest
    process: the writer or its reader)."""
    env = {**os.environ, "LLMREF_DB": str(db)}
    subprocess.run(
        [sys.executable, "-m", "llmref", "init", "--empty"], env=env, check=True, capture_output=True
    )
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "llmref", "import", str(path)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if status:
        raise SystemExit(f"llmref import failed ({status})")
    return elapsed, usage.ru_maxrss * 1024


def generate(records: int, path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_snapshot.py"), str(records), "-o", str(path)],
        check=True, capture_output=True,
    )  # fmt: skip


def measure(records: int, runs: int, work: Path) -> dict[str, float]:
    """Floor and llmref, alternately, on one generated snapshot; medians."""
    snapshot = work / f"import-{records}.jsonl"
    if not snapshot.exists():
        generate(records, snapshot)
    floors, ours, peaks, size = [], [], [], 0
    for run in range(runs):
        for name in (f"floor{run}.db", f"llmref{run}.db"):
            for leftover in work.glob(name + "*"):
                leftover.unlink()
        floors.append(floor(snapshot, work / f"floor{run}.db"))
        elapsed, peak = llmref(snapshot, work / f"llmref{run}.db")
        ours.append(elapsed)
        peaks.append(peak)
        size = (work / f"llmref{run}.db").stat().st_size
        for leftover in work.glob(f"*{run}.db*"):
            leftover.unlink()
    f, o = statistics.median(floors), statistics.median(ours)
    return {
        "records": records,
        "floor_rate": records / f,
        "llmref_rate": records / o,
        "ratio": f / o,
        "peak_rss": max(peaks),
        "bytes_per_record": size / records,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="20000", help="One size, or several: 10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for records in (int(n) for n in args.records.split(",")):
            m = measure(records, args.runs, Path(tmp))
            print(
                f"{records:>10,} records: floor {m['floor_rate']:9,.0f}/s  llmref {m['llmref_rate']:9,.0f}/s"
                f"  ratio {m['ratio']:.2f} (target >= 0.6)  peak {m['peak_rss'] / 2**20:,.0f} MB"
                f"  {m['bytes_per_record']:,.0f} bytes/record"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
