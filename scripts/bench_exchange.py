"""Exchange benchmark: `llmref export --bibtex` and `llmref import file.bib` against bibtexparser v2.

Floors, measured in the same run on the same data, each a cold `python` process as llmref is:

* export: bibtexparser builds a ``Library`` of ``Entry`` objects with the entry types, keys and
  field values llmref wrote (read once, before timing, from llmref's own output into JSON) and
  writes it with ``write_file`` (in-place unparse stack, llmref's indent and spacing, so the two
  files are the same bytes);
* import: bibtexparser's ``parse_file`` of the same .bib file, default parse stack.

The library is built from a synthetic arXiv snapshot (scripts/gen_snapshot.py). The .bib that
is imported is the first ``--bib-entries`` entries of llmref's export. Phases alternate (floor,
llmref, floor, llmref…) and the figures are medians. Peak RSS is each export process's own
(wait4), for two library sizes: streaming keeps it flat.

    python scripts/bench_exchange.py [--records 100000] [--bib-entries 10000] [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import filecmp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPORT_TARGET = 1.5
IMPORT_TARGET = 2.0

FLOOR_WRITE = """
import json, sys
import bibtexparser
from bibtexparser.middlewares.parsestack import default_unparse_stack
from bibtexparser.model import Entry, Field

with open(sys.argv[1], encoding="utf-8") as handle:
    data = json.load(handle)
library = bibtexparser.Library(
    [Entry(kind, key, [Field(n, v, enclosing=e) for n, v, e in fields]) for kind, key, fields in data]
)
layout = bibtexparser.BibtexFormat()
layout.indent = "  "
layout.block_separator = "\\n"
stack = default_unparse_stack(allow_inplace_modification=True)
bibtexparser.write_file(sys.argv[2], library, unparse_stack=stack, bibtex_format=layout)
"""

FLOOR_DATA = """
import json, sys
import bibtexparser

library = bibtexparser.parse_file(sys.argv[1])
data = [[e.entry_type, e.key, [[f.key, f.value, f.enclosing] for f in e.fields]] for e in library.entries]
with open(sys.argv[2], "w", encoding="utf-8") as handle:
    json.dump(data, handle, ensure_ascii=False)
"""

FLOOR_PARSE = """
import sys
import bibtexparser

