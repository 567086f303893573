"""The record every part of llmref speaks: one paper (or project, blog, dataset…) with its identifiers."""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass, fields, replace
from typing import Any

from .errors import UsageError

#: What a record is. A curated list links papers, but also models and projects, blog posts,
#: datasets, tools, online demos and articles; each becomes a record and ``kind`` tells them apart.
KINDS = ("paper", "model", "project", "blog", "dataset", "tool", "demo", "article")


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise UsageError(f"Unknown kind {kind!r}.", f"Use one of: {', '.join(KINDS)}.")
    return kind


@dataclass(frozen=True, kw_only=True)
class Record:
    """A reference as llmref stores it.

    Tuples, not sets or lists, so records are hashable and their order is the source's order
    (exports must be deterministic). ``authors`` are "First Last" strings in the order given;
    ``authors_truncated`` says the source ended the list with "et al.". ``urls`` maps a link's
    label as the source wrote it (``pdf``, ``paper``, ``project``, ``blog``…) to its address.
    """

    key: str | None = None
    kind: str = "paper"
    title: str
    authors: tuple[str, ...] = ()
    authors_truncated: bool = False
    year: int | None = None
    venue: str | None = None
    arxiv_id: str | None = None
    arxiv_version: int | None = None
    doi: str | None = None
    acl_id: str | None = None
    urls: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    section: tuple[str, ...] = ()
    notes: str = ""
    abstract: str | None = None
    todo: bool = False
    #: arXiv's metadata: first (v1) and latest version dates as YYYY-MM-DD, categories with the
    #: primary one first, the authors' comment and a journal reference.
    published: str | None = None
    updated: str | None = None
    primary_category: str | None = None
    categories: tuple[str, ...] = ()
    comment: str | None = None
    journal_ref: str | None = None
    #: From an imported BibTeX entry: its type (``inproceedings``…) and its fields as written,
    #: for those llmref does not model (pages, volume, publisher, month…) and the original LaTeX
    #: of those it decodes (title, author…), so that an export gives back what was imported.
    entry_type: str | None = None
    bibtex_fields: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        check_kind(self.kind)

    @property
    def identified(self) -> bool:
        """Whether anything points at the work itself (an id or a link), not just its title."""
        return bool(self.arxiv_id or self.doi or self.acl_id or self.urls)

    def identifiers(self) -> list[tuple[str, str]]:
        """``(scheme, value)`` for each id the record has; DOIs lower-cased, as they compare."""
        found = [
            ("arxiv", self.arxiv_id),
            ("doi", self.doi.lower() if self.doi else None),
            ("acl", self.acl_id),
        ]
        return [(scheme, value) for scheme, value in found if value]

    def url(self, label: str) -> str | None:
        return dict(self.urls).get(label)

    def with_(self, **changes: Any) -> Record:
        if "kind" in changes or not changes.keys() <= _FIELDS:
            return replace(self, **changes)  # validated (and unknown fields refused) as on creation
        # A copy with fields set directly: replace() re-runs __init__, which costs more than
        # anything else when keys are given to a million imported records.
        new = copy(self)
        for name, value in changes.items():
            object.__setattr__(new, name, value)
        return new

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``data/seed.json`` and ``--json`` (field order is the documented order)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _MAPPING_FIELDS:
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        """A record from its JSON shape (:meth:`to_dict`); ValueError says which field is wrong.

        Each value must be of its field's type: a list of text is not one text split into
        letters, a year is a whole number of four digits. A null is the field's default,
        except for the title, which is then empty (a reader reports the record as untitled).
        """
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names - _DERIVED
        if unknown:
            raise ValueError(f"unknown record field(s): {', '.join(sorted(unknown))}")
        if "title" not in data:
            raise ValueError("it has no title")
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            if name not in names:
                continue
            if value is None and name in _NEVER_NONE:
                if name != "title":
                    continue  # JSON's null for "nothing": the field's default
                value = ""
            kwargs[name] = _checked(name, value)
        return cls(**kwargs)


def _checked(name: str, value: Any) -> Any:
    """``value`` as field ``name`` holds it, or ValueError."""
    kind = _FIELD_TYPES[name]
    if value is None and "None" in kind:
        return None
    if name in _MAPPING_FIELDS:
        if not isinstance(value, dict) or not all(_is_text(v) for v in value.values()):
            raise ValueError(f"'{name}' must be an object whose values are text")
        return tuple((_text(name, str(k)), v) for k, v in value.items())
    if name in _TUPLE_FIELDS:
        if not isinstance(value, list) or not all(_is_text(v) for v in value):
            raise ValueError(f"'{name}' must be a list of text")
        return tuple(value)
    if kind.startswith("bool"):
        if not isinstance(value, bool):
            raise ValueError(f"'{name}' must be true or false")
        return value
    if kind.startswith("int"):
        low, high = _NUMBER_RANGES.get(name, (0, 2**31))
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"'{name}' must be a whole number from {low} to {high}")
        return value
    return _text(name, value)


def _text(name: str, value: Any) -> str:
    if not _is_text(value):
        raise ValueError(f"'{name}' must be text")
    return value


def _is_text(value: Any) -> bool:
    """A string that can be stored: JSON can escape half of a surrogate pair, UTF-8 cannot."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_TUPLE_FIELDS = frozenset(
    f.name
    for f in fields(Record)
    if f.type.startswith("tuple[str, ...]")  # type: ignore[union-attr]
)
#: Each field's type as declared (a string: annotations are not evaluated here).
_FIELD_TYPES = {f.name: str(f.type) for f in fields(Record)}
#: Whole numbers that only make sense within a range.
_NUMBER_RANGES = {"year": (1000, 9999), "arxiv_version": (1, 9999)}
#: Fields with no None among their values (text, flags, lists): a JSON null there means their default.
_NEVER_NONE = frozenset(name for name, kind in _FIELD_TYPES.items() if "None" not in kind)
#: Fields held as ordered pairs and shown in JSON as objects.
_MAPPING_FIELDS = frozenset({"urls", "bibtex_fields"})
#: Fields that ``--json`` adds for readers but that are computed, not stored.
_DERIVED = frozenset({"identified"})


_FIELDS = frozenset(Record.__dataclass_fields__)


def arxiv_pages(arxiv_id: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """A paper's abstract and PDF pages on arxiv.org, labelled as its links are."""
    return ("abs", f"https://arxiv.org/abs/{arxiv_id}"), ("pdf", f"https://arxiv.org/pdf/{arxiv_id}")
