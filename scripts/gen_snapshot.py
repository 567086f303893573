"""Write a synthetic arXiv metadata snapshot: JSON Lines shaped like arXiv's Kaggle dump.

For benchmarks and tests of `llmref.formats.arxiv_snapshot`: the real dump is 4 GB and third-party.
Output is deterministic for the same N and seed (same bytes, gzip included). Fields follow the
real file: TeX accents in names (`Bal\\'azs`, `{\\O}bro`), math in some titles and abstracts,
hard-wrapped titles and abstracts, 1-5 versions with increasing dates, a category mix weighted
toward cs.CL / cs.LG, some journal-refs and DOIs, and authors_parsed matching authors.

    python scripts/gen_snapshot.py 100000 -o /tmp/snapshot.jsonl.gz --seed 1
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import functools
import gzip
import itertools
import random
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from json.encoder import encode_basestring_ascii as _encode_string
from pathlib import Path
from typing import IO, TypeVar

T = TypeVar("T")

# Word weights give searches realistic hit counts: "model" is everywhere, "lora" is in a few percent.
_COMMON = (
    "the of and a to in we is for that on with this by as are an our be from which can it show "
    "results using method approach based paper these their between two new than more also such"
).split()
_DOMAIN = {
    "model": 30, "models": 25, "language": 20, "learning": 20, "training": 14, "data": 14,
    "performance": 10, "transformer": 1.5, "attention": 1.5, "neural": 8, "network": 8, "large": 10,
    "task": 8, "tasks": 8, "fine-tuning": 1, "parameters": 4, "rank": 0.5, "low-rank": 0.2, "lora": 0.08,
    "adapter": 0.1, "adapters": 0.08, "prompt": 1, "retrieval": 1.5, "reasoning": 2, "benchmark": 3,
    "evaluation": 4, "inference": 3, "efficient": 4, "pretrained": 2, "tokens": 2, "embedding": 2,
    "graph": 4, "quantum": 4, "field": 4, "energy": 4, "spectrum": 2, "algebra": 2, "manifold": 2,
    "theorem": 3, "proof": 2, "galaxies": 2, "magnetic": 2, "scattering": 2, "lattice": 2,
    "distribution": 4, "optimization": 4, "gradient": 3, "convergence": 2, "image": 4, "vision": 3,
    "speech": 2, "translation": 2, "dialogue": 1, "alignment": 2, "instruction": 1, "agents": 1,
}  # fmt: skip
_WORDS = _COMMON + list(_DOMAIN)
_WEIGHTS = [12] * len(_COMMON) + list(_DOMAIN.values())
_TITLE_WORDS = list(_DOMAIN)

_FIRST = (
    "Edward Yelong Phillip Zeyuan Anna Wei Li Xin Maria Thomas Priya Ahmed Sofia Jun Kevin Laura "
    "Hiroshi Olga Daniel Ming C. E. L. P. M."
).split()
_LAST = (
    "Hu Shen Wallis Allen-Zhu Li Wang Chen Zhang Smith Garcia Kumar Nguyen Rossi Tanaka Ivanova "
    "Brown Kim Lopez Schmidt Patel"
).split() + ["van der Tak"]
# Names written with TeX accents, as the dump keeps them; a few percent of all names.
_TEX_FIRST = ("Herv\\'e", 'J\\"urgen', "Fran\\c{c}ois", "{\\L}ukasz")
_TEX_LAST = ("Bal\\'azs", 'M\\"uller', "{\\O}bro", "J{\\'e}gou", 'Sch{\\"o}lkopf')
_SUFFIXES = ("Jr.", "II", "III")

# (primary, weight, categories it is cross-listed with)
_CATEGORIES = (
    ("cs.CL", 18, ("cs.AI", "cs.LG", "cs.IR")),
    ("cs.LG", 20, ("stat.ML", "cs.AI", "cs.CL", "math.OC")),
    ("cs.AI", 6, ("cs.LG", "cs.CL", "cs.MA")),
    ("cs.CV", 14, ("cs.LG", "cs.AI", "eess.IV")),
    ("stat.ML", 4, ("cs.LG", "math.ST")),
    ("math.CO", 4, ("cs.DM",)),
    ("math.AP", 3, ("math-ph", "math.MP")),
    ("math.PR", 3, ("math.ST",)),
    ("hep-th", 6, ("gr-qc", "hep-ph")),
    ("hep-ph", 5, ("hep-ex",)),
    ("quant-ph", 7, ("cs.ET", "cond-mat.str-el")),
    ("astro-ph.GA", 4, ("astro-ph.CO",)),
    ("cond-mat.mes-hall", 4, ("cond-mat.mtrl-sci",)),
    ("physics.optics", 2, ("physics.app-ph",)),
)
_PRIMARIES = [c[0] for c in _CATEGORIES]
_CATEGORY_WEIGHTS = [c[1] for c in _CATEGORIES]
_CROSS = {c[0]: c[2] for c in _CATEGORIES}

_LICENSES = (  # as JSON
    "null",
    '"http://arxiv.org/licenses/nonexclusive-distrib/1.0/"',
    '"http://creativecommons.org/licenses/by/4.0/"',
    '"http://creativecommons.org/licenses/by-nc-sa/4.0/"',
)
_VENUES = ("Proceedings of ACL 2023", "NeurIPS 2022", "Phys. Rev. D 76, 013009 (2007)", "JHEP 05 (2019) 034")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class _Random:
    """random.Random's draws without its per-call overhead (randint costs ~1 µs, this ~0.1 µs)."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed).random

    def int(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))

    def pick(self, items: Sequence[T]) -> T:
        return items[int(self.random() * len(items))]

    def weighted(self, items: Sequence[T], cumulative: Sequence[float]) -> T:
        return items[bisect.bisect(cumulative, self.random() * cumulative[-1])]

    def chance(self, p: float) -> bool:
        return self.random() < p


