"""Import and export: files in, records out, and the merge rules between them.

Readers and writers are pure functions in :mod:`llmref.formats`; this module picks one by
format, matches what a file brings against the library (by identifier, else by normalised
title, so nothing is duplicated) and writes everything in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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
    "primary_category", "comment", "journal_ref", "entry_type", "notes",
)  # fmt: skip
#: List-like fields an import extends with what the library's record lacks.
_MERGED = ("tags", "models", "tasks", "datasets", "categories")


@dataclass(frozen=True)
class Problem:
    source: str
    line: int | None
    message: str


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


# -- import ----------------------------------------------------------------------------------------


def detect_format(path: Path, text: str) -> str:
    """The format of a file, from its extension (``.json`` is told apart by its content)."""
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(
            f"Cannot tell the format of {path.name} from its extension.",
            f"Name it .bib, .md or .json, or give --format ({', '.join(IMPORT_FORMATS)}).",
        )
    if fmt == "json":
        return _json_flavour(path, text)
    return fmt


def _json_flavour(path: Path, text: str) -> str:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}.", "Check the file."
        ) from exc
    items = data.get("items", data) if isinstance(data, dict) else data
    if isinstance(items, list) and items and all(isinstance(i, dict) for i in items):
        # llmref's own records always say what kind they are; CSL items have a CSL type instead.
        if all("kind" in i for i in items):
            return "json"
        if all("type" in i for i in items):
            return "csl-json"
    if isinstance(items, list) and not items:
        return "json"
    raise UsageError(
        f"{path.name} is neither llmref JSON nor CSL-JSON.",
        "Give a list of records (llmref export --json) or CSL items.",
    )


def read_files(
    paths: Sequence[Path], fmt: str | None = None
) -> tuple[list[tuple[str, Record]], list[Problem]]:
    """Records from files, each with the file it came from, and what could not be read."""
    texts = []
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"Cannot read {path}: {exc.strerror}.", "Check the path.") from exc
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"{path} is not UTF-8 text.", "Convert it to UTF-8 first (iconv -t utf-8)."
            ) from exc
        texts.append((path, text, fmt or detect_format(path, text)))
    if fmt is not None and fmt not in IMPORT_FORMATS:
        raise UsageError(f"Unknown import format {fmt!r}.", f"Use one of: {', '.join(IMPORT_FORMATS)}.")
    found: list[tuple[str, Record]] = []
    problems: list[Problem] = []
    bib = [(path.name, text) for path, text, f in texts if f == "bibtex"]
    if bib:
        from .formats.bibtex_import import read_bibtex

        # One call for all .bib files: @string macros of one file serve the others.
        result = read_bibtex(bib)
        names = ", ".join(name for name, _ in bib)
        found += [(names, r) for r in result.records]
        problems += [Problem(p.source, p.line, p.message) for p in result.problems]
    for path, text, f in texts:
        if f == "markdown":
            from .formats.markdown_list import read_markdown_list

            found += [(path.name, r) for r in read_markdown_list(text)]
        elif f in ("json", "csl-json"):
            records, bad = _read_json(path, text, f)
            found += [(path.name, r) for r in records]
            problems += bad
    return found, problems


def _read_json(path: Path, text: str, fmt: str) -> tuple[list[Record], list[Problem]]:
    data = json.loads(text)
    items = data.get("items", data) if isinstance(data, dict) else data
    if fmt == "csl-json":
        from .formats.csl import from_csl

        return from_csl(items), []
    records, problems = [], []
    for i, item in enumerate(items, 1):
        try:
            records.append(Record.from_dict(item))
        except (TypeError, ValueError, UsageError) as exc:
            message = exc.message if isinstance(exc, UsageError) else str(exc)
            problems.append(Problem(path.name, None, f"record {i}: {message}"))
    return records, problems


def import_records(
    library: Library, found: Sequence[tuple[str, Record]], problems: Sequence[Problem] = ()
) -> ImportReport:
    """Add what is new, fill in what the library has, in one transaction; importing twice changes nothing."""
    report = ImportReport(problems=list(problems))
    with library.transaction():
        for source, record in found:
            report.outcomes.append(_import_one(library, source, record))
    return report


def _import_one(library: Library, source: str, record: Record) -> Outcome:
    try:
        with library.transaction():  # a savepoint: one bad record does not undo the others
            existing = library.matching(record)
            if existing is None:
                key = record.key if record.key and not library.get(record.key) else None
                stored = library.insert(record.with_(key=key))
                detail = f"key {record.key} was taken; now {stored.key}" if record.key and key is None else ""
                return Outcome("added", stored.key, stored.title, detail)
            merged = merge(existing, record)
            if merged == existing:
                return Outcome("unchanged", existing.key, existing.title)
            library.save(merged)
            changed = [name for name in _FIELD_NAMES if getattr(merged, name) != getattr(existing, name)]
            return Outcome("merged", existing.key, existing.title, ", ".join(changed))
    except UsageError as exc:
        return Outcome("failed", record.key, record.title, f"{source}: {exc.message}")


def merge(existing: Record, incoming: Record) -> Record:
    """``existing`` with what ``incoming`` adds: empty fields filled, lists extended, links added.

    Nothing the library holds is overwritten or removed — not the key, not a title or note the
    user may have corrected, not a tag.
    """
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
    changes["urls"] = _merged_urls(existing.urls, incoming.urls)
    if not existing.bibtex_fields and incoming.bibtex_fields:
        changes["bibtex_fields"] = incoming.bibtex_fields
    return existing.with_(**changes)


def _merged_urls(
    current: tuple[tuple[str, str], ...], extra: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    from .ids import normalise_url

    have = {normalise_url(url) for _, url in current}
    labels = {label for label, _ in current}
    out = list(current)
    for label, url in extra:
        if normalise_url(url) in have:
            continue
        name, n = label, 2
        while name in labels:
            name, n = f"{label}{n}", n + 1
        out.append((name, url))
        have.add(normalise_url(url))
        labels.add(name)
    return tuple(out)


_FIELD_NAMES = tuple(Record.__dataclass_fields__)
