"""What goes into the full-text index and how a user's words become an FTS5 query.

Both sides go through :func:`index_text`, so whatever is done to the indexed text (spacing out
CJK characters) is done to the query in the same way.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from ..errors import UsageError


# unicode61 keeps a run of CJK characters as one token; spacing them out lets "家族" match
# "Adapter家族" as a two-character phrase.
@functools.cache
def _cjk() -> re.Pattern[str]:
    return re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af])")


# Where a compound name starts a new part: AdaLoRA → LoRA, HuggingGPT → GPT, GPT4All → All.
_PART_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def index_text(text: str | None) -> str:
    text = text or ""
    # Most text is ASCII; skip the regex (and its compilation) for it.
    return text if text.isascii() else _cjk().sub(r" \1 ", text)


def subwords(texts: Iterable[str]) -> str:
    """The later parts of compound names, so ``lora`` also finds AdaLoRA and ``gpt`` HuggingGPT."""
    parts: list[str] = []
    for text in texts:
        if not _PART_START.search(text):
            continue  # no compound name in it, as in most titles
        for word in _WORD.findall(text):
            for match in _PART_START.finditer(word):
                part = word[match.start() :]
                if len(part) > 1:
                    parts.append(part)
    return " ".join(dict.fromkeys(parts))


def has_words(query: str) -> bool:
    """Whether ``query`` has anything to search for (``*`` or ``"`` alone do not)."""
    return any(ch.isalnum() for ch in query)


def match_expression(query: str, *, raw: bool = False, prefix: bool = True) -> str:
    """An FTS5 MATCH expression for what a user typed.

    Every whitespace-separated word becomes a quoted phrase matched as a prefix (``prefix=False``:
    as a whole word), and all must match: ``GPT-4``, ``low-rank``, ``"unbalanced``, ``AND`` or
    ``*`` are ordinary words, never syntax. ``raw`` passes FTS5 syntax through for users who want
    ``OR``, ``NEAR`` or columns.
    """
    if raw:
        if not query.strip():
            raise UsageError("The query is empty.", "Give some words to search for.")
        return index_text(query)
    phrases = []
    # Control characters (a NUL ends the string for SQLite's parser) separate words.
    printable = "".join(ch if ch.isprintable() else " " for ch in query)
    for word in printable.split():
        if not has_words(word):
            continue
        phrases.append('"' + index_text(word).replace('"', '""') + ('"*' if prefix else '"'))
    if not phrases:
        raise UsageError(
            f"Nothing to search for in {query.strip()!r}: it has no letters or digits.",
            "Search for words (llmref search low-rank), or use --raw for FTS5 syntax.",
        )
    return " ".join(phrases)
