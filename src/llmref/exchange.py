"""Import and export: files in, records out, and the merge rules between them.

Readers and writers are pure functions in :mod:`llmref.formats`; this module picks one by
format, matches what a file brings against the library (by identifier, else by normalised
title, so nothing is duplicated) and writes everything in one transaction.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .models import Record
from .text import merge_names

if TYPE_CHECKING:
    from .store.library import Library

EXPORT_FORMATS = ("bibtex", "markdown", "markdown-table", "json", "csl-json")
IMPORT_FORMATS = ("bibtex", "markdown", "json", "csl-json")
#: arXiv's metadata snapshot: imported apart from the others (see llmref.snapshot).
SNAPSHOT_FORMAT = "arxiv-snapshot"
_NAMED = ", ".join((*IMPORT_FORMATS, SNAPSHOT_FORMAT))
_EXTENSIONS = {
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".md": "markdown",
    ".markdown": "markdown",
    ".json": "json",
}
#: Fields an import fills in when the library's record has nothing there.
_FILLABLE = (
    "abstract", "year", "venue", "doi", "acl_id", "arxiv_id", "arxiv_version", "published", "updated",
    "primary_category", "comment", "journal_ref", "notes",
)  # fmt: skip
#: List-like fields an import extends with what the library's record lacks.
_MERGED = ("tags", "models", "tasks", "datasets", "categories")


@dataclass(frozen=True)
class Problem:
    source: str
    line: int | None
    message: str
    #: The entry was imported all the same (say, under a new key): a warning, not a loss.
    imported: bool = False


@dataclass(frozen=True)
class Outcome:
    status: str  # added, merged, unchanged, failed
    key: str | None
    title: str
    detail: str = ""


@dataclass
class ImportReport:
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


# -- export ----------------------------------------------------------------------------------------


def export(records: Sequence[Record], fmt: str) -> str:
    if fmt == "bibtex":
        from .formats.bibtex import to_bibtex

        return to_bibtex(records)
    if fmt == "csl-json":
        from .formats.csl import to_csl

        return json.dumps(to_csl(records), ensure_ascii=False, indent=2) + "\n"
    if fmt == "json":
        from .services import seed_json

        return seed_json(records)
    if fmt == "markdown":
        from .formats.markdown_export import to_markdown

        return to_markdown(records)
    if fmt == "markdown-table":
        from .formats.markdown_export import to_markdown_table

        return to_markdown_table(records)
    raise UsageError(f"Unknown export format {fmt!r}.", f"Use one of: {', '.join(EXPORT_FORMATS)}.")


#: Records a BibTeX export loads at a time: memory stays flat whatever the selection.
EXPORT_BATCH = 1000


def export_stream(
    library: Library, record_ids: Sequence[int], fmt: str, *, batch: int = EXPORT_BATCH
) -> Iterator[str]:
    """The export of the records with ``record_ids``, in pieces to write as they come.

    BibTeX takes the ids in key order (``list_ids(sort="key")``) and loads ``batch`` records at
    a time; the other formats are built whole, in the order given.
    """
    if fmt != "bibtex":
        yield export(library.records(record_ids), fmt)
        return
    from .formats.bibtex import bibtex_entries

    def records() -> Iterator[Record]:
        for start in range(0, len(record_ids), batch):
            yield from library.records(record_ids[start : start + batch])

    yield from bibtex_entries(records())


# -- import ----------------------------------------------------------------------------------------


def detect_format(path: Path, text: str) -> str:
    """The format of a file, from its extension (``.json`` is told apart by its content)."""
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(
            f"Cannot tell the format of {path.name} from its extension.",
            f"Name it .bib, .md or .json, or give --format ({_NAMED}).",
        )
    if fmt == "json":
        return _json_flavour(path, text)
    return fmt


def _json_flavour(path: Path, text: str) -> str:
    items = _json_items(path, text)
    # llmref's own records always say what kind they are; CSL items have a CSL type instead.
    if all("kind" in i for i in items):
        return "json"
    if all("type" in i for i in items):
        return "csl-json"
    raise UsageError(
        f"{path.name} is neither llmref JSON nor CSL-JSON.",
        "Give a list of records (llmref export --json) or CSL items.",
    )


def read_files(
    paths: Sequence[Path], fmt: str | None = None
) -> tuple[Iterator[tuple[str, Record]], list[Problem]]:
    """Records from files, each with the file it came from, and what could not be read.

    The records come as they are read: a large BibTeX file is read while the first of its
    records are written (in a second process, see :data:`BIBTEX_BACKGROUND_FROM`). The problems
    are all there once the records have been gone through; the files are checked (readable,
    UTF-8, of a known format) before this returns.
    """
    texts = []
    for path in paths:
        text = read_text(path)
        texts.append((path, text, fmt or detect_format(path, text)))
    if fmt is not None and fmt not in IMPORT_FORMATS:
        raise UsageError(f"Unknown import format {fmt!r}.", f"Use one of: {_NAMED}.")
    found: list[tuple[str, Record]] = []
    problems: list[Problem] = []
    for path, text, f in texts:
        if f == "markdown":
            from .formats.markdown_list import read_markdown_list

            found += [(path.name, r) for r in read_markdown_list(text)]
        elif f in ("json", "csl-json"):
            records, bad = _read_json(path, text, f)
            found += [(path.name, r) for r in records]
            problems += bad
    bib = [(path, text) for path, text, f in texts if f == "bibtex"]
    if not bib:
        return iter(found), problems
    return itertools.chain(_read_bibtex(bib, problems), found), problems


def read_text(path: Path) -> str:
    """The text of a file to import, or a UsageError saying why it cannot be read."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror}.", "Check the path.") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text.", "Convert it to UTF-8 first (iconv -t utf-8).") from exc


