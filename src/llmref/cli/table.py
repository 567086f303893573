"""A lean text table for result lists, the output of ``llmref search`` and ``llmref list``.

rich renders everything else, but importing it costs ~30 ms, and ``llmref search`` has to start
in a blink (scripts/bench.py). This covers what a result list needs and no more: columns that
wrap on words, wide (CJK) characters counted as two cells, colour only on a terminal.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

GAP = "   "
_HYPHENATED = re.compile(r"(?<=\w-)(?=\w)")
MIN_FLEXIBLE = 16
_STYLES = {"bold": "1", "dim": "2", "cyan": "36", "green": "32"}


@dataclass(frozen=True)
class Column:
    header: str
    style: str = ""
    wrap: bool = True
    max_width: int | None = None
    #: The column that takes the width the others leave.
    flexible: bool = False
    align_right: bool = False


def cell_width(text: str) -> int:
    return sum(
        2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1
        for ch in text
    )


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap by display width, also after hyphens; a word longer than a line is cut."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            for i, piece in enumerate(_HYPHENATED.split(word)):
                glue = "" if i else " "
                candidate = f"{line}{glue}{piece}" if line else piece
                if cell_width(candidate) <= width:
                    line = candidate
                    continue
                if line:
                    lines.append(line)
                *full, line = _cut(piece, width)
                lines += full
        lines.append(line)
    return lines


def _cut(word: str, width: int) -> list[str]:
    """``word`` in lines of at most ``width`` cells (a character wider than that alone), in one
    pass: a title that is one 50,000-character word is cut as fast as one of words."""
    pieces, start, used = [], 0, 0
    for i, ch in enumerate(word):
        size = cell_width(ch)
        if used + size > width and i > start:
            pieces.append(word[start:i])
            start, used = i, 0
        used += size
    pieces.append(word[start:])
    return pieces


def use_colour(stream: object = None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(os.environ.get("FORCE_COLOR")) or bool(getattr(stream, "isatty", lambda: False)())


def terminal_width() -> int:
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    return shutil.get_terminal_size((100, 24)).columns


def render(columns: Sequence[Column], rows: Sequence[Sequence[str]], *, width: int, colour: bool) -> str:
    widths_ = widths(columns, rows, width)
    out = [_line([c.header for c in columns], columns, widths_, colour, header=True)]
    out.append("─" * (sum(widths_) + len(GAP) * (len(columns) - 1)))
    for row in rows:
        cells = [
            wrap(text, w) if c.wrap else [text] for c, text, w in zip(columns, row, widths_, strict=True)
        ]
        for i in range(max(len(c) for c in cells)):
            out.append(_line([c[i] if i < len(c) else "" for c in cells], columns, widths_, colour))
    return "\n".join(line.rstrip() for line in out) + "\n"


def widths(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int) -> list[int]:
    natural = [
        max([cell_width(c.header), *(max(map(cell_width, row[i].split("\n"))) for row in rows)])
        for i, c in enumerate(columns)
    ]
    sizes = [min(n, c.max_width) if c.max_width else n for n, c in zip(natural, columns, strict=True)]
    room = width - len(GAP) * (len(columns) - 1)
    for i, c in enumerate(columns):
        if c.flexible:
            others = sum(w for j, w in enumerate(sizes) if j != i)
            sizes[i] = max(min(natural[i], room - others), MIN_FLEXIBLE)
    return sizes


def _line(
    cells: Sequence[str], columns: Sequence[Column], widths: Sequence[int], colour: bool, header: bool = False
) -> str:
    parts = []
    for text, column, w in zip(cells, columns, widths, strict=True):
        pad = " " * max(w - cell_width(text), 0)
        padded = pad + text if column.align_right else text + pad
        style = "bold" if header else column.style
        if colour and style and text:
            codes = ";".join(_STYLES[s] for s in style.split())
            padded = padded.replace(text, f"\x1b[{codes}m{text}\x1b[0m", 1)
        parts.append(padded)
    return GAP.join(parts)
