"""Start-up benchmark: cold `llmref --version` and `llmref search lora` against a floor.

The floor is `python -c "import typer, sqlite3"`, measured in the same run on the same
interpreter, so the ratios mean the same thing on a fast or a slow, busy machine. Each command
runs --runs times in a fresh process (interleaved, so that noise hits all alike); medians are
reported.

    python scripts/bench.py [--runs 21]

Targets: --version <= 1.3x the floor, search lora <= 1.5x the floor.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"llmref --version": 1.3, "llmref search lora": 1.5}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()

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
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            start = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    shutil.rmtree(tmp, ignore_errors=True)

    floor = statistics.median(times["floor: import typer, sqlite3"])
    print(f"{'command':32} {'median ms':>10} {'ratio':>7} {'target':>7}")
    ok = True
    for name, samples in times.items():
        median = statistics.median(samples)
        ratio = median / floor
        target = TARGETS.get(name)
        mark = "" if target is None else ("  ok" if ratio <= target else "  OVER")
        ok &= target is None or ratio <= target
        print(f"{name:32} {median * 1000:10.1f} {ratio:7.2f} {target or '':>7}{mark}")
    print(f"({args.runs} runs each, interleaved; {sys.executable})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
