"""Citation keys: readable (``hu2021lora``) and stable.

A key is made once, when a record first enters a library, from the first author's family name,
the year and the first significant word of the title. It is stored and never recomputed: fixing a
typo in a title must not change the key a LaTeX document cites.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from .models import Record
from .text import NAME_PARTICLES, ascii_fold

# Short words that never make a readable key; "towards" and "beyond" stay, as Google Scholar does.
_SKIP_WORDS = frozenset("a an the on of in for to and with at by from as is are".split())
# What BibTeX, biber and pandoc all accept in a key, including the URLs and DOIs people use as
# keys (a pandoc citation key may hold internal punctuation such as : . / + -).
_KEY_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_:.+/-]*$")


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def sort_key(key: str) -> tuple[str, str]:
    """Where a key sorts: case ignored, as BibTeX tools ignore it and as the library's key index
    (SQLite's NOCASE: ASCII letters only) orders keys; then, for keys that differ only in case,
    as written."""
    return key.translate(_ASCII_LOWER), key


#: Longest family name or title word a key takes, so a pathological title cannot make a huge key.
_PART_MAX = 30


_NOT_SLUG = re.compile(r"[^a-z0-9]")


@lru_cache(maxsize=65_536)
def _slug(text: str) -> str:
    # Cached: family names and titles' first words recur across a large load.
    return _NOT_SLUG.sub("", ascii_fold(text).lower())[:_PART_MAX]


def family_name(author: str) -> str:
    """The family part of a "First Last" name, with its particles ("van der Wal")."""
    parts = author.split()
    if not parts:
        return ""
    i = len(parts) - 1
    while i > 0 and parts[i - 1] in NAME_PARTICLES:
        i -= 1
    return " ".join(parts[i:])


def cited_authors(record: Record) -> str:
    """The authors as a citation names them: "Lester", "Li and Liang", "Hu et al."."""
    names = [family_name(a) for a in record.authors]
    if len(names) > 2 or (names and record.authors_truncated):
        return f"{names[0]} et al."
    return " and ".join(names)


def _first_word(title: str) -> str:
    """The first word of a title that makes a key (not "a", "the", "on"…), slugged."""
    for word in title.split():
        slug = _slug(word)
        if slug and slug not in _SKIP_WORDS:
            return slug
    return ""


def base_key(record: Record) -> str:
    """The key a record would get in an empty library."""
    year = str(record.year) if record.year else ""
    family = _slug(family_name(record.authors[0])) if record.authors else ""
    first_word = _first_word(record.title)
    # Without an author the title's first word leads: "chatglm", "peft".
    return family + year + first_word if family else (first_word or "ref") + year


def suffix(n: int) -> str:
    """The ``n``-th suffix of a key that is taken: 1 → b … 25 → z, then 26 → 2, 27 → 3…"""
    return chr(ord("a") + n) if n <= 25 else str(n - 24)


def suffix_number_sql(key: str, base: str) -> str:
    """SQL for the number :func:`suffix` gives the rest of ``key`` after ``base`` (columns or
    values that begin alike), or NULL when the rest is not a suffix."""
    rest = f"substr({key}, length({base}) + 1)"
    return (
        f"CASE WHEN length({rest}) = 1 AND lower({rest}) BETWEEN 'b' AND 'z' THEN unicode(lower({rest})) - 97"
        f" WHEN length({rest}) BETWEEN 1 AND 9 AND {rest} GLOB '[1-9]*' AND {rest} NOT GLOB '*[^0-9]*'"
        f" AND CAST({rest} AS INTEGER) >= 2 THEN CAST({rest} AS INTEGER) + 24 END"
    )


def suffixed(key: str) -> list[tuple[str, int]]:
    """The ways ``key`` reads as a base plus a suffix: (base, the suffix's number) for each."""
    ways = []
    if len(key) > 1 and "b" <= key[-1].lower() <= "z":
        ways.append((key[:-1], ord(key[-1].lower()) - 97))
    digits = len(key) - len(key.rstrip("0123456789"))
    if 0 < digits <= 9 and digits < len(key) and key[-digits] != "0" and int(key[-digits:]) >= 2:
        ways.append((key[:-digits], int(key[-digits:]) + 24))
    return ways


def unique_key(base: str, taken: Callable[[str], bool]) -> str:
    """``base`` if free, else the first free ``base`` + b, c, … — only the newcomer gets a suffix."""
    if not taken(base):
        return base
    n = 1
    while taken(base + suffix(n)):
        n += 1
    return base + suffix(n)


def is_valid_key(key: str) -> bool:
    """Keys that BibTeX, biber and pandoc all accept."""
    return bool(_KEY_RE.match(key))


def assign_keys(records: Iterable[Record], taken: Iterable[str] = ()) -> list[Record]:
    """Give every record without a key a unique one, in order; records with keys keep them."""
    used = set(taken)
    out = []
    pending = []
    for record in records:
        if record.key:
            used.add(record.key)
        pending.append(record)
    for record in pending:
        if not record.key:
            record = record.with_(key=unique_key(base_key(record), used.__contains__))
            used.add(record.key)
        out.append(record)
    return out
