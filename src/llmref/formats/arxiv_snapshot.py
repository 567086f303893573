"""Read arXiv's metadata snapshot (the JSON Lines dump known from Kaggle) into records, streaming.

The dump holds one JSON object a line (about 2.7 million lines, 4 GB) with the fields ``id,
submitter, authors, title, comments, journal-ref, doi, report-no, categories, license, abstract,
versions, update_date, authors_parsed``. :func:`read_snapshot` turns each line into a
:class:`~llmref.models.Record` or a :class:`SnapshotProblem` and holds one line at a time.

Mapping:

* **arxiv_id**: ``id`` normalised by :func:`llmref.ids.parse_arxiv` (old-style ``hep-th/9901001``
  kept as it is); **arxiv_version** the number of the last entry of ``versions``.
* **published** / **updated**: the dates (YYYY-MM-DD) of the first and the last version;
  **year** the year of the first version (of the id, when there are no versions).
* **title**, **abstract**: hard line wraps removed and TeX decoded for display and search
  (:func:`llmref.formats.latex.decode_tex`):
  accents in every spelling (``Bal\\'azs``, ``J{\\'e}gou``, ``{\\O}bro``) become letters, math
  loses its ``$`` but stays readable (``$O(n \\log n)$`` → ``O(n log n)``, ``$\\alpha$`` → ``α``,
  ``$x^{2}$`` → ``x^2``). ``--``, ``~`` and quotes stay as written: arXiv shows them that way, and
  in abstracts ``~`` mostly means "about", not a TeX tie. A bare ``%`` is a percent sign.
* **authors**: ``authors_parsed`` in order as "First Last Suffix", TeX decoded; the ``authors``
  string (split at commas and "and", affiliations in brackets dropped) when that is missing.
  **authors_truncated** when ``authors`` ends with "et al".
* **primary_category** the first of ``categories``, **categories** all of them.
* **comment**, **journal_ref**: as written, whitespace collapsed. **doi**: the first DOI listed,
  lower-cased. **venue**: "arXiv" when there is no journal reference (as for the arXiv API).
* **urls**: ``abs`` and ``pdf`` pages on arxiv.org. **key** is left to the store.

Filters are applied before anything costly: a line that cannot contain a wanted category is not
parsed at all, and a record is decoded only once its categories and first version passed. So
problems (a line that is not JSON, not UTF-8, or a record without id or title) are reported for
the lines the filters keep.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from llmref.formats.latex import collapse_spaces, decode_tex
from llmref.ids import arxiv_year, parse_arxiv, parse_doi
from llmref.models import Record, arxiv_pages


@dataclass(frozen=True)
class SnapshotProblem:
    """A line of the snapshot that did not become a record."""

    line: int  # 1-based
    message: str


SnapshotItem = Record | SnapshotProblem


def open_snapshot(path: Path) -> Iterator[str]:
    """The lines of a ``.jsonl`` file, or of a gzipped one (told by its first bytes), streamed."""
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    # surrogateescape: one bad byte must not end a multi-gigabyte read; read_snapshot reports
    # the line instead.
    if gzipped:
        with gzip.open(path, "rt", encoding="utf-8", errors="surrogateescape", newline="\n") as lines:
            yield from lines
    else:
        with path.open(encoding="utf-8", errors="surrogateescape", newline="\n") as lines:
            yield from lines


def read_snapshot(
    lines: Iterable[str | bytes], *, categories: Sequence[str] = (), since: int | None = None
) -> Iterator[SnapshotItem]:
    """A record or a problem for each line kept by the filters (see the module's docstring).

    ``categories``: keep a record with any category equal to one given, or starting with one
    that ends in "." (``cs.`` keeps cs.CL). ``since``: keep records first submitted that year
    or later.
    """
    # This loop and _item run for each of millions of lines: calls and lookups are kept few.
    wanted = _CategoryFilter(categories)
    may_match = wanted.may_match if wanted else None
    loads = json.loads
    for number, raw in enumerate(lines, 1):
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        # isascii() is O(1) on CPython strings, so only lines with other characters are searched.
        elif raw.isascii() or not _SURROGATE.search(raw):
            text = raw
        else:
            text = None
        if text is None:
            yield SnapshotProblem(number, "not UTF-8 text")
            continue
        # isspace(), not strip(): no copy of a 2 kB line just to see it is not blank.
        if not text or text.isspace() or (may_match is not None and not may_match(text)):
            continue
        try:
            data = loads(text)
        except ValueError as error:
            yield SnapshotProblem(number, f"not JSON: {error}")
            continue
        except RecursionError:
            yield SnapshotProblem(number, "not a paper's metadata: nested too deep")
            continue
        if not isinstance(data, dict):
            yield SnapshotProblem(number, "not a JSON object")
            continue
        item = _item(data, number, wanted, since)
        if item is not None:
            yield item


_SURROGATE = re.compile("[\udc80-\udcff]")


class _CategoryFilter:
    def __init__(self, wanted: Sequence[str]) -> None:
        names = [w.strip() for w in wanted if w.strip()]
        self.exact = frozenset(n for n in names if not n.endswith("."))
        self.prefixes = tuple(n for n in names if n.endswith("."))
        self.active = bool(names)

    def __bool__(self) -> bool:
        return self.active

    def may_match(self, line: str) -> bool:
        # A kept record has its category verbatim in the line: a substring test rules out most
        # lines of a 2.7-million-line dump without parsing them.
        return not self.active or any(n in line for n in self.exact) or any(p in line for p in self.prefixes)

    def matches(self, categories: Sequence[str]) -> bool:
        if not self.active:
            return True
        return any(c in self.exact or c.startswith(self.prefixes) for c in categories)


def _item(
    data: dict[str, Any], number: int, wanted: _CategoryFilter, since: int | None
) -> SnapshotItem | None:
    get = data.get
    categories = get("categories")
    categories = tuple(categories.split()) if isinstance(categories, str) else ()
    if wanted.active and not wanted.matches(categories):
        return None
    raw_id = get("id")
    raw_id = raw_id.strip() if isinstance(raw_id, str) else ""
    first, last = _first_and_last(get("versions"))
    published = _date(first.get("created")) if first is not None else None
    updated = _date(last.get("created")) if last is not first else published
    year = int(published[:4]) if published else (arxiv_year(raw_id) if raw_id else None)
    if since is not None and (year is None or year < since):
        return None
    if not raw_id:
        return SnapshotProblem(number, "no id")
    parsed = parse_arxiv(raw_id)
    if parsed is None:
        return SnapshotProblem(number, f"{raw_id!r} is not an arXiv id")
    title = get("title")
    title = decode_tex(title) if isinstance(title, str) else ""
    if not title:
        return SnapshotProblem(number, f"{raw_id}: no title")

    arxiv_id = parsed[0]
    authors_line = get("authors")
    if not isinstance(authors_line, str):
        authors_line = ""
    version = last.get("version") if last is not None else None
    doi = get("doi")
    # Some records list several DOIs, separated by spaces (the journal's and an erratum's).
    doi = doi.split(maxsplit=1) if isinstance(doi, str) else None
    abstract = get("abstract")
    comment = get("comments")
    journal_ref = get("journal-ref")
    journal_ref = (collapse_spaces(journal_ref) or None) if isinstance(journal_ref, str) else None
    fields = _RECORD_DEFAULTS.copy()
    fields["title"] = title
    fields["authors"] = _authors(get("authors_parsed"), authors_line)
    fields["authors_truncated"] = _ends_with_et_al(authors_line)
    fields["year"] = year
    fields["venue"] = None if journal_ref else "arXiv"
    fields["arxiv_id"] = arxiv_id
    fields["arxiv_version"] = _version(version) if isinstance(version, str) else None
    fields["doi"] = parse_doi(doi[0]) if doi else None
    fields["urls"] = arxiv_pages(arxiv_id)
    fields["abstract"] = (decode_tex(abstract) or None) if isinstance(abstract, str) else None
    fields["published"] = published
    fields["updated"] = updated
    fields["primary_category"] = categories[0] if categories else None
    fields["categories"] = categories
    fields["comment"] = (collapse_spaces(comment) or None) if isinstance(comment, str) else None
    fields["journal_ref"] = journal_ref
    return _record(fields)


# Each field of a Record with its default, in the order of the fields.
_RECORD_DEFAULTS: dict[str, Any] = vars(Record(title=""))


def _record(fields: dict[str, Any]) -> Record:
    """``Record(**fields)`` at a fifth of the cost: made without __init__, as unpickling does.

    A frozen dataclass's __init__ sets each of Record's fields with object.__setattr__, which
    took a quarter of the time of a line. __post_init__ still runs.
    """
    if len(fields) != len(_RECORD_DEFAULTS):  # a misspelt name would be an extra attribute
        raise TypeError(f"not fields of Record: {sorted(set(fields) - set(_RECORD_DEFAULTS))}")
    record = object.__new__(Record)
    object.__setattr__(record, "__dict__", fields)
    record.__post_init__()
    return record


_NO_VERSIONS: tuple[None, None] = (None, None)


def _first_and_last(versions: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The first and the last of the versions that are objects; the same one when there is one."""
    if not isinstance(versions, list) or not versions:
        return _NO_VERSIONS
    first, last = versions[0], versions[-1]
    if isinstance(first, dict) and isinstance(last, dict):
        return first, last
    kept = [v for v in versions if isinstance(v, dict)]
    return (kept[0], kept[-1]) if kept else _NO_VERSIONS


_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}


