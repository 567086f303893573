"""Search and read at scale: the curated library plus N synthetic arXiv records, N = 1k … 1M.

For each size, in the same run:

* queries in-process (a fresh process per size, each query --runs times, medians): llmref's
  ``Library.search`` against the floor, a plain FTS5 query over the same index ordered by bm25
  (``ORDER BY bm25(records_fts) LIMIT 20``);
* filters (``--year``, ``--tag``, ``--author``, ``--category``) through ``Library.list``;
* cold commands: ``llmref search lora``, ``llmref stats``, ``llmref tags`` against the start-up
  floor ``python -c "import typer, sqlite3"``, interleaved;
* whether the LoRA paper is still the first result for ``lora``.

    python scripts/bench_scale.py [--sizes 1000,10000,100000,1000000] [--runs 7] [--work DIR]

Libraries are built once in --work (kept between runs) with ``llmref import``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ("lora", "low rank adaptation", "transformer", "language model")
FLOOR_CMD = [sys.executable, "-c", "import typer, sqlite3"]
TARGET_COLD_SEARCH = 1.7
TARGET_QUERY_MS = 100.0

# Runs inside a fresh interpreter: times every query and filter on one library, as JSON.
_PROBE = r"""
import json, sqlite3, statistics, sys, time
from pathlib import Path
from llmref.store import fts
from llmref.store.library import Library
from llmref.store.query import Filters

path, runs = Path(sys.argv[1]), int(sys.argv[2])
queries, filters = json.loads(sys.argv[3]), json.loads(sys.argv[4])
lib = Library.open(path)
raw = sqlite3.connect(path)

def timed(fn):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000

out = {"queries": {}, "filters": {}}
for q in queries:
    match = fts.match_expression(q)
    floor_sql = ("SELECT rowid, bm25(records_fts) AS s FROM records_fts"
                 " WHERE records_fts MATCH ? ORDER BY s LIMIT 20")
    out["queries"][q] = {
        "floor": timed(lambda: raw.execute(floor_sql, [match]).fetchall()),
        "llmref": timed(lambda: lib.search(q, limit=20)),
        "matches": raw.execute(
            "SELECT COUNT(*) FROM records_fts WHERE records_fts MATCH ?", [match]
        ).fetchone()[0],
    }
for name, spec in filters.items():
    query = spec.pop("query", None)
    sort = spec.pop("sort", "added")
    f = Filters(**{k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()})
    if query:
        out["filters"][name] = timed(lambda: lib.search(query, f, limit=20))
    else:
        out["filters"][name] = timed(lambda: lib.list(f, sort=sort, limit=20))
out["first_for_lora"] = lib.search("lora", limit=1)[0].record.key
print(json.dumps(out))
"""

FILTERS = {
    "--year 2023": {"year_from": 2023, "year_to": 2023},
    "--tag LoRA": {"tags": ["LoRA"]},
    "--author wang": {"authors": ["wang"]},
    "--category cs.CL": {"categories": ["cs.CL"]},
    "lora --year 2023 --category cs.CL": {
        "query": "lora",
        "year_from": 2023,
        "year_to": 2023,
        "categories": ["cs.CL"],
    },
    # A common word with a filter: few records pass (a venue of the curated list), a fifth of
    # them do, a tenth, one paper.
    "graph --venue ICLR": {"query": "graph", "venue": "ICLR"},
    "quantum --author wang": {"query": "quantum", "authors": ["wang"]},
    "model --year 2020": {"query": "model", "year_from": 2020, "year_to": 2020},
    "model --author al-rfou": {"query": "model", "authors": ["al-rfou"]},
    "list --sort title": {"sort": "title"},
}


def llmref_cmd() -> str:
    return shutil.which("llmref") or str(Path(sys.executable).parent / "llmref")


def build(size: int, work: Path) -> Path:
    """A library with the curated seed and ``size`` synthetic snapshot records (kept in ``work``)."""
    db = work / f"lib-{size}.db"
    if db.exists():
        return db
    snapshot = work / f"snapshot-{size}.jsonl"
    if not snapshot.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "gen_snapshot.py"), str(size), "-o", str(snapshot)],
            check=True, capture_output=True,
        )  # fmt: skip
    partial = work / f"partial-{size}.db"
    for leftover in work.glob(f"partial-{size}.db*"):
        leftover.unlink()
    env = {**os.environ, "LLMREF_DB": str(partial)}
    subprocess.run([llmref_cmd(), "init"], env=env, check=True, capture_output=True)
    subprocess.run([llmref_cmd(), "import", str(snapshot)], env=env, check=True, capture_output=True)
    with sqlite3.connect(partial) as conn:  # one file, as the benchmark's other libraries
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    partial.rename(db)
    for leftover in work.glob(f"partial-{size}.db-*"):
        leftover.unlink()
    return db


def cold(db: Path, runs: int) -> dict[str, float]:
    """Median wall times (ms) of fresh processes, interleaved with the start-up floor."""
    env = {**os.environ, "LLMREF_DB": str(db)}
    commands = {
        "floor": FLOOR_CMD,
        "search lora": [llmref_cmd(), "search", "lora"],
        "stats": [llmref_cmd(), "stats"],
        "tags": [llmref_cmd(), "tags"],
    }
    for cmd in commands.values():
        subprocess.run(cmd, env=env, check=True, capture_output=True)  # warm the page cache alike
    return interleaved(commands, env, runs)


def interleaved(commands: dict[str, list[str]], env: dict[str, str], runs: int) -> dict[str, float]:
    """Median wall time (ms) of each command, each run in turn so that noise hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            start = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(samples) * 1000 for name, samples in times.items()}


