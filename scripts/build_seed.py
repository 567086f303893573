"""Rebuild data/seed.json from data/curated-list.md with llmref's own Markdown-list reader.

    python scripts/build_seed.py           # write data/seed.json
    python scripts/build_seed.py --check   # exit 1 if data/seed.json is not what the list gives

Keys already in data/seed.json are kept for the same works, so rebuilding never moves a key.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from llmref.models import Record
from llmref.services import curated_records, seed_json

ROOT = Path(__file__).resolve().parents[1]
LIST = ROOT / "data" / "curated-list.md"
SEED = ROOT / "data" / "seed.json"


def build(list_path: Path = LIST, seed_path: Path = SEED) -> str:
    previous = []
    if seed_path.exists():
        previous = [Record.from_dict(item) for item in json.loads(seed_path.read_text(encoding="utf-8"))]
    return seed_json(curated_records(list_path.read_text(encoding="utf-8"), previous))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    text = build()
    if args.check:
        if SEED.read_text(encoding="utf-8") != text:
            print(f"{SEED} is out of date: run python scripts/build_seed.py", file=sys.stderr)
            return 1
        print(f"{SEED} is up to date ({text.count(chr(10) + '  {')} records)")
        return 0
    SEED.write_text(text, encoding="utf-8")
    print(f"wrote {SEED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