def _date(created: Any) -> str | None:
    """``Mon, 2 Apr 2007 19:18:42 GMT`` → ``2007-04-02``."""
    if not isinstance(created, str):
        return None
    # The day is cached (thousands of papers a day); strptime would be slower and locale-bound.
    return _day(created.strip().rsplit(" ", 2)[0])


@lru_cache(maxsize=4096)
def _day(text: str) -> str | None:
    parts = text.split()
    if len(parts) != 4 or parts[2] not in _MONTHS or not _number(parts[1], 2) or not _number(parts[3], 4):
        return None
    return f"{parts[3]}-{_MONTHS[parts[2]]:02d}-{int(parts[1]):02d}"


@lru_cache(maxsize=256)
def _version(value: str) -> int | None:
    text = value.strip().lower().removeprefix("v")
    return int(text) if _number(text, 4) else None


def _number(text: str, digits: int) -> bool:
    """Whether ``text`` is a number of 1 to ``digits`` ASCII digits (``²`` is a digit to Python)."""
    return 0 < len(text) <= digits and text.isascii() and text.isdigit()


# --------------------------------------------------------------------------------------------
# Authors

_ET_AL = re.compile(r"\bet\.?\s+al\b\.?\s*$", re.IGNORECASE)
_BRACKETED = re.compile(r"\([^()]*\)")
_NAME_SPLIT = re.compile(r",|\band\b")