library = bibtexparser.parse_file(sys.argv[1])
assert library.entries
"""


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one process, from start-up to exit.

    The peak is the child's own (wait4), but Linux counts the pages the child had before exec,
    which are this process's: so this process streams its files and stays small.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"{' '.join(args)} failed ({proc.returncode}):\n{err.decode(errors='replace')}")
    return elapsed, usage.ru_maxrss


def llmref(db: Path, *args: str) -> tuple[float, int]:
    return run([sys.executable, "-m", "llmref", *args], {**os.environ, "LLMREF_DB": str(db)})


def build_library(tmp: Path, records: int) -> Path:
    snapshot = tmp / f"snapshot-{records}.jsonl"
    db = tmp / f"lib-{records}.db"
    run([sys.executable, str(ROOT / "scripts" / "gen_snapshot.py"), str(records), "-o", str(snapshot)])
    llmref(db, "init", "--empty")
    seconds, _ = llmref(db, "import", str(snapshot))
    note(f"built a library of {records:,} records in {seconds:.1f} s")
    snapshot.unlink()
    return db


def first_entries(bib: Path, count: int, out: Path) -> int:
    """The first ``count`` entries of ``bib`` into ``out``, line by line (this process stays small)."""
    found = 0
    with bib.open(encoding="utf-8") as lines, out.open("w", encoding="utf-8") as target:
        for line in lines:
            if line.startswith("@"):
                found += 1
                if found > count:
                    break
                if found > 1:
                    target.write("\n")
            if line.strip():
                target.write(line)
    return min(found, count)


def alternate(runs: int, floor: Callable[[], float], ours: Callable[[], float]) -> tuple[float, float]:
    floors, mine = [], []
    for _ in range(runs):
        floors.append(floor())
        mine.append(ours())
    return statistics.median(floors), statistics.median(mine)


def note(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100000, help="library size for the export")
    parser.add_argument("--bib-entries", type=int, default=10000, help="entries in the imported .bib")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    args = parser.parse_args()
    if args.quick:
        args.records, args.bib_entries = 1000, 300
    small = max(args.records // 10, 1)
    with tempfile.TemporaryDirectory(prefix="bench-exchange-") as name:
        tmp = Path(name)
        db = build_library(tmp, args.records)
        small_db = build_library(tmp, small)
        out_bib, floor_bib, data = tmp / "out.bib", tmp / "floor.bib", tmp / "entries.json"

        llmref(db, "export", "--bibtex", "-o", str(out_bib))  # warms the page cache, gives the data
        run([sys.executable, "-c", FLOOR_DATA, str(out_bib), str(data)])
        write_cmd = [sys.executable, "-c", FLOOR_WRITE, str(data), str(floor_bib)]
        run(write_cmd)
        same = filecmp.cmp(floor_bib, out_bib, shallow=False)
        with out_bib.open(encoding="utf-8") as lines:
            entries = sum(line.startswith("@") for line in lines)
        rss: dict[str, list[int]] = {"floor": [], "llmref": []}

        def floor_export() -> float:
            seconds, peak = run(write_cmd)
            rss["floor"].append(peak)
            return seconds

        def llmref_export() -> float:
            seconds, peak = llmref(db, "export", "--bibtex", "-o", str(out_bib))
            rss["llmref"].append(peak)
            return seconds

        note(f"export: {args.runs} runs of each")
        export_floor, export_ours = alternate(args.runs, floor_export, llmref_export)
        small_rss = statistics.median(
            llmref(small_db, "export", "--bibtex", "-o", str(tmp / "small.bib"))[1] for _ in range(args.runs)
        )

        refs = tmp / "refs.bib"
        bib_entries = first_entries(out_bib, args.bib_entries, refs)
        parse_cmd = [sys.executable, "-c", FLOOR_PARSE, str(refs)]

        def llmref_import() -> float:
            target = tmp / "import.db"
            for path in tmp.glob("import.db*"):
                path.unlink()
            llmref(target, "init", "--empty")
            return llmref(target, "import", str(refs))[0]

        note(f"import: {args.runs} runs of each")
        import_floor, import_ours = alternate(args.runs, lambda: run(parse_cmd)[0], llmref_import)

    rows = [
        (f"export --bibtex, {entries:,} records", export_floor, export_ours, EXPORT_TARGET),
        (f"import .bib, {bib_entries:,} entries", import_floor, import_ours, IMPORT_TARGET),
    ]
    print(f"medians of {args.runs} runs, seconds, cold processes (interpreter start-up included)")
    print()
    print(f"{'figure':<34} {'floor':>8} {'llmref':>8} {'ratio':>7} {'target':>7}")
    for figure, floor, ours, target in rows:
        ratio = ours / floor
        # At --quick sizes start-up is most of either figure: the targets are for the defaults.
        verdict = "" if args.quick else "ok" if ratio <= target else "MISSED"
        print(f"{figure:<34} {floor:>8.2f} {ours:>8.2f} {ratio:>6.2f}x {target:>6.1f}x {verdict}".rstrip())
    print()
    print(f"{'export peak RSS, MiB':<34} {'records':>8} {'llmref':>8} {'floor':>8}")
    print(f"{'':<34} {small:>8,} {small_rss / 1024:>8.1f}")
    llmref_rss, floor_rss = (statistics.median(rss[side]) / 1024 for side in ("llmref", "floor"))
    print(f"{'':<34} {args.records:>8,} {llmref_rss:>8.1f} {floor_rss:>8.1f}")
    print()
    print(f"floor writes the same bytes as llmref: {'yes' if same else 'no'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
