"""Every benchmark in one go: start-up, snapshot import, search at scale, BibTeX export/import.

Each figure is set beside a floor measured in the same run on the same machine, so the ratios
mean the same thing on a fast or a slow, busy machine; commands run in fresh processes,
interleaved with their floors, and medians are reported.

* start-up (here): cold `llmref --version` and `llmref search lora` on the curated library
  against `python -c "import typer, sqlite3"` (targets 1.3x and 1.5x);
* import (scripts/bench_snapshot.py): `llmref import` of a synthetic arXiv snapshot against a
  raw sqlite3 loader with FTS5 built after the load (target >= 0.6x its rate);
* scale (scripts/bench_scale.py): queries, filters, stats and cold search from 1k to 1M records;
* exchange (scripts/bench_exchange.py): BibTeX export and import against bibtexparser.

    python scripts/bench.py            # everything, 1M records included: about half an hour
    python scripts/bench.py --quick    # small sizes, under a minute: for everyday use
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_scale import compile_llmref, interleaved

TARGETS = {"llmref --version": 1.3, "llmref search lora": 1.5}
SCRIPTS = Path(__file__).resolve().parent
FULL = {
    "startup_runs": 21,
    "import": ["--records", "100000,1000000", "--runs", "3"],
    "scale": ["--sizes", "1000,10000,100000,1000000", "--runs", "7"],
    "exchange": [],
}
QUICK = {
    "startup_runs": 5,
    "import": ["--records", "5000", "--runs", "1"],
    "scale": ["--sizes", "1000,10000", "--runs", "3"],
    "exchange": ["--quick"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Small sizes: under a minute.")
    parser.add_argument("--only", choices=("startup", "import", "scale", "exchange"), action="append")
    args = parser.parse_args()
    compile_llmref()
    plan = QUICK if args.quick else FULL
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {platform.platform()}")
    ok = True
    for part in args.only or ("startup", "import", "scale", "exchange"):
        print(f"\n## {part}\n", flush=True)
        if part == "startup":
            ok &= startup(plan["startup_runs"]) == 0
        else:
            script = SCRIPTS / f"bench_{'snapshot' if part == 'import' else part}.py"
            ok &= subprocess.run([sys.executable, str(script), *plan[part]]).returncode == 0
    return 0 if ok else 1


def startup(runs: int) -> int:
    llmref = shutil.which("llmref") or str(Path(sys.executable).parent / "llmref")
    tmp = Path(tempfile.mkdtemp())
    env = {**os.environ, "LLMREF_DB": str(tmp / "bench.db")}
    commands = {
        "floor: import typer, sqlite3": [sys.executable, "-c", "import typer, sqlite3"],
        "llmref --version": [llmref, "--version"],
        "llmref search lora": [llmref, "search", "lora"],
    }
    subprocess.run(
        commands["llmref search lora"], env=env, check=True, capture_output=True
    )  # creates the library
    times = interleaved(commands, env, runs)
    shutil.rmtree(tmp, ignore_errors=True)

    floor = times["floor: import typer, sqlite3"]
    print(f"{'command':32} {'median ms':>10} {'ratio':>7} {'target':>7}")
    ok = True
    for name, median in times.items():
        ratio = median / floor
        target = TARGETS.get(name)
        mark = "" if target is None else ("  ok" if ratio <= target else "  OVER")
        ok &= target is None or ratio <= target
        print(f"{name:32} {median:10.1f} {ratio:7.2f} {target or '':>7}{mark}")
    print(f"({runs} runs each, interleaved; {sys.executable})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