def _ends_with_et_al(line: str) -> bool:
    # endswith first: the regular expression would be tried at every position of every line.
    return line.rstrip(" .").endswith("al") and _ET_AL.search(line) is not None


def _authors(parsed: Any, line: str) -> tuple[str, ...]:
    names = []
    named = False  # whether authors_parsed gave any name, "et al" included
    if isinstance(parsed, list):
        for item in parsed:
            # [last, first, suffix], sometimes with a fourth item: an affiliation, not a name.
            if isinstance(item, list) and len(item) >= 3:
                try:
                    name = _parsed_name(item[0], item[1], item[2])
                except TypeError:  # a part that is a list
                    continue
                if name:
                    named = True
                    if not (name.endswith(_AL) and _ET_AL.fullmatch(name)):
                        names.append(name)
    if not named:
        names = [n for n in _names_from_line(line) if n and not (n.endswith(_AL) and _ET_AL.fullmatch(n))]
    return tuple(names)


_AL = ("al", "al.")


@lru_cache(maxsize=65_536)
def _parsed_name(last: str, first: str, suffix: str) -> str:
    # Cached: a prolific author appears in hundreds of records of the dump. arXiv's parser
    # writes "C.-P." as "C. -P.", which no one else does.
    if not (isinstance(last, str) and isinstance(first, str) and isinstance(suffix, str)):
        return ""
    first = first.replace(". -", ".-")
    return decode_tex(" ".join(part for part in (first, last, suffix) if part))


def _names_from_line(line: str) -> list[str]:
    """``A. One (Univ. X), B. Two and C. Three`` → the names; affiliations can nest brackets."""
    previous = None
    while previous != line:
        previous, line = line, _BRACKETED.sub(" ", line)
    return [decode_tex(name) for name in _NAME_SPLIT.split(line) if name.strip()]
