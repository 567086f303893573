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
* **title**, **abstract**: hard line wraps removed and TeX decoded for display and search:
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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from llmref.ids import arxiv_year, parse_arxiv, parse_doi
from llmref.models import Record


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
    wanted = _CategoryFilter(categories)
    for number, raw in enumerate(lines, 1):
        text = _text_of(raw)
        if text is None:
            yield SnapshotProblem(number, "not UTF-8 text")
            continue
        # isspace(), not strip(): no copy of a 2 kB line just to see it is not blank.
        if not text or text.isspace() or not wanted.may_match(text):
            continue
        try:
            data = json.loads(text)
        except ValueError as error:
            yield SnapshotProblem(number, f"not JSON: {error}")
            continue
        if not isinstance(data, dict):
            yield SnapshotProblem(number, "not a JSON object")
            continue
        item = _item(data, number, wanted, since)
        if item is not None:
            yield item


_SURROGATE = re.compile("[\udc80-\udcff]")


def _text_of(raw: str | bytes) -> str | None:
    if isinstance(raw, bytes):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    # isascii() is O(1) on CPython strings, so only lines with other characters are searched.
    if not raw.isascii() and _SURROGATE.search(raw):
        return None
    return raw


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
    categories = tuple(_string(data.get("categories")).split())
    if not wanted.matches(categories):
        return None
    raw_id = _string(data.get("id")).strip()
    versions = data.get("versions")
    versions = [v for v in versions if isinstance(v, dict)] if isinstance(versions, list) else []
    published = _date(versions[0].get("created")) if versions else None
    updated = _date(versions[-1].get("created")) if len(versions) > 1 else published
    year = int(published[:4]) if published else (arxiv_year(raw_id) if raw_id else None)
    if since is not None and (year is None or year < since):
        return None
    if not raw_id:
        return SnapshotProblem(number, "no id")
    parsed = parse_arxiv(raw_id)
    if parsed is None:
        return SnapshotProblem(number, f"{raw_id!r} is not an arXiv id")
    title = decode_tex(_string(data.get("title")))
    if not title:
        return SnapshotProblem(number, f"{raw_id}: no title")
    return _record(data, parsed[0], categories, versions, published, updated, year, title)


def _record(
    data: dict[str, Any],
    arxiv_id: str,
    categories: tuple[str, ...],
    versions: list[dict[str, Any]],
    published: str | None,
    updated: str | None,
    year: int | None,
    title: str,
) -> Record:
    authors_line = _string(data.get("authors"))
    journal_ref = _squash(data.get("journal-ref"))
    return Record(
        title=title,
        authors=_authors(data.get("authors_parsed"), authors_line),
        authors_truncated=_ends_with_et_al(authors_line),
        year=year,
        venue=None if journal_ref else "arXiv",
        arxiv_id=arxiv_id,
        arxiv_version=_version(versions[-1].get("version")) if versions else None,
        doi=_doi(data.get("doi")),
        urls=(("abs", f"https://arxiv.org/abs/{arxiv_id}"), ("pdf", f"https://arxiv.org/pdf/{arxiv_id}")),
        abstract=decode_tex(_string(data.get("abstract"))) or None,
        published=published,
        updated=updated,
        primary_category=categories[0] if categories else None,
        categories=categories,
        comment=_squash(data.get("comments")),
        journal_ref=journal_ref,
    )


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _squash(value: Any) -> str | None:
    return (collapse_spaces(value) or None) if isinstance(value, str) else None


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
    if len(parts) != 4 or parts[2] not in _MONTHS or not parts[1].isdigit() or not parts[3].isdigit():
        return None
    return f"{parts[3]}-{_MONTHS[parts[2]]:02d}-{int(parts[1]):02d}"


def _version(value: Any) -> int | None:
    text = _string(value).strip().lower().removeprefix("v")
    return int(text) if text.isdigit() else None