#: Characters of BibTeX from which the files are read by a second process while the records
#: are written (starting one costs about 0.2 s; a megabyte is about 650 entries).
BIBTEX_BACKGROUND_FROM = 2 * 2**20


def _read_bibtex(files: list[tuple[Path, str]], problems: list[Problem]) -> Iterator[tuple[str, Record]]:
    """The records of the BibTeX files, as one BibTeX run reads them (an @string of one file
    serves the later ones); their problems go first in ``problems``, once all are read."""
    from .formats.bibtex_import import Problem as BibProblem
    from .formats.bibtex_import import build, finish, read_entries, sort_problems

    names = [path.name for path, _ in files]
    sources = [(path.name, text) for path, text in files]
    if sum(len(text) for _, text in files) >= BIBTEX_BACKGROUND_FROM:
        from .background import read_in_background

        hint = "Nothing was imported. Run the import again."
        pieces = read_in_background("bibtex", {"sources": sources}, name=", ".join(names), hint=hint)
        items = finish(item for piece in pieces for item in piece)
    else:
        items = build(read_entries(sources))
    found: list[BibProblem] = []
    for item in items:
        if isinstance(item, BibProblem):
            found.append(item)
        else:
            yield ", ".join(names), item
    sort_problems(found, names)
    problems[:0] = [Problem(p.source, p.line, p.message, p.imported) for p in found]