def _cumulative(weights: Iterable[float]) -> list[float]:
    return list(itertools.accumulate(weights))


_MATH = (
    "$O(n \\log n)$",
    "$k={n}$",
    "$\\epsilon = 0.{n}$",
    "$O(n^{{{m}}})$",
    "$\\mathbb{{R}}^{{{n}}}$",
    "$\\alpha_{{{n}}}$",
    "$\\ell_1$",
    "$\\tilde{{O}}(\\sqrt{{T}})$",
    "$r \\ll {n}$",
    "{n}\\%",
)
_AUTHOR_COUNTS, _AUTHOR_CUM = (1, 2, 3, 4, 6, 9), _cumulative((2, 4, 5, 4, 3, 1))
_VERSION_COUNTS, _VERSION_CUM = (1, 2, 3, 4, 5), _cumulative((55, 30, 10, 3, 2))
_YEARS, _YEAR_CUM = range(2008, 2026), _cumulative(range(1, 19))  # arXiv grows every year
_PRIMARY_CUM = _cumulative(_CATEGORY_WEIGHTS)


def _topics(rng: random.Random, n: int) -> list[str]:
    """The stream titles are cut from: weighted like the abstracts' words (so "lora" is in a few
    titles in a thousand) and, as in real titles, no word twice within a title's length."""
    weights = [_DOMAIN[w] for w in _TITLE_WORDS]
    out: list[str] = []
    while len(out) < n:
        for word in rng.choices(_TITLE_WORDS, weights, k=n):
            word = word.capitalize()
            if word not in out[-12:]:
                out.append(word)
    return out[:n]


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = _Random(seed)
        words = random.Random(seed).choices(_WORDS, _WEIGHTS, k=300_000)
        # Abstracts are slices of one long, pre-wrapped word stream (and titles of a stream of
        # topic words): two draws per abstract instead of two hundred keeps this above 50k lines/s.
        self.lines = _wrap(words, 78, "\n").split("\n")
        self.topics = _topics(random.Random(seed + 1), 20_000)
        self.months: dict[str, int] = {}
        self.last_day = 0  # date ordinal of the latest version made
        # Author lists come from a pool of groups, as real groups publish again and again; a fresh
        # list per record would halve the speed.
        self.people = [self._people() for _ in range(5000)]
        # Pools for the fields that repeat anyway, for the same reason.
        self.categories = [self._categories() for _ in range(1000)]
        self.notes = [self._notes() for _ in range(1000)]

    def line(self) -> str:
        """One JSON line, built as text: json.dumps of a dict costs as much as all the rest."""
        rng = self.rng
        year, month = self._month()
        categories = rng.pick(self.categories)
        versions = self._versions(year, month)
        people, parsed = rng.pick(self.people)
        updated = _iso_day(self.last_day + rng.int(0, 30))
        return (
            f'{{"id":"{self._id(year, month, categories)}",{people},"title":{_q(self._title())},'
            f'{rng.pick(self.notes)},"doi":{self._doi()},"categories":"{categories}",'
            f'"license":{rng.pick(_LICENSES)},"abstract":{self._abstract()},"versions":{versions},'
            f'"update_date":"{updated}","authors_parsed":{parsed}}}\n'
        )

    def _people(self) -> tuple[str, str]:
        """The submitter and authors fields, and the matching authors_parsed, as JSON text."""
        rng = self.rng
        authors = [self._author() for _ in range(rng.weighted(_AUTHOR_COUNTS, _AUTHOR_CUM))]
        parsed = ",".join(f"[{_q(last)},{_q(first)},{_q(suffix)}]" for first, last, suffix in authors)
        fields = f'"submitter":{_q(_display(authors[0]))},"authors":{_q(_authors_line(authors))}'
        return fields, f"[{parsed}]"

    def _month(self) -> tuple[int, int]:
        # A few percent are old-style ids, from before April 2007.
        year = self.rng.int(1995, 2006) if self.rng.chance(0.05) else self.rng.weighted(_YEARS, _YEAR_CUM)
        return year, self.rng.int(1, 12)

    def _id(self, year: int, month: int, categories: str) -> str:
        yymm = f"{year % 100:02d}{month:02d}"
        if year < 2007:
            # Old-style ids are numbered per archive: the primary category without its subject.
            archive = categories.split(".", 1)[0].split(" ", 1)[0]
            number = self.months[archive + yymm] = self.months.get(archive + yymm, 0) + 1
            return f"{archive}/{yymm}{number:03d}"
        number = self.months[yymm] = self.months.get(yymm, 0) + 1
        return f"{yymm}.{number:05d}" if year >= 2015 else f"{yymm}.{number:04d}"

    def _versions(self, year: int, month: int) -> str:
        rng = self.rng
        day = _month_start(year, month) + rng.int(0, 27)
        out = []
        for number in range(1, rng.weighted(_VERSION_COUNTS, _VERSION_CUM) + 1):
            if number > 1:
                day += rng.int(1, 200)
            minutes, seconds = divmod(rng.int(0, 86_399), 60)
            created = f"{_rfc822_day(day)} {minutes // 60:02d}:{minutes % 60:02d}:{seconds:02d} GMT"
            out.append(f'{{"version":"v{number}","created":"{created}"}}')
        self.last_day = day
        return "[" + ",".join(out) + "]"

    def _author(self) -> tuple[str, str, str]:
        rng = self.rng
        suffix = rng.pick(_SUFFIXES) if rng.chance(0.02) else ""
        first = rng.pick(_TEX_FIRST) if rng.chance(0.02) else rng.pick(_FIRST)
        return first, rng.pick(_TEX_LAST) if rng.chance(0.03) else rng.pick(_LAST), suffix

    def _title(self) -> str:
        rng = self.rng
        size = rng.int(4, 11)
        start = rng.int(0, len(self.topics) - size)
        words = self.topics[start : start + size]
        if rng.chance(0.04):
            words.insert(rng.int(0, size), self._math())
        if rng.chance(0.3):
            words[rng.int(0, size - 1)] += ":"
        if len(words) > 7:  # the dump wraps titles longer than a line
            words[6] += "\n "
        return " ".join(words)

    def _abstract(self) -> str:
        """The abstract as a JSON string: the pool holds plain words, so only math needs escaping."""
        rng = self.rng
        size = rng.int(12, 20)  # lines of ~12 words: 150-250 words
        start = rng.int(0, len(self.lines) - size)
        lines = self.lines[start : start + size]
        lines[0] = lines[0][:1].upper() + lines[0][1:]
        if rng.chance(0.15):
            for _ in range(rng.int(1, 3)):
                lines[rng.int(0, size - 1)] += " " + self._math().replace("\\", "\\\\")
        # The real dump starts abstracts with two spaces and wraps them at 80 columns.
        return '"  ' + "\\n".join(lines) + '.\\n"'

    def _math(self) -> str:
        # The numbers vary so that a decoder's cache sees realistic misses.
        n = self.rng.int(2, 999)
        return self.rng.pick(_MATH).format(n=n, m=n % 9 + 2)

    def _categories(self) -> str:
        primary = self.rng.weighted(_PRIMARIES, _PRIMARY_CUM)
        cross = _CROSS[primary][: self.rng.int(0, len(_CROSS[primary]))]
        return " ".join([primary, *cross])

    def _notes(self) -> str:
        """The comments, journal-ref and report-no fields as JSON text."""
        rng = self.rng
        comments = f"{rng.int(4, 40)} pages, {rng.int(1, 15)} figures"
        if rng.chance(0.2):
            comments += "; accepted at ACL 2024"
        journal = rng.pick(_VENUES) if rng.chance(0.15) else None
        report = f"REPORT-{rng.int(1, 99)}" if rng.chance(0.03) else None
        return (
            f'"comments":{_q_or_null(comments if rng.chance(0.7) else None)},'
            f'"journal-ref":{_q_or_null(journal)},"report-no":{_q_or_null(report)}'
        )

    def _doi(self) -> str:
        rng = self.rng
        if not rng.chance(0.2):
            return "null"
        doi = f"10.{rng.int(1000, 9999)}/PhysRevD.{rng.int(10, 99)}.{rng.int(1, 99999):06d}"
        # A few records list two DOIs separated by a space, as the real dump does.
        if rng.chance(0.02):
            return f'"{doi} 10.1103/PhysRevD.{rng.int(10, 99)}.{rng.int(1, 9999)}"'
        return f'"{doi}"'


