"""Small text normalisations shared by keys, search and matching."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

#: Lower-case particles that belong to a family name ("Oskar van der Wal", "Yasmin bin Ali").
NAME_PARTICLES = frozenset("van von der den de del della di da dos das du le la ter ten bin al".split())

# Letters that NFKD does not decompose into a base letter plus accents.
_LATIN_EXTRA = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d"}
)


def strip_accents(text: str) -> str:
    """``Rücklé`` → ``Ruckle``; letters of other scripts are kept as they are."""
    if text.isascii():
        return text  # most names and titles: nothing to do, and this runs for every one
    decomposed = unicodedata.normalize("NFKD", text.translate(_LATIN_EXTRA))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def ascii_fold(text: str) -> str:
    """Accents dropped and anything still outside ASCII removed (for citation keys)."""
    return strip_accents(text).encode("ascii", "ignore").decode("ascii")


def fold(text: str) -> str:
    """Lower case, no accents, single spaces: how names are compared (``muller`` finds Müller)."""
    return " ".join(strip_accents(text).casefold().split())


# Runs of anything but letters and digits (``\W`` is exactly what str.isalnum rejects, plus "_").
_NOT_WORD = re.compile(r"[\W_]+")


def normalise_title(title: str) -> str:
    """A title reduced to its words, for telling whether two titles name the same work."""
    return _NOT_WORD.sub(" ", fold(title)).strip()


def merge_names(current: tuple[str, ...], extra: Iterable[str]) -> tuple[str, ...]:
    """``current`` followed by the names of ``extra`` it lacks (compared case-insensitively)."""
    out = list(current)
    for name in extra:
        name = name.strip()
        if name and name.casefold() not in {c.casefold() for c in out}:
            out.append(name)
    return tuple(out)


def add_paragraph(text: str, paragraph: str) -> str:
    """``text`` with ``paragraph`` appended after a blank line."""
    paragraph = paragraph.strip("\n")
    if not paragraph.strip():
        return text
    return f"{text.rstrip()}\n\n{paragraph}" if text.strip() else paragraph