def _doi(value: Any) -> str | None:
    # Some records list several DOIs, separated by spaces (the journal's and an erratum's).
    first = next(iter(_string(value).split()), "")
    return parse_doi(first) if first else None


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
    if isinstance(parsed, list):
        for item in parsed:
            # [last, first, suffix], sometimes with a fourth item: an affiliation, not a name.
            if isinstance(item, list):
                # try, not contextlib.suppress: this runs for every author of millions of records.
                try:  # noqa: SIM105
                    names.append(_parsed_name(*item[:3]))
                except TypeError:  # fewer than three parts, or a part that is a list
                    pass
    if not any(names):
        names = _names_from_line(line)
    return tuple(n for n in names if n and not (n.endswith(("al", "al.")) and _ET_AL.fullmatch(n)))


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


# --------------------------------------------------------------------------------------------
# TeX


# A piece of TeX that can be decoded on its own: math ($…$, $$…$$, \[…\], \(…\)), a macro with
# its arguments (braces nest up to three deep), an accent with its letter, an escaped character,
# or a braced group.
_GROUP = r"\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}"
_ISLAND = re.compile(
    rf"""
    \$\$[^$]+\$\$ | \$[^$]+\$ | \\\[.*?\\\] | \\\(.*?\\\)
  | \\[a-zA-Z]+\*?(?:\s*\[[^\]{{}}]*\])?(?:\s*{_GROUP})*
  | \\['"^`~=.](?:\s*{_GROUP}|\s*\\[ij](?![a-zA-Z])|\s*[a-zA-Z])?
  | \\[^a-zA-Z\s]
  | {_GROUP}
    """,
    re.VERBOSE,
)
# In metadata these are plain characters, but to TeX they start a comment, align or take an
# argument; escaped before the parser sees them.
_TEX_PLAIN = re.compile(r"(?<!\\)([%&#])")


def decode_tex(value: str) -> str:
    """arXiv's TeX-flavoured metadata → display text, whitespace collapsed.

    The LaTeX parser (pylatexenc, ~3 ms for an abstract) is only run on the pieces of TeX, each
    cached: plain text between them is kept as it is. When the pieces cannot be told apart
    (unbalanced braces, a lone ``$``, an environment), the whole text is parsed.
    """
    text = collapse_spaces(value)
    if not _has_tex(text):
        return text
    out = []
    end = 0
    for island in _ISLAND.finditer(text):
        plain = text[end : island.start()]
        if _has_tex(plain) or "\\begin" in island[0]:
            return _decode_whole(text)
        out.append(plain)
        out.append(_decode_island(island[0]))
        end = island.end()
    rest = text[end:]
    if _has_tex(rest):
        return _decode_whole(text)
    out.append(rest)
    # Pieces and plain text are collapsed already: runs of spaces can only be where they meet.
    joined = "".join(out).strip()
    return " ".join(joined.split()) if "  " in joined else joined


def _has_tex(text: str) -> bool:
    # Four substring tests take 1/50 of the time of one regular-expression search here.
    return "\\" in text or "$" in text or "{" in text or "}" in text


def collapse_spaces(value: str) -> str:
    """``" ".join(value.split())``, five times faster on the usual ASCII text wrapped at newlines."""
    # Wrapped titles ("\n  ") take the slow path below; they are short.
    text = value.strip().replace("\n", " ")
    if text.isascii() and not _has_odd_space(text):
        return text
    return " ".join(text.split())


def _has_odd_space(text: str) -> bool:
    """A double space, or an ASCII character other than space and newline that str.split() takes
    for whitespace (one substring test each: a character class in a regex is 20x slower)."""
    return (
        "  " in text
        or "\t" in text
        or "\r" in text
        or "\x0b" in text
        or "\x0c" in text
        or "\x1c" in text
        or "\x1d" in text
        or "\x1e" in text
        or "\x1f" in text
    )


@lru_cache(maxsize=16_384)
def _decode_island(island: str) -> str:
    quick = _quick_math(island)
    text = quick if quick is not None else _parse(island)
    # Collapsed here, once, keeping a space at either end (it separates words).
    inner = " ".join(text.split())
    return f"{' ' if text[:1].isspace() else ''}{inner}{' ' if text[-1:].isspace() and inner else ''}"


@lru_cache(maxsize=4096)
def _parse(tex: str) -> str:
    return _latex_to_text()(tex)