def probe(db: Path, runs: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(db), str(runs), json.dumps(QUERIES), json.dumps(FILTERS)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def measure(sizes: list[int], runs: int, work: Path) -> list[dict]:
    rows = []
    for size in sizes:
        db = build(size, work)
        rows.append({"size": size, "bytes": db.stat().st_size, **probe(db, runs), "cold": cold(db, runs)})
    return rows


def report(rows: list[dict]) -> str:
    lines = []
    sizes = [r["size"] for r in rows]
    head = f"{'':34}" + "".join(f"{s:>12,}" for s in sizes)
    lines.append("Search at scale (ms, medians; ratio = llmref / floor)")
    lines.append(head)
    for q in QUERIES:
        label = repr(q) + " matches"
        lines.append(f"{label:34}" + "".join(f"{r['queries'][q]['matches']:>12,}" for r in rows))
        lines.append(
            f"{'  floor: FTS5 bm25 LIMIT 20':34}"
            + "".join(f"{r['queries'][q]['floor']:>12.1f}" for r in rows)
        )
        lines.append(f"{'  llmref search':34}" + "".join(f"{r['queries'][q]['llmref']:>12.1f}" for r in rows))
    lines.append("Filters (Library.list / search, 20 results)")
    for name in FILTERS:
        lines.append(f"{'  ' + name:34}" + "".join(f"{r['filters'][name]:>12.1f}" for r in rows))
    lines.append("Cold commands (fresh process)")
    lines.append(
        f"{'  floor: import typer, sqlite3':34}" + "".join(f"{r['cold']['floor']:>12.1f}" for r in rows)
    )
    for name in ("search lora", "stats", "tags"):
        lines.append(f"{'  llmref ' + name:34}" + "".join(f"{r['cold'][name]:>12.1f}" for r in rows))
    lines.append(
        f"{'  search lora / floor':34}"
        + "".join(f"{r['cold']['search lora'] / r['cold']['floor']:>12.2f}" for r in rows)
    )
    lines.append(f"{'first result for lora':34}" + "".join(f"{r['first_for_lora']:>12}" for r in rows))
    lines.append(
        f"{'library bytes / record':34}" + "".join(f"{r['bytes'] / r['size']:>12,.0f}" for r in rows)
    )
    timings = [(v["llmref"], q) for r in rows for q, v in r["queries"].items()]
    timings += [(ms, name) for r in rows for name, ms in r["filters"].items()]
    slowest, which = max(timings)
    worst = max(r["cold"]["search lora"] / r["cold"]["floor"] for r in rows)
    lines.append(
        f"slowest query {slowest:.1f} ms ({which}; target < {TARGET_QUERY_MS:.0f}); cold search lora up"
        f" to {worst:.2f}x the floor (target <= {TARGET_COLD_SEARCH})"
    )
    return "\n".join(lines)


def compile_llmref() -> None:
    """Byte-compile llmref as `pip install` does, so that no run pays for compiling its sources
    (an editable install under PYTHONDONTWRITEBYTECODE would, every time)."""
    import llmref

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(llmref.__file__).parent)], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--work", type=Path, help="Keep generated snapshots and libraries here.")
    args = parser.parse_args()
    compile_llmref()
    work = args.work or Path(tempfile.mkdtemp(prefix="llmref-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = measure([int(s) for s in args.sizes.split(",")], args.runs, work)
    print(report(rows))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