def _json_items(path: Path, text: str) -> list[dict[str, Any]]:
    """The items of an llmref or CSL-JSON file: a list of objects, or ``{"items": [...]}``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}.", "Check the file."
        ) from exc
    except RecursionError:
        raise UsageError(
            f"{path.name} is nested too deep to be records.", "Give a list of records or CSL items."
        ) from None
    items = data.get("items", data) if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise UsageError(
            f"{path.name} is neither llmref JSON nor CSL-JSON: it does not hold a list of records.",
            "Give a list of records (llmref export --json) or CSL items.",
        )
    return items


def _read_json(path: Path, text: str, fmt: str) -> tuple[list[Record], list[Problem]]:
    items = _json_items(path, text)
    records, problems = [], []
    for i, item in enumerate(items, 1):
        try:
            records.append(_record_from_json(item, fmt))
        except (TypeError, ValueError, AttributeError, UsageError) as exc:
            message = exc.message if isinstance(exc, UsageError) else str(exc)
            problems.append(Problem(path.name, None, f"record {i}: {message}"))
    return records, problems


def _record_from_json(item: dict[str, Any], fmt: str) -> Record:
    if fmt == "csl-json":
        from .formats.csl import record_from_csl

        record = record_from_csl(item)
    else:
        record = Record.from_dict(item)
    if not record.title.strip():
        raise UsageError("it has no title")
    return record


def import_records(
    library: Library, found: Iterable[tuple[str, Record]], problems: Sequence[Problem] = ()
) -> ImportReport:
    """Add what is new, fill in what the library has, in one transaction; importing twice
    changes nothing. ``found`` is gone through once, as it comes; ``problems`` are taken after
    it (the reading of ``found`` may add to them)."""
    from .text import normalise_title

    report = ImportReport()
    with library.transaction():
        new = _NewRecords(library, report)
        for batch in _batches(found, _NewRecords.BATCH):
            marks = [_marks(record, normalise_title(record.title)) for _, record in batch]
            new.held |= library.held_marks(set().union(*marks))
            for (source, record), its_marks in zip(batch, marks, strict=True):
                if new.concern(its_marks):
                    new.write()  # a later entry of the file may be the same work as one not yet written
                existing = library.matching(record) if new.may_match(its_marks) else None
                if existing is None:
                    new.add(record)
                else:
                    report.outcomes.append(_merge_into(library, source, record, existing))
                    # What the merged record may now be found by: no more than what either had.
                    new.touched |= its_marks | _marks(existing, normalise_title(existing.title))
        new.write()
    report.problems = list(problems)
    return report


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in lists of ``size`` (the last maybe shorter), taken as they come."""
    it = iter(items)
    while batch := list(itertools.islice(it, size)):
        yield batch


class _NewRecords:
    """Records an import adds, written a batch at a time (one statement per table, not per
    record), their outcomes kept in the file's order. What a later entry is matched by (its
    identifiers, key, title) must be written before it is matched: :meth:`concern` tells.

    ``held``: which marks (see :func:`_marks`) of the entries read so far the library held
    when their batch was read, and ``touched`` those of every record the import added or
    merged: an entry with neither cannot match a record, and is not looked for.
    """

    BATCH = 1000

    def __init__(self, library: Library, report: ImportReport) -> None:
        self.library = library
        self.report = report
        self.held: set[tuple[str, str]] = set()
        self.touched: set[tuple[str, str]] = set()
        #: (the outcome's index, record, the key the file gave)
        self.waiting: list[tuple[int, Record, str | None]] = []
        self.marks: set[tuple[str, str]] = set()

    def concern(self, marks: set[tuple[str, str]]) -> bool:
        return bool(self.waiting) and not self.marks.isdisjoint(marks)

    def may_match(self, marks: set[tuple[str, str]]) -> bool:
        return not (self.held.isdisjoint(marks) and self.touched.isdisjoint(marks))

    def add(self, record: Record) -> None:
        from .keys import is_valid_key, unique_key
        from .text import normalise_title

        key = record.key if record.key and is_valid_key(record.key) else None
        if key:

            def taken(k: str) -> bool:
                mark = ("key", k.casefold())
                if mark in self.touched:
                    return True
                return mark in self.held if k == key else self.library.key_taken(k)

            if taken(key):
                key = unique_key(key, taken)  # only the newcomer gets a suffix
        given = record.key
        record = record if key == given else record.with_(key=key)
        marks = _marks(record, normalise_title(record.title))
        self.marks |= marks
        self.touched |= marks
        self.report.outcomes.append(Outcome("added", key, record.title))
        self.waiting.append((len(self.report.outcomes) - 1, record, given))
        if len(self.waiting) >= self.BATCH:
            self.write()

    def write(self) -> None:
        from .store.library import prepare

        if not self.waiting:
            return
        waiting, self.waiting = self.waiting, []
        self.marks.clear()
        # Nothing here can clash: matching found no record for them, keys were made free, and
        # records sharing an identifier or a key were written apart (concern).
        keys = self.library.insert_prepared([prepare(record) for _, record, _ in waiting])
        for (i, record, given), key in zip(waiting, keys, strict=True):
            renamed = given and key != given
            detail = f"key {given!r} is taken or unusable: cite it as {key}" if renamed else ""
            self.report.outcomes[i] = Outcome("added", key, record.title, detail)


def _marks(record: Record, title_key: str) -> set[tuple[str, str]]:
    """What :meth:`Library.matching` (and the key check) may find a record by."""
    marks = set(record.identifiers())
    if record.key:
        marks.add(("key", record.key.casefold()))
    if title_key:
        marks.add(("title", title_key))
    return marks


