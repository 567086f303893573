"""arXiv batching benchmark: requests per id and time per batch of `llmref add`, against a floor.

Runs llmref against the test suite's arXiv look-alike server on 127.0.0.1 (so no request leaves
the machine). The floor is what any polite client must spend, measured in the same run: a Python
start-up (`python -c "import typer, sqlite3"`), plain urllib GETs of the very same pages, and the
spacing between requests (0.2 s on loopback, 3 s against arXiv itself).

    python scripts/bench_arxiv.py [--ids 150 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from llmref.sources.arxiv import LOOPBACK_INTERVAL  # noqa: E402
from tests.arxiv_server import ArxivServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, nargs="+", default=[150, 1000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{'ids':>6} {'requests':>9} {'req/id':>7} {'llmref s':>9} {'floor s':>8}"
        f" {'per batch ms':>13} {'ratio':>6}"
    )
    for count in args.ids:
        # The look-alike server invents papers for 2301.10000-10999; past 1000 ids they repeat.
        ids = [f"2301.{10000 + i % 1000}" for i in range(count)]
        ours, floors, requests = [], [], 0
        for _ in range(args.runs):
            with ArxivServer() as server, tempfile.TemporaryDirectory() as tmp:
                env = {**os.environ, "LLMREF_ARXIV_API_URL": server.url, "HOME": tmp, "XDG_STATE_HOME": tmp,
                       "LLMREF_DB": str(Path(tmp) / "bench.db")}  # fmt: skip
                subprocess.run(
                    [sys.executable, "-m", "llmref", "init", "--empty"],
                    env=env,
                    check=True,
                    capture_output=True,
                )
                listing = Path(tmp) / "ids.txt"
                listing.write_text("\n".join(ids))
                start = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "llmref", "add", "--from-file", str(listing)],
                    env=env,
                    capture_output=True,
                )
                ours.append(time.perf_counter() - start)
                requests = len(server.requests)
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", "import typer, sqlite3"], check=True)
                for request in list(server.requests):
                    query = urllib.parse.urlencode(request.params)
                    with urllib.request.urlopen(f"{server.url}?{query}") as response:
                        response.read()
                floors.append(time.perf_counter() - start + (requests - 1) * LOOPBACK_INTERVAL)
        ours_m, floor_m = statistics.median(ours), statistics.median(floors)
        print(
            f"{count:6d} {requests:9d} {requests / count:7.3f} {ours_m:9.2f} {floor_m:8.3f}"
            f" {ours_m / requests * 1000:13.0f} {ours_m / floor_m:6.1f}"
        )
    print("llmref s: a whole `llmref add --from-file` run; floor s: start-up + plain GETs of the same pages")
    print("+ the spacing between them; per batch: llmref s / requests; medians of --runs runs.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
