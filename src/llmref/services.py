"""What llmref does, as functions over a :class:`Library` returning plain values (no typer, no rich)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from .errors import UsageError
from .keys import assign_keys
from .models import Record, check_kind
from .store.library import Library
from .text import add_paragraph, merge_names, normalise_title

SEED_RESOURCE = "data/seed.json"


def bundled_records() -> Iterator[Record]:
    """The curated library shipped inside the package (``data/seed.json``)."""
    from importlib.resources import files

    data = json.loads(files("llmref").joinpath(SEED_RESOURCE).read_text(encoding="utf-8"))
    for item in data:
        yield Record.from_dict(item)


def curated_records(list_text: str, previous: Iterable[Record] = ()) -> list[Record]:
    """The records of a curated Markdown list, with keys; a work already in ``previous`` keeps its key.

    Rebuilding the bundled library after the reader learns something new must not move a key
    that users already cite.
    """
    from .formats.markdown_list import read_markdown_list

    known: dict[tuple[str, str], str] = {}
    for record in previous:
        for identity in _identities(record):
            known.setdefault(identity, record.key or "")
    records = []
    used: set[str] = set()
    for record in read_markdown_list(list_text):
        key = next((known[i] for i in _identities(record) if known.get(i) and known[i] not in used), None)
        if key:
            used.add(key)
            record = record.with_(key=key)
        records.append(record)
    return assign_keys(records, taken=known.values())


def _identities(record: Record) -> list[tuple[str, str]]:
    # Not the kind: it follows the section a record sits in, and renaming a heading must not
    # make a work new.
    from .ids import normalise_url

    title = normalise_title(record.title)
    return [
        *record.identifiers(),
        *([("title", title)] if title else []),
        *(("url", normalise_url(url)) for _, url in record.urls),
    ]


def seed_json(records: Iterable[Record]) -> str:
    """The text of ``data/seed.json``: stable field order, UTF-8 kept readable, one final newline."""
    return json.dumps([r.to_dict() for r in records], ensure_ascii=False, indent=2) + "\n"


def open_library(path: Path, upgrading: Callable[[], None] | None = None) -> Library:
    """The library at ``path``; a new one starts with the bundled curated library. ``upgrading``:
    see :meth:`Library.open`."""
    return Library.open(path, seed=bundled_records(), upgrading=upgrading)


def init_library(path: Path, *, empty: bool = False) -> Library:
    Library.create(path, () if empty else bundled_records())
    return Library.open(path)


def edit_tags(record: Record, changes: Sequence[str]) -> Record:
    """Apply ``+Tag`` (or plain ``Tag``) and ``-Tag`` changes, in order, case-insensitively.

    Adding a tag the record has, or removing one it lacks, changes nothing: the outcome the user
    asked for already holds.
    """
    tags = record.tags
    for change in changes:
        if change.startswith("--"):
            raise UsageError(
                f"{change!r} is not a tag change.",
                "Options go before the key (llmref tag --help); write -Tag to remove a tag.",
            )
        op, name = (change[0], change[1:]) if change[:1] in ("+", "-") else ("+", change)
        name = name.strip()
        if not name:
            raise UsageError(f"{change!r} names no tag.", "Write +Tag to add a tag and -Tag to remove one.")
        tags = (
            merge_names(tags, [name])
            if op == "+"
            else tuple(t for t in tags if t.casefold() != name.casefold())
        )
    return record.with_(tags=tags)


def edit_note(record: Record, text: str, *, replace: bool = False) -> Record:
    """Append ``text`` as a new paragraph of the notes, or replace them (``""`` clears them)."""
    text = text.strip("\n")
    if replace:
        return record.with_(notes=text)
    if not text.strip():
        raise UsageError(
            "There is no text to add.", f'Write the note in quotes: llmref note {record.key} "…"'
        )
    return record.with_(notes=add_paragraph(record.notes, text))


def edit_fields(
    record: Record,
    *,
    add: dict[str, Iterable[str]] | None = None,
    drop: dict[str, Iterable[str]] | None = None,
    title: str | None = None,
    year: int | None = None,
    venue: str | None = None,
    kind: str | None = None,
    section: Sequence[str] | None = None,
    todo: bool | None = None,
) -> Record:
    """Change curated fields; facets (models, tasks, datasets) gain and lose names, keeping order.

    As with tags, adding a name already there or dropping one that is not changes nothing.
    """
    changes: dict[str, object] = {}
    for facet, names in (add or {}).items():
        changes[facet] = merge_names(getattr(record, facet), names)
    for facet, names in (drop or {}).items():
        dropped = {name.casefold() for name in names}
        current: tuple[str, ...] = changes.get(facet, getattr(record, facet))  # type: ignore[assignment]
        changes[facet] = tuple(c for c in current if c.casefold() not in dropped)
    if title is not None:
        if not title.strip():
            raise UsageError("A title cannot be empty.", "Give the paper's title in quotes.")
        changes["title"] = title.strip()
    if year is not None:
        changes["year"] = year
    if venue is not None:
        changes["venue"] = venue.strip() or None
    if kind is not None:
        changes["kind"] = check_kind(kind)
    if section is not None:
        changes["section"] = tuple(s.strip() for s in section if s.strip())
    if todo is not None:
        changes["todo"] = todo
    return record.with_(**changes)