def _merge_into(library: Library, source: str, record: Record, existing: Record) -> Outcome:
    try:
        with library.transaction():  # a savepoint: one bad record does not undo the others
            merged = merge(existing, record)
            # The file's key is not the library's: say which one to cite.
            alias = (
                f"the file's key {record.key!r} is {existing.key} here"
                if record.key and record.key != existing.key
                else ""
            )
            if merged == existing:
                return Outcome("unchanged", existing.key, existing.title, alias)
            library.save(merged)
            changed = [name for name in _FIELD_NAMES if getattr(merged, name) != getattr(existing, name)]
            return Outcome(
                "merged", existing.key, existing.title, "; ".join(x for x in (", ".join(changed), alias) if x)
            )
    except UsageError as exc:
        return Outcome("failed", record.key, record.title, f"{source}: {exc.message}")


def merge(existing: Record, incoming: Record) -> Record:
    """``existing`` with what ``incoming`` adds: empty fields filled, lists extended, links added.

    Nothing the library holds is overwritten or removed — not the key, not a title or note the
    user may have corrected, not a tag.
    """
    if _written_for(existing, incoming):
        return existing
    changes: dict[str, Any] = {}
    for name in _FILLABLE:
        if not getattr(existing, name) and getattr(incoming, name):
            changes[name] = getattr(incoming, name)
    for name in _MERGED:
        changes[name] = merge_names(getattr(existing, name), getattr(incoming, name))
    if (not existing.authors or existing.authors_truncated) and len(incoming.authors) > len(existing.authors):
        changes["authors"] = incoming.authors
        changes["authors_truncated"] = incoming.authors_truncated
    if not existing.section and incoming.section:
        changes["section"] = incoming.section
    changes["urls"] = _merged_urls(existing.urls, incoming.urls, existing.with_(**changes).identifiers())
    if not existing.bibtex_fields and incoming.bibtex_fields:
        # An entry's type and fields go together: a type without its venue fields would make
        # an @article with no journal.
        changes["bibtex_fields"] = incoming.bibtex_fields
        changes["entry_type"] = existing.entry_type or incoming.entry_type
    return existing.with_(**changes)


def _written_for(record: Record, incoming: Record) -> bool:
    """Whether ``incoming`` came from the very BibTeX entry llmref writes for ``record``: a
    library's own export read back (to edit a few entries, say) brings nothing to the records
    it did not change, not even what the export derived (a booktitle from a journal reference)."""
    if not incoming.bibtex_fields or incoming.key != record.key:
        return False
    from .formats.bibtex import to_bibtex
    from .formats.bibtex_import import read_bibtex

    written = read_bibtex([("export", to_bibtex([record]))]).records
    return bool(written) and (written[0].entry_type, written[0].bibtex_fields) == (
        incoming.entry_type,
        incoming.bibtex_fields,
    )


def _merged_urls(
    current: tuple[tuple[str, str], ...],
    extra: tuple[tuple[str, str], ...],
    identifiers: list[tuple[str, str]],
) -> tuple[tuple[str, str], ...]:
    """``current`` and the links of ``extra`` it lacks, but for pages of the record's own
    ``identifiers`` (its arXiv abstract, its DOI), which exports give from the identifiers."""
    from .ids import normalise_url, parse_identifier

    have = {normalise_url(url) for _, url in current}
    labels = {label for label, _ in current}
    out = list(current)
    for label, url in extra:
        if normalise_url(url) in have or _identifier_of(parse_identifier(url)) in identifiers:
            continue
        name, n = label, 2
        while name in labels:
            name, n = f"{label}{n}", n + 1
        out.append((name, url))
        have.add(normalise_url(url))
        labels.add(name)
    return tuple(out)


def _identifier_of(parsed: tuple[str, str] | None) -> tuple[str, str] | None:
    """A parsed identifier as :meth:`Record.identifiers` gives it (DOIs in lower case)."""
    if parsed is None:
        return None
    scheme, value = parsed
    return (scheme, value.lower() if scheme == "doi" else value)


_FIELD_NAMES = tuple(Record.__dataclass_fields__)
