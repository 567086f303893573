"""Read BibTeX files (as people and tools really write them) into records, reporting what cannot be read.

bibtexparser v2 splits the text into blocks and recovers after a broken one; everything after the
split is done here, because its middlewares fall short on real files: ``@string`` macros are only
resolved when a whole value is one macro (``#`` concatenation stays raw, bibtexparser#396), duplicate
keys are compared case-sensitively (BibTeX, biber and our store compare them ignoring case) and a
``%`` comment line inside an entry is glued to the next field name (bibtexparser#372).

Rules, in the order they apply:

* **Sources** are read in the order given, as one BibTeX run would read them: an ``@string`` is
  known from its definition on, also in later sources. A line whose first non-blank character is
  ``%`` is a comment and is blanked before splitting (keeping line numbers), so a commented-out
  entry is not read. ``@preamble`` and ``@comment`` are ignored. A source is split about a
  megabyte at a time, cut before a line where a block starts (a line bibtexparser reads no block
  across), so that a large file's first records are written while the rest is read.
* **Values** are evaluated as BibTeX does: ``{…}`` and ``"…"`` parts and ``#`` concatenation,
  macros ignoring case. A month macro (``jan``…``dec``) that is a whole value stays as written
  (``jan``) so that an export writes it back bare; inside a concatenation it becomes the month's
  name, as BibTeX's styles define it. An undefined macro is kept as its name and reported.
* **bibtex_fields** hold every field of the entry, names lower-cased, values evaluated but with
  their LaTeX intact, in the entry's order. A field given twice keeps its first value (BibTeX
  does the same) and is reported. Fields inherited through ``crossref`` are *not* added: the
  record's own fields are what was written, and the crossref field stays.
* **Problems.** Every entry becomes a record or a :class:`Problem` with ``imported=False``: a
  block that failed to parse, a key seen before (compared ignoring case; the first entry wins),
  an entry without a title. Entries imported despite something odd (a key that cannot be a
  citation key, a repeated field, an undefined macro, a missing crossref target) are reported
  with ``imported=True``. A stray ``@type`` line with no ``{`` after it is reported too.
* **Display fields** (title, authors, venue, abstract, tags) are LaTeX decoded to Unicode:
  accents in every spelling, braces dropped, ``--`` → –, whitespace collapsed.
* **key**: the entry key when :func:`llmref.keys.is_valid_key` accepts it, else ``None`` (the
  store makes one) and a problem saying the entry is imported under a new key.
* **authors**: BibTeX's name grammar ("First von Last", "von Last, First", "von Last, Jr, First",
  ``{Corporate Name}``), written "First von Last Jr"; a final "others" sets ``authors_truncated``.
* **year**: from ``year`` (or a biblatex ``date``) when it is a four-digit year once decoded
  (``{\\noopsort{1973b}}1973`` → 1973), with a letter or not (``2023a`` → 2023); otherwise only in
  bibtex_fields, and reported.
* **venue**: ``booktitle``, else ``journal``, with crossref inheritance; a Google Scholar
  ``arXiv preprint arXiv:2106.09685`` becomes ``arXiv preprint``.
* **Ids**: DOI from ``doi`` or a DOI URL in ``url``; arXiv from ``eprint`` (when
  ``archiveprefix``/``eprinttype`` says arXiv or none is given and it looks like an arXiv id), an
  ``arXiv:…`` in journal/booktitle/howpublished, DBLP's ``journal = {CoRR}, volume = {abs/…}``, an
  arxiv.org URL or the arXiv DOI; ACL Anthology id from an aclanthology.org/aclweb.org URL or an ACL
  DOI. ``urls`` is ``(("url", …),)`` when there is a ``url`` field.
* **kind**: ``paper`` for the types of published or citable work (article, inproceedings, book,
  thesis, report…); ``dataset`` for @dataset; ``project`` for @software. Any other type (@misc,
  @online, @manual…) is a ``paper`` when it has an arXiv id, DOI, ACL id or venue, a ``project``
  when its URL is on a code host, an ``article`` when it has another URL, and a ``paper`` when it
  has no link at all (a citation with nothing to follow is most likely a paper or a talk).
* ``section`` is empty and ``notes`` too: a BibTeX ``note`` stays in bibtex_fields only.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from llmref.formats.bibtex import read_year
from llmref.formats.latex import latex_to_text
from llmref.ids import parse_acl, parse_arxiv, parse_doi
from llmref.keys import is_valid_key
from llmref.models import Record


@dataclass(frozen=True)
class Problem:
    """Something in a BibTeX source a person should look at."""

    source: str  # file name as given
    line: int  # 1-based line where the entry (or failed block) starts
    key: str | None
    message: str
    #: Whether the entry still became a record (a key replaced, a field repeated…) or was left out.
    imported: bool = False


@dataclass(frozen=True)
class BibImport:
    records: list[Record]
    problems: list[Problem]


# --------------------------------------------------------------------------------------------
# Reading sources into evaluated entries


@dataclass
class _Entry:
    source: str
    line: int
    entry_type: str
    key: str
    fields: list[tuple[str, str]]
    problems: list[str] = field(default_factory=list)  # imported-anyway notes for this entry
    error: str | None = None  # why the entry cannot be imported at all


@dataclass
class _Reader:
    macros: dict[str, str] = field(default_factory=dict)  # case-folded name → evaluated value
    entries: list[_Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


_MONTHS = {
    m[:3]: m
    for m in "january february march april may june july august september october november december".split()
}
# A line that BibTeX-aware tools treat as a comment; blanked, not removed, so line numbers hold.
_COMMENT_LINE = re.compile(r"^[ \t]*%[^\n]*", re.MULTILINE)
_STRAY_TYPE = re.compile(r"^[ \t]*(@\w+)[ \t]*$", re.MULTILINE)


def read_bibtex(sources: Sequence[tuple[str, str]]) -> BibImport:
    """Records for the entries of ``(name, text)`` sources, read as one file in this order."""
    result = BibImport([], [])
    for item in build(read_entries(sources)):
        (result.problems if isinstance(item, Problem) else result.records).append(item)
    sort_problems(result.problems, [name for name, _ in sources])
    return result


def sort_problems(problems: list[Problem], sources: Sequence[str]) -> None:
    """Problems in file order, sources in the order given, whatever step found them."""
    order = {name: i for i, name in reversed(list(enumerate(sources)))}
    problems.sort(key=lambda p: (order.get(p.source, len(order)), p.line))


def read_entries(sources: Sequence[tuple[str, str]]) -> Iterator[_Entry | Problem]:
    """The evaluated entries of ``(name, text)`` sources in order, and what could not be read
    (in no particular order), a part of a source at a time (see :func:`_parts`)."""
    reader = _Reader()
    for name, text in sources:
        text = _COMMENT_LINE.sub("", text.removeprefix("\ufeff"))
        line = 1
        for part, after in _parts(text, PART):
            _read_part(reader, name, part, after, line)
            yield from reader.problems
            yield from reader.entries
            reader.problems.clear()
            reader.entries.clear()
            line += part.count("\n")


def read_pieces(options: dict[str, Any]) -> Iterator[list[Record | Problem | Unbuilt]]:
    """:func:`build` of the entries of ``options["sources"]``, as the reading process sends it
    (see :mod:`llmref.background`), :data:`PIECE` records a piece. Half the records are left for
    the writer to make (:func:`finish`): splitting the text is most of the reading, writing the
    records most of the rest, and each process then has about as much to do."""
    piece: list[Record | Problem | Unbuilt] = []
    for item in build(read_entries(options["sources"]), leave=2):
        piece.append(item)
        if not isinstance(item, Problem) and len(piece) >= PIECE:
            yield piece
            piece = []
    if piece:
        yield piece


#: Characters of a source bibtexparser splits at a time: a large file is read and written a
#: part at a time, and the first records are written while the rest are being read.
PART = 1 << 20
#: Records the reading process sends at a time.
PIECE = 500
# Where a block starts as bibtexparser sees it: `@type{` or `@type(` at the start of a line. It
# ends any block left open there (with an error), so nothing it reads runs across such a line.
_BLOCK_LINE = re.compile(r"^[ \t]*@\w*[ \t]*[{(]", re.MULTILINE)


def _parts(text: str, size: int) -> Iterator[tuple[str, str]]:
    """``text`` cut before lines where a block starts, in parts of about ``size`` characters,
    each with the start of the block that follows it (empty for the last)."""
    start = 0
    while len(text) - start > size:
        cut = _BLOCK_LINE.search(text, start + size)
        if cut is None:
            break
        yield text[start : cut.start()], cut[0]
        start = cut.start()
    yield text[start:], ""


def _read_part(reader: _Reader, name: str, part: str, after: str, first_line: int) -> None:
    """Read one part of a source, whose first line is ``first_line``. ``after``, the start of
    the block that follows the part, is read with it: a block left open at the part's end then
    fails as it does in the whole file (at an unexpected block start, not at the end of the
    file). The block ``after`` begins, cut short, fails too, and is not kept."""
    import bibtexparser
    from bibtexparser import model

    _quiet_bibtexparser()
    # An empty parse stack keeps values exactly as split: macros and `#` are evaluated here.
    blocks = bibtexparser.parse_string(part + after, parse_stack=[]).blocks
    if after and blocks and isinstance(blocks[-1], model.ParsingFailedBlock):
        blocks = blocks[:-1]
    # A block that fails at the next one's start may hold its `@type`: looked for in both.
    for block, line in zip(blocks, _start_lines(part + after, blocks), strict=True):
        line += first_line - 1
        # Duplicate keys are judged in build (ignoring case, across sources) and repeated
        # fields in _entry, so both come back as the blocks bibtexparser set aside.
        if isinstance(block, model.DuplicateBlockKeyBlock | model.DuplicateFieldKeyBlock):
            block = block.ignore_error_block
        if isinstance(block, model.String):
            _define(reader, block, name, line)
        elif isinstance(block, model.Entry):
            reader.entries.append(_entry(block, name, line, reader.macros))
        elif isinstance(block, model.ParsingFailedBlock):
            reader.problems.append(Problem(name, line, _failed_key(block.raw), _failure(block)))
        elif isinstance(block, model.ImplicitComment):
            reader.problems.extend(_stray_types(block, name, line))


def _start_lines(text: str, blocks: list[Any]) -> Iterable[int]:
    """The 1-based line each block starts on, found from its text.

    bibtexparser's own ``start_line`` does not count a newline right after a backslash (its
    splitter takes ``\\`` + newline for an escaped mark; bibtexparser PR #598), so every block
    after a title ending in ``\\TeX\\`` would be reported lines too early.
    """
    pos, line, last = 0, 1, 0
    for block in blocks:
        found = text.find(block.raw, pos) if block.raw else -1
        if found < 0:
            yield (block.start_line or 0) + 1  # bibtexparser counts lines from 0
            continue
        line += text.count("\n", last, found)
        last, pos = found, found + 1  # the next block starts further on, though its text may not differ
        yield line


def _define(reader: _Reader, block: Any, source: str, line: int) -> None:
    try:
        value, undefined = _evaluate(block.value, reader.macros)
    except _BadValue as bad:
        reader.problems.append(Problem(source, line, block.key, f"could not parse @string: {bad}"))
        return
    for macro in undefined:
        message = f"undefined @string '{macro}' in @string '{block.key}'; kept as its name"
        reader.problems.append(Problem(source, line, block.key, message, imported=True))
    reader.macros[block.key.casefold()] = value


def _quiet_bibtexparser() -> None:
    # bibtexparser logs each failed block as a warning; with no logging configured Python prints
    # it to stderr. Those blocks come back as Problems, so its log is noise to a CLI user.
    logger = logging.getLogger("bibtexparser")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())


def _failure(block: Any) -> str:
    reason = getattr(block.error, "abort_reason", None) or str(block.error)
    return f"could not parse: {' '.join(reason.split())}"


def _failed_key(raw: str | None) -> str | None:
    match = re.match(r"@\s*\w+\s*[{(]\s*([^,\s{}()=\"]+)\s*,", raw or "")
    return match[1] if match else None


def _stray_types(block: Any, name: str, line: int) -> list[Problem]:
    # `@inproceedings` alone on a line (a half-deleted entry) is no block to bibtexparser.
    problems = []
    for match in _STRAY_TYPE.finditer(block.raw or ""):
        at = line + block.raw.count("\n", 0, match.start())
        message = f"'{match[1]}' with no '{{' after it is not an entry; ignored"
        problems.append(Problem(name, at, None, message))
    return problems


def _entry(block: Any, source: str, line: int, macros: dict[str, str]) -> _Entry:
    entry = _Entry(source, line, block.entry_type.lower(), block.key, [])
    seen: set[str] = set()
    for f in block.fields:
        name = _field_name(f.key)
        try:
            value, undefined = _evaluate(f.value, macros)
        except _BadValue as bad:
            entry.error = f"could not parse: field '{name}': {bad}"
            return entry
        for macro in undefined:
            entry.problems.append(f"undefined @string '{macro}' in field '{name}'; kept as its name")
        if name in seen:
            entry.problems.append(f"field '{name}' given twice; the first value was kept")
            continue
        seen.add(name)
        entry.fields.append((name, value))
    return entry


def _field_name(raw: str) -> str:
    if raw.isalpha():
        return raw.lower()
    # A trailing `% comment` after a field ends up in front of the next name (bibtexparser#372).
    lines = [ln.strip() for ln in raw.splitlines() if not ln.strip().startswith("%")]
    return " ".join(ln for ln in lines if ln).lower()


class _BadValue(ValueError):
    pass


# What BibTeX accepts as a macro name: no digit first, none of these characters.
_MACRO_NAME = re.compile(r"""^[^\d\s"#%'(),={}][^\s"#%'(),={}]*$""")
_NEXT_FIELD = re.compile(r"\n\s*([\w-]+)\s*=")


def _evaluate(raw: Any, macros: dict[str, str]) -> tuple[str, list[str]]:
    """A field value with ``#`` parts joined and macros expanded, and the undefined macros.

    Raises :class:`_BadValue` for what BibTeX rejects, such as ``{a} year = {b}`` (bibtexparser
    reads a field up to the next comma, so a missing comma glues two fields together).
    """
    raw = str(raw).strip()
    parts = _split_concatenation(raw)
    undefined: list[str] = []
    out = []
    for part in parts:
        if _enclosed(part):
            out.append(part[1:-1])
        elif part.isdigit():
            out.append(part)
        elif not _MACRO_NAME.match(part):
            raise _BadValue(_bad_value_message(raw))
        elif part.casefold() in macros:
            out.append(macros[part.casefold()])
        elif part.casefold() in _MONTHS:
            # A lone month stays `jan` (written back bare); joined, it reads as BibTeX prints it.
            out.append(part if len(parts) == 1 else _MONTHS[part.casefold()].capitalize())
        else:
            undefined.append(part)
            out.append(part)
    return "".join(out), undefined


# The characters that decide how a value splits; visiting only them (not every character of an
# abstract) is what keeps evaluation cheap. A brace right after a backslash does not count.
_GROUP_MARKS = re.compile(r'[{}"]')
_CONCAT_MARKS = re.compile(r'[{}"#]')


def _enclosed(part: str) -> bool:
    """Whether ``part`` is one ``{…}`` or ``"…"`` group (not ``{a} b {c}``)."""
    if len(part) < 2 or (part[0], part[-1]) not in (("{", "}"), ('"', '"')):
        return False
    inner = part[1:-1]
    if "{" not in inner and "}" not in inner and (part[0] == "{" or '"' not in inner):
        return True
    depth = 0
    for mark in _GROUP_MARKS.finditer(part, 0, len(part) - 1):
        ch, i = mark.group(), mark.start()
        if ch != '"':
            if i and part[i - 1] == "\\":
                continue
            depth += 1 if ch == "{" else -1
            if depth == 0 and part[0] == "{":
                return False  # the opening brace closed before the end
        elif depth == 0 and i > 0:
            return False
    return True


def _bad_value_message(raw: str) -> str:
    glued = _NEXT_FIELD.search(raw)
    if glued:
        return f"a comma is missing before '{glued[1]}'"
    return f'value {" ".join(raw.split())[:60]!r} is not {{…}}, "…", a number or a @string name'


def _split_concatenation(raw: str) -> list[str]:
    if "#" not in raw:
        return [raw.strip()]
    parts, depth, quoted, start = [], 0, False, 0
    for mark in _CONCAT_MARKS.finditer(raw):
        ch, i = mark.group(), mark.start()
        if ch in "{}":
            if not (i and raw[i - 1] == "\\"):
                depth += 1 if ch == "{" else -1
        elif ch == '"':
            if depth == 0:
                quoted = not quoted
        elif depth == 0 and not quoted:
            parts.append(raw[start:i].strip())
            start = i + 1
    parts.append(raw[start:].strip())
    return parts


# --------------------------------------------------------------------------------------------
# Entries to records


def build(items: Iterable[_Entry | Problem], *, leave: int = 0) -> Iterator[Record | Problem | Unbuilt]:
    """Records for entries as they come, in their order, and the problems met on the way. An
    entry whose ``crossref`` names an entry not seen yet waits for it (BibTeX wants the parent
    after its children), and the entries after it wait too, to keep their order.

    ``leave``: every ``leave``-th record is left for the caller to make (see :func:`finish`),
    as an :class:`Unbuilt`.
    """
    by_key: dict[str, _Entry] = {}
    waiting: deque[_Entry] = deque()
    made = 0

    def record(entry: _Entry) -> list[Record | Problem | Unbuilt]:
        nonlocal made
        made += 1
        if leave and made % leave == 0:
            target = _crossref(entry).casefold()
            return [Unbuilt(entry, {target: by_key[target]} if target in by_key else {})]
        return _record(entry, by_key)

    for entry in items:
        if isinstance(entry, Problem):
            yield entry
        elif entry.error:
            yield Problem(entry.source, entry.line, entry.key, entry.error)
        elif (first := by_key.get(entry.key.casefold())) is not None:
            where = f"line {first.line}" if first.source == entry.source else f"{first.source}:{first.line}"
            yield Problem(
                entry.source, entry.line, entry.key, f"duplicate key '{entry.key}' (first at {where})"
            )
        else:
            by_key[entry.key.casefold()] = entry
            waiting.append(entry)
            while waiting and _parent_seen(waiting[0], by_key):
                yield from record(waiting.popleft())
    for entry in waiting:
        yield from record(entry)


@dataclass(frozen=True)
class Unbuilt:
    """An entry :func:`build` left for another process to make a record of, with its crossref
    parent by key (empty when it has none, or names one that is not there)."""

    entry: _Entry
    parent: dict[str, _Entry]


def finish(items: Iterable[Record | Problem | Unbuilt]) -> Iterator[Record | Problem]:
    """What :func:`build` gave, with the records it left unbuilt made."""
    for item in items:
        if isinstance(item, Unbuilt):
            yield from _record(item.entry, item.parent)
        else:
            yield item


def _crossref(entry: _Entry) -> str:
    return dict(entry.fields).get("crossref", "").strip()


def _parent_seen(entry: _Entry, by_key: dict[str, _Entry]) -> bool:
    target = _crossref(entry)
    return not target or target.casefold() in by_key


def _record(entry: _Entry, by_key: dict[str, _Entry]) -> list[Record | Problem]:
    def problem(message: str, imported: bool = True) -> Problem:
        return Problem(entry.source, entry.line, entry.key, message, imported)

    problems = [problem(message) for message in entry.problems]
    own = dict(entry.fields)
    inherited, missing = _inherited(entry, by_key)
    if missing:
        problems.append(problem(f"crossref '{missing}' not found; nothing inherited"))
    values = {**inherited, **own}
    title = latex_to_text(own.get("title", ""))
    if not title:
        return [*problems, problem("no title", imported=False)]
    key: str | None = entry.key
    if not is_valid_key(entry.key):
        problems.append(
            problem(f"key '{entry.key}' cannot be used as a citation key; imported under a new key")
        )
        key = None
    record = _to_record(entry, values, title, key)
    written = values.get("year") or values.get("date")
    if record.year is None and written:
        shown = " ".join(written.split())[:40]
        problems.append(problem(f"year '{shown}' is not a four-digit year: the record has none"))
    return [*problems, record]


# Fields a crossref does not pass on: they name or identify the parent itself (biblatex's
# default inheritance excludes ids/crossref/xref the same way).
_NOT_INHERITED = frozenset(
    "crossref xref ids key title subtitle abstract doi url eprint eprinttype archiveprefix "
    "primaryclass keywords pages note annote file urldate label shorthand sortkey".split()
)
_CONTAINER_TYPES = frozenset("proceedings book collection mvbook mvproceedings mvcollection".split())


def _inherited(entry: _Entry, by_key: dict[str, _Entry]) -> tuple[dict[str, str], str | None]:
    """Fields the entry takes from its ``crossref`` parent, and the parent's key if it is missing."""
    target = _crossref(entry)
    if not target:
        return {}, None
    parent = by_key.get(target.casefold())
    if parent is None:
        return {}, target
    out = {name: value for name, value in parent.fields if name not in _NOT_INHERITED}
    # A proceedings' or book's title is the booktitle of what it contains (biblatex does this).
    parent_title = dict(parent.fields).get("title")
    if parent.entry_type in _CONTAINER_TYPES and parent_title and "booktitle" not in out:
        out["booktitle"] = parent_title
    return out, None


def _to_record(entry: _Entry, values: dict[str, str], title: str, key: str | None) -> Record:
    authors, truncated = parse_names(values.get("author", ""))
    arxiv = _arxiv(values)
    doi = _doi(values)
    acl_id = _acl(values, doi)
    url = _clean_url(values["url"]) if values.get("url") else None
    venue = _venue(values)
    ids = (arxiv, doi, acl_id)
    return Record(
        key=key,
        kind=_kind(entry.entry_type, any(ids) or bool(venue), url),
        title=title,
        authors=authors,
        authors_truncated=truncated,
        year=_year(values),
        venue=venue,
        arxiv_id=arxiv[0] if arxiv else None,
        arxiv_version=arxiv[1] if arxiv else None,
        doi=doi,
        acl_id=acl_id,
        urls=(("url", url),) if url else (),
        tags=_tags(values.get("keywords", "")),
        abstract=latex_to_text(values.get("abstract", "")) or None,
        entry_type=entry.entry_type,
        bibtex_fields=tuple(entry.fields),
    )


# --------------------------------------------------------------------------------------------
# Fields


def _year(values: dict[str, str]) -> int | None:
    year = latex_to_text(values.get("year", ""))
    if year:
        return read_year(year)
    return read_year(values.get("date", "")[:4])  # biblatex: 2021-06-17, 2021/2022, 2021-06


_ARXIV_VENUE = re.compile(r"\s*\(?(?:arxiv\s*:?\s*)?(?:abs/)?\d{4}\.\d{4,5}(?:v\d+)?\)?\s*$", re.IGNORECASE)


def _venue(values: dict[str, str]) -> str | None:
    venue = latex_to_text(values.get("booktitle") or values.get("journal") or "")
    if not venue:
        return None
    # Google Scholar's "arXiv preprint arXiv:2106.09685": the id is in arxiv_id already.
    shortened = _ARXIV_VENUE.sub("", venue)
    if shortened != venue:
        return shortened or "arXiv"
    return venue


# "arXiv:2106.09685", "arXiv 2106.09685v2", "arXiv:hep-th/9901001" written inside prose fields.
_ARXIV_IN_TEXT = re.compile(
    r"arxiv\s*[:/]?\s*(?:abs/)?(\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+(?:\.[a-z]{2})?/\d{7}(?:v\d+)?)",
    re.IGNORECASE,
)


def _arxiv(values: dict[str, str]) -> tuple[str, int | None] | None:
    return next((found for found in _arxiv_candidates(values) if found), None)


def _arxiv_candidates(values: dict[str, str]) -> Iterable[tuple[str, int | None] | None]:
    prefix = (values.get("archiveprefix") or values.get("eprinttype") or "").strip().lower()
    eprint = _plain(values.get("eprint", ""))
    if eprint and prefix in ("", "arxiv"):
        yield parse_arxiv(eprint)
    for name in ("journal", "booktitle", "howpublished"):
        match = _ARXIV_IN_TEXT.search(_plain(values.get(name, "")))
        yield parse_arxiv(match[1]) if match else None
    # DBLP: journal = {CoRR}, volume = {abs/2106.09685}
    volume = _plain(values.get("volume", ""))
    if _plain(values.get("journal", "")).lower() == "corr" and volume.startswith("abs/"):
        yield parse_arxiv(volume.removeprefix("abs/"))
    yield parse_arxiv(_clean_url(values.get("url", "")))
    yield parse_arxiv(_plain(values.get("doi", "")))


def _doi(values: dict[str, str]) -> str | None:
    doi = _plain(values.get("doi", ""))
    found = parse_doi(doi) if doi else None
    found = found or parse_doi(_clean_url(values.get("url", "")))
    # arXiv's DataCite DOI names the preprint, which the arXiv id already does; kept as the DOI
    # it would block the journal's own DOI later (the CSL reader drops it the same way).
    return None if found and parse_arxiv(found) else found


def _acl(values: dict[str, str], doi: str | None) -> str | None:
    url = _clean_url(values.get("url", ""))
    return (parse_acl(url) if url else None) or (parse_acl(doi) if doi else None)


_CODE_HOSTS = frozenset("github.com gitlab.com bitbucket.org codeberg.org sourceforge.net".split())
_PAPER_TYPES = frozenset(
    "article inproceedings conference incollection inbook book booklet collection proceedings "
    "phdthesis mastersthesis thesis techreport report unpublished inreference mvbook bookinbook "
    "suppbook periodical mvproceedings mvcollection".split()
)


def _kind(entry_type: str, cited_work: bool, url: str | None) -> str:
    if entry_type in _PAPER_TYPES:
        return "paper"
    if entry_type == "dataset":
        return "dataset"
    if entry_type == "software":
        return "project"
    if cited_work or not url:
        return "paper"
    host = urlsplit(url).netloc.lower().removeprefix("www.")
    return "project" if host in _CODE_HOSTS else "article"


def _tags(keywords: str) -> tuple[str, ...]:
    tags: list[str] = []
    for word in re.split(r"[,;]", latex_to_text(keywords)):
        word = word.strip()
        if word and word.casefold() not in {t.casefold() for t in tags}:
            tags.append(word)
    return tuple(tags)


def _plain(value: str) -> str:
    """An identifier field without the braces people put around it (``{2106.09685}``)."""
    return value.replace("{", "").replace("}", "").strip()


_URL_ESCAPE = re.compile(r"\\([_%&#~$])")


def _clean_url(value: str) -> str:
    r"""A URL as a browser wants it: ``\url{…}`` unwrapped and ``\_``, ``\%`` unescaped."""
    value = value.strip()
    match = re.fullmatch(r"\\(?:url|href)\s*\{([^{}]*)\}.*", value, re.DOTALL)
    if match:
        value = match[1]
    words = _URL_ESCAPE.sub(r"\1", _plain(value)).split()
    return words[0] if words else ""


# --------------------------------------------------------------------------------------------
# Names


def parse_names(value: str) -> tuple[tuple[str, ...], bool]:
    """ "First von Last Jr" display names of a BibTeX name list, and whether it ended in "others"."""
    if not value.strip():
        return (), False
    from bibtexparser.middlewares.names import split_multiple_persons_names

    names = split_multiple_persons_names(value)
    truncated = bool(names) and names[-1].strip().lower() == "others"
    if truncated:
        names = names[:-1]
    return tuple(d for d in map(_display_name, names) if d), truncated


# A file names the same people again and again.
@lru_cache(maxsize=16384)
def _display_name(name: str) -> str:
    from bibtexparser.middlewares.names import parse_single_name_into_parts

    return latex_to_text(parse_single_name_into_parts(name, strict=False).merge_first_name_first)