# A macro, with the one plain {argument} that may follow it, and the spaces before a next macro,
# which the parser drops ($n \to \infty$ is "n→∞"), as it does after a group ($x^{2} \le 1$).
_MACRO = re.compile(r"\\([a-zA-Z]+)(\s*\{[^{}\\$]*\})?(?:\s+(?=\\))?")
_GROUP_SPACE = re.compile(r"\}\s+(?=\\)")
# Escaped characters and TeX's other special characters are left to the parser.
_MATH_UNSAFE = re.compile(r"[%&#~]|\\[^a-zA-Z]")


def _quick_math(island: str) -> str | None:
    r"""What the parser makes of simple math, at a tenth of its cost (~0.1 ms a call); else ``None``.

    Simple: symbols, macros without arguments (``\log``, ``\alpha``) and macros with one plain
    argument (``\mathbb{R}``, decoded alone and cached: they recur with varying math around).
    Braces that only group (``x^{2}``) are dropped, as the parser does.
    """
    body = island.strip("$")
    if not island.startswith("$") or _MATH_UNSAFE.search(body):
        return None
    symbols, one_argument = _math_macros()

    def replace(macro: re.Match[str]) -> str:
        name, argument = macro[1], macro[2]
        if argument is None:
            return symbols.get(name, "\\")
        return _parse(f"$\\{name}{argument}$") if name in one_argument else "\\"

    body = _MACRO.sub(replace, _GROUP_SPACE.sub("}", body))
    return None if "\\" in body else body.replace("{", "").replace("}", "")


def _decode_whole(text: str) -> str:
    return collapse_spaces(_latex_to_text()(text))


@cache
def _math_macros() -> tuple[dict[str, str], frozenset[str]]:
    """pylatexenc's text for each macro without arguments (\\alpha → α, \\log → log), and the
    names of those taking exactly one mandatory argument (\\mathbb, \\sqrt, \\tilde)."""
    from pylatexenc import latexwalker
    from pylatexenc.latex2text import get_default_latex_context_db

    walker_db = latexwalker.get_default_latex_context_db()
    symbols: dict[str, str] = {}
    one_argument = set()
    for spec in get_default_latex_context_db().iter_macro_specs():
        parsing = walker_db.get_macro_spec(spec.macroname)
        arguments = parsing.args_parser.argspec if parsing is not None else ""
        replacement = spec.simplify_repl
        if not arguments and isinstance(replacement, str) and "%" not in replacement:
            symbols.setdefault(spec.macroname, replacement)
        elif arguments == "{":
            one_argument.add(spec.macroname)
    return symbols, frozenset(one_argument)


@cache
def _latex_to_text() -> Callable[[str], str]:
    from pylatexenc import latexwalker
    from pylatexenc.latex2text import LatexNodes2Text, get_default_latex_context_db

    # Without the "nonascii-specials" category, -- ~ `` '' stay as written (see the docstring).
    plain = ["nonascii-specials"]
    walker_db = latexwalker.get_default_latex_context_db().filter_context(exclude_categories=plain)
    text_db = get_default_latex_context_db().filter_context(exclude_categories=plain)

    class _Decoder(LatexNodes2Text):  # type: ignore[misc]
        def macro_node_to_text(self, node: Any) -> str:
            if self.latex_context.get_macro_spec(node.macroname) is not None:
                return super().macro_node_to_text(node)
            # pylatexenc drops unknown macros; their argument, or in math their name
            # ($\Q(\sqrt{5})$, a local macro for ℚ), says more than nothing.
            args = node.nodeargd.argnlist if node.nodeargd and node.nodeargd.argnlist else []
            if any(args):
                return "".join(self._groupnodecontents_to_text(n) for n in args if n is not None)
            in_math = node.parsing_state is not None and node.parsing_state.in_math_mode
            return node.macroname if in_math or node.macroname[:1].isupper() else ""

    decoder = _Decoder(latex_context=text_db, math_mode="text")

    def decode(value: str) -> str:
        walker = latexwalker.LatexWalker(
            _TEX_PLAIN.sub(r"\\\1", value), latex_context=walker_db, tolerant_parsing=True
        )
        return decoder.nodelist_to_text(walker.get_latex_nodes()[0])

    return decode