def _wrap(words: list[str], width: int, newline: str) -> str:
    lines: list[str] = []
    line: list[str] = []
    used = 0
    for word in words:
        if used + len(word) > width and line:
            lines.append(" ".join(line))
            line, used = [], 0
        line.append(word)
        used += len(word) + 1
    lines.append(" ".join(line))
    return newline.join(lines)


def _display(author: tuple[str, str, str]) -> str:
    return " ".join(part for part in author if part)


def _authors_line(authors: list[tuple[str, str, str]]) -> str:
    names = [_display(a) for a in authors]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# Days as ordinals, their spellings cached: date objects cost more than the rest of a line.
@functools.cache
def _month_start(year: int, month: int) -> int:
    return dt.date(year, month, 1).toordinal()


@functools.cache
def _iso_day(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


@functools.cache
def _rfc822_day(ordinal: int) -> str:
    """``Mon, 2 Apr 2007`` as arXiv writes it (strftime would follow the locale)."""
    day = dt.date.fromordinal(ordinal)
    return f"{_DAYS[day.weekday()]}, {day.day} {_MONTHS[day.month - 1]} {day.year}"


def _q(text: str) -> str:
    # ensure_ascii, as the real dump writes "Bal\u00e1zs".
    return _encode_string(text)


def _q_or_null(text: str | None) -> str:
    return "null" if text is None else _encode_string(text)


def generate(count: int, seed: int = 0) -> Iterator[str]:
    """``count`` JSON lines (with their newline), the same for the same seed."""
    generator = _Generator(seed)
    for _ in range(count):
        yield generator.line()


def _open(path: Path | None) -> IO[bytes]:
    if path is None:
        return sys.stdout.buffer
    if path.name.endswith(".gz"):
        # mtime=0 and no file name in the header: the same seed gives the same bytes. Level 1:
        # level 6 triples the run time and the file is a throwaway.
        return gzip.GzipFile(filename="", mode="wb", fileobj=path.open("wb"), mtime=0, compresslevel=1)
    return path.open("wb")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of records")
    parser.add_argument(
        "-o", "--output", type=Path, help="file to write (.jsonl or .jsonl.gz); default stdout"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    out = _open(args.output)
    try:
        lines = generate(args.count, args.seed)
        # Writing in batches: a gzip write per line costs as much as making the line.
        while batch := "".join(itertools.islice(lines, 1000)):
            out.write(batch.encode())
    except BrokenPipeError:  # `gen_snapshot.py 1000 | head`
        return 0
    finally:
        if out is not sys.stdout.buffer:
            out.close()
            fileobj = getattr(out, "fileobj", None)
            if fileobj is not None:
                fileobj.close()
    elapsed = time.perf_counter() - started
    print(f"{args.count} lines in {elapsed:.2f} s ({args.count / elapsed:,.0f} lines/s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
