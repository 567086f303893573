"""Write records as a curated Markdown list (the style of ``data/curated-list.md``) or a README table.

:func:`to_markdown` writes what :func:`llmref.formats.markdown_list.read_markdown_list` reads back
as the same records (all fields but ``key``, which the store gives). The rules, in the order the
output follows them:

* **Sections.** Records are grouped by ``section``, sections in the order they first appear, each
  below its parent (a parent's own records before its sub-sections'). A record without a section
  comes first, before any heading. Levels 1–6 are ``#``…``######`` headings; the pseudo-headings
  and families of the source (``PEFT统一框架``, the ``Adapter家族`` item) become headings at their
  level too, since a heading is the one form the reader gives back unchanged. Deeper levels are
  ``<details><summary>name</summary>`` blocks. A ``title`` is an HTML ``<h1>``: a ``#`` heading
  would become a section of the records without one.
* **Papers** are numbered items (numbering restarts in each section)::

      1. ![LoRA](https://img.shields.io/badge/LoRA-blue) `LoRA: Low-Rank Adaptation…` ICLR 2022
         Edward J. Hu, Yelong Shen, et al. [[pdf](https://arxiv.org/abs/2106.09685)] ==TODO==
         **模型**：GPT3 175B
         notes, verbatim

  The tags are shields.io badges, the title is in backticks (in bold when it holds a backtick),
  followed by ``Venue Year``. The author line is "First Last, …" ending ", et al." when
  ``authors_truncated``; when every name is one word (a short citation such as "Dao et al.") and
  the year is known, the title is followed by ``(Dao et al., 2022)`` instead, since the reader
  takes one-word names on an author line for "Last, First" pairs. The links follow the author line
  (or the title, without one) as ``[[label](url)]``; an arXiv, ACL or DOI id that none of them
  points at gets a link made from it, first (``pdf``, or ``doi``). A link that the notes already
  make is left out of the list unless it carries an id (the reader takes ids only from the head).
* **Models, tasks, datasets** that the notes do not already state go on a *field line* with bold
  labels, which the reader parses but does not keep in the notes: after the notes when they only
  add to what the notes say, else before them with every value.
* **Other kinds** (models, projects, blogs…) are bullet items ``- [Title](url): notes``. The title
  link is the first URL, which the reader labels by its host: when the record labels it otherwise
  the item is written like a paper's (`` - `Title` [[label](url)] ``). The kind is not written: the
  reader derives it from the section and the links, so a record keeps its kind in its section.
* ``==TODO==`` ends the head line of a todo record.

What cannot come back, because the reader has no way to write it:

* an id without a URL: the link made from it is added to ``urls``; an ACL or arXiv DOI's link
  also gives the reader the ACL or arXiv id;
* a year outside 1900–2100, a venue without a year that is not one or two capitalised words, a
  venue with digits: left out, so that the title is still read; a missing year when the arXiv id
  gives one (the reader falls back to it);
* a non-paper record with authors, a venue or a link labelled pdf/paper (those make it a paper),
  and any record whose kind its section and links do not imply;
* text the reader normalises: Markdown emphasis in a section name or title, a title with a
  backtick and ``*``/``_``, a title with ``](`` or ending in punctuation, a link label that is not
  one to three lower-case words, a URL with ``)`` or a space, names the reader does not take for
  names (lower-case, or several one-word names among full ones), a tag that ends in ``-`` and
  holds ``]`` (its badge label reads as empty and the reader falls back to the alt text);
* notes the reader reads as something else: a first line that reads as an author line (when there
  is none), a strong title (`` `Name` 2023``), a heading, rule or ``<details>`` line, ``==TODO==``,
  a field line.

Records come back in the exported order, which groups them by section.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from llmref.formats.markdown_list import (
    read_title_trailer,
    stated_details,
    stated_links,
    title_link_label,
)
from llmref.ids import parse_acl, parse_arxiv, parse_doi
from llmref.keys import cited_authors
from llmref.models import Record

_MAX_HEADING = 6
_BADGE_COLOUR = "blue"

# --------------------------------------------------------------------------------------------
# Curated list


def to_markdown(records: Sequence[Record], *, title: str | None = None) -> str:
    """The records as a curated Markdown list that :func:`read_markdown_list` reads back."""
    blocks: list[str] = [f"<h1>{html.escape(title, quote=False)}</h1>"] if title else []
    current: tuple[str, ...] = ()
    for section, group in _by_section(records):
        blocks.extend(_section_change(current, section))
        blocks.extend(_items(group))
        current = section
    blocks.extend(["</details>"] * max(0, len(current) - _MAX_HEADING))
    return "\n\n".join(blocks) + "\n" if blocks else ""


@dataclass
class _Node:
    records: list[Record] = field(default_factory=list)
    children: dict[str, _Node] = field(default_factory=dict)


def _by_section(records: Iterable[Record]) -> list[tuple[tuple[str, ...], list[Record]]]:
    """``(section, records)`` in tree order: each section below its parent, siblings as first seen."""
    root = _Node()
    for record in records:
        node = root
        for name in record.section:
            node = node.children.setdefault(name, _Node())
        node.records.append(record)
    out: list[tuple[tuple[str, ...], list[Record]]] = []

    def walk(node: _Node, path: tuple[str, ...]) -> None:
        if node.records:
            out.append((path, node.records))
        for name, child in node.children.items():
            walk(child, (*path, name))

    walk(root, ())
    return out


def _section_change(current: tuple[str, ...], section: tuple[str, ...]) -> list[str]:
    """Headings (and ``<details>`` below level 6) that take the reader from ``current`` to ``section``."""
    common = 0
    while common < min(len(current), len(section)) and current[common] == section[common]:
        common += 1
    # Back in an ancestor: name it again, as a heading only replaces those at its level and below.
    common = max(0, min(common, len(section) - 1))
    out = ["</details>"] * max(0, len(current) - max(common, _MAX_HEADING))
    for level, name in enumerate(section[common:], start=common + 1):
        if level <= _MAX_HEADING:
            out.append(f"{'#' * level} {name}")
        else:
            out.append(f"<details><summary>{name}</summary>")
    return out


def _items(records: list[Record]) -> list[str]:
    items, number = [], 0
    for record in records:
        if record.kind == "paper":
            number += 1
            items.append(_strong_item(record, f"{number}."))
        elif _link_title_fits(record):
            items.append(_link_item(record))
        else:
            items.append(_strong_item(record, "-"))
    return items


# --------------------------------------------------------------------------------------------
# Items


def _strong_item(record: Record, marker: str) -> str:
    """A paper's item, and that of another kind whose first link cannot be its title."""
    cited = _citation(record)
    head = f"{marker} {_badges(record.tags)}{_strong(record.title)}{cited or _venue_year(record)}"
    author_line = "" if cited else _author_line(record)
    tail = (_head_links(record), _todo(record))
    lines = [head, _join(author_line, *tail)] if author_line else [_join(head, *tail)]
    return _indented(lines + _body(record, inline=False), len(marker) + 1)


def _link_item(record: Record) -> str:
    (_, first), *rest = _head_links_pairs(record)
    head = f"- {_badges(record.tags)}[{record.title}]({first})"
    links = " ".join(_labelled(label, url) for label, url in rest)
    # One line of notes follows the title as in the source ("- [LLM Zoo](…): …"), unless a link
    # or a field line must come between them.
    inline = _inline_note_fits(record.notes) and not links and not _field_lines(record)[0]
    head = _join(f"{head}: {record.notes}" if inline else head, links, _todo(record))
    return _indented([head, *_body(record, inline=inline)], 2)


def _body(record: Record, *, inline: bool) -> list[str]:
    """The lines under the head: a field line, the notes as their own paragraphs, a field line."""
    before, after = _field_lines(record)
    body = [before] if before else []
    if record.notes and not inline:
        body += ["", *(line.rstrip() for line in record.notes.splitlines())]
    if after:
        body += ["", after]
    return body


def _link_title_fits(record: Record) -> bool:
    """A ``[Title](url)`` item gives back the record when its first link is labelled by its host.

    A bracket in the title could end the link text early; a code span holds it safely.
    """
    urls = _head_links_pairs(record)
    plain = not re.search(r"[\[\]]", record.title)
    return plain and bool(urls) and urls[0][0] == title_link_label(urls[0][1])


def _inline_note_fits(notes: str) -> bool:
    # The reader drops images and a TODO marker (==…==) from the text after a link title.
    return bool(notes) and "\n" not in notes and "![" not in notes and "==" not in notes


def _indented(lines: list[str], indent: int) -> str:
    pad = " " * indent
    return "\n".join([lines[0], *(pad + line if line else "" for line in lines[1:])])


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _todo(record: Record) -> str:
    return "==TODO==" if record.todo else ""


# --------------------------------------------------------------------------------------------
# Title line


def _strong(title: str) -> str:
    # A code span cannot hold a backtick; bold can, and the reader reads both as a title.
    return f"**{title}**" if "`" in title else f"`{title}`"


def _venue_year(record: Record) -> str:
    """`` Venue Year``, or the part of it that the reader gives back.

    A trailer the reader cannot parse would cost the title itself, so a venue it would not read
    (``arXiv`` without a year, a venue with digits) is left out rather than the record lost.
    """
    for venue, year in ((record.venue, record.year), (None, record.year)):
        text = _join(venue or "", str(year) if year else "")
        read = read_title_trailer(text)
        if read and read[:2] == (venue, year):
            return f" {text}" if text else ""
    return ""


def _citation(record: Record) -> str | None:
    """``(Dao et al., 2022)`` for the one-word names of a short citation, which need a year.

    The reader takes one-word names on an author line for "Last, First" pairs, so a short
    citation's names ("Dao", "Wang & Komatsuzaki") only come back written as a citation.
    """
    names = record.authors
    if not names or not record.year or record.venue or any(len(n.split()) != 1 for n in names):
        return None
    if record.authors_truncated:
        cited = f"{', '.join(names)} et al."
    elif len(names) == 1:
        cited = names[0]
    else:
        cited = f"{', '.join(names[:-1])} & {names[-1]}"
    text = f"({cited}, {record.year})"
    read = read_title_trailer(text)
    return f" {text}" if read and read[1:] == (record.year, names, record.authors_truncated) else None


def _badges(tags: Iterable[str]) -> str:
    # The alt text is the reader's fallback when a label reads as empty ("a-"); "]" would end it.
    return "".join(
        f"![{tag.replace(']', '')}](https://img.shields.io/badge/{_badge_label(tag)}-{_BADGE_COLOUR}) "
        for tag in tags
    )


_URL_UNSAFE = "%/?#()[]<>\"'\\\t"


def _badge_label(tag: str) -> str:
    """A static badge's label: shields.io reads ``--`` as a dash, ``__`` as ``_`` and ``_`` as a space.

    A space next to a space or an underscore is ``%20`` (shields.io reads both): as ``_`` it would
    run into a ``__`` ("a _b" and "a_ b" would both be ``a___b``). Characters that would end the
    URL or the Markdown image are percent-encoded too (the reader unquotes the label); other text
    (家族) stays readable, as the source writes it.
    """
    out = []
    for i, char in enumerate(tag):
        if char == " ":
            crowded = any(n in " _" for n in tag[max(0, i - 1) : i] + tag[i + 1 : i + 2])
            out.append("%20" if crowded else "_")
        elif char in "-_":
            out.append(char * 2)
        else:
            out.append(quote(char, safe="") if char in _URL_UNSAFE else char)
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Author line and links


def _author_line(record: Record) -> str:
    if not record.authors:
        return ""
    return ", ".join(record.authors) + (", et al." if record.authors_truncated else "")


def _head_links(record: Record) -> str:
    return " ".join(_labelled(label, url) for label, url in _head_links_pairs(record))


def _labelled(label: str, url: str) -> str:
    return f"[[{label}]({url})]"


def _head_links_pairs(record: Record) -> list[tuple[str, str]]:
    """The links written on the head: ids without a link first, then those the notes do not make."""
    in_notes = {(_unnumbered(label), url) for label, url in stated_links(record.notes)}
    kept = [
        (label, url)
        for label, url in record.urls
        if (_unnumbered(label), url) not in in_notes or _carries_id(record, url)
    ]
    return _id_links(record) + kept


def _unnumbered(label: str) -> str:
    # The reader numbers a repeated label (project, project2…): compare what was written.
    return re.sub(r"(?<=\D)\d+$", "", label)


def _carries_id(record: Record, url: str) -> bool:
    arxiv = parse_arxiv(url)
    return bool(
        (arxiv and arxiv[0] == record.arxiv_id)
        or (record.acl_id and parse_acl(url) == record.acl_id)
        or (record.doi and "doi" in url.lower() and parse_doi(url) == record.doi.lower())
    )


def _id_links(record: Record) -> list[tuple[str, str]]:
    """Links made from ids that no URL of the record points at, so that the reader finds the ids."""
    urls = [url for _, url in record.urls]
    made: list[tuple[str, str]] = []
    if record.arxiv_id and not any((parse_arxiv(u) or ("",))[0] == record.arxiv_id for u in urls):
        version = f"v{record.arxiv_version}" if record.arxiv_version else ""
        made.append(("pdf", f"https://arxiv.org/abs/{record.arxiv_id}{version}"))
    if record.acl_id and not any(parse_acl(u) == record.acl_id for u in urls):
        made.append(("pdf", f"https://aclanthology.org/{record.acl_id}/"))
    if record.doi and not any("doi" in u.lower() and parse_doi(u) == record.doi.lower() for u in urls):
        made.append(("doi", f"https://doi.org/{record.doi}"))
    return _distinct_labels(made, {label for label, _ in record.urls})


def _distinct_labels(links: list[tuple[str, str]], taken: set[str]) -> list[tuple[str, str]]:
    out = []
    for base, url in links:
        label, n = base, 2
        while label in taken:
            label, n = f"{base}{n}", n + 1
        taken.add(label)
        out.append((label, url))
    return out


# --------------------------------------------------------------------------------------------
# Models, tasks and datasets

_FIELD_LABELS = (("models", "模型"), ("tasks", "任务"), ("datasets", "数据集"))


def _field_lines(record: Record) -> tuple[str | None, str | None]:
    """A field line to write before the notes, and one after them, for what the notes do not state."""
    wanted = (record.models, record.tasks, record.datasets)
    stated = stated_details(record.notes)
    if stated == wanted:
        return None, None
    extra = tuple(tuple(v for v in want if v not in said) for want, said in zip(wanted, stated, strict=True))
    after = _field_line(extra)
    if stated_details(f"{record.notes}\n\n{after}") == wanted:
        return None, after
    # The notes name values in another order, or in a table (read last): say everything first.
    return _field_line(wanted), None


def _field_line(values: tuple[tuple[str, ...], ...]) -> str:
    parts = [
        f"**{label}**：{', '.join(vals)}"
        for (_, label), vals in zip(_FIELD_LABELS, values, strict=True)
        if vals
    ]
    return "，".join(parts)


# --------------------------------------------------------------------------------------------
# README table

_TABLE_HEADER = "| Title | Authors | Venue | Year | Tags | Links |\n| --- | --- | --- | --- | --- | --- |"


def to_markdown_table(records: Sequence[Record]) -> str:
    """A compact pipe table for a README: one row per record, the title linked to its best URL."""
    rows = [_table_row(record) for record in records]
    return "\n".join([_TABLE_HEADER, *rows]) + "\n"


def _table_row(record: Record) -> str:
    best = best_url(record)
    title = _link_text(record.title)
    cells = [
        f"[{title}]({_table_url(best)})" if best else title,
        cited_authors(record),
        record.venue or "",
        str(record.year) if record.year else "",
        ", ".join(record.tags),
        " ".join(f"[{_link_text(label)}]({_table_url(url)})" for label, url in _table_links(record)),
    ]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def best_url(record: Record) -> str | None:
    """The paper itself if linked (pdf/paper), else a link made from an id, else the first link."""
    for label, url in record.urls:
        if _unnumbered(label) in {"pdf", "paper"}:
            return url
    made = _id_links(record.with_(urls=()))
    if made:
        return made[0][1]
    return record.urls[0][1] if record.urls else None


def _table_links(record: Record) -> list[tuple[str, str]]:
    return list(record.urls) or _id_links(record)


def _link_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _table_url(url: str) -> str:
    # A space or ")" would end the link; percent-encoding them keeps the same address.
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _cell(text: str) -> str:
    # GFM splits cells on "|" before reading the inline Markdown, so "\|" works inside links too.
    return re.sub(r"\s+", " ", text).replace("|", "\\|").strip()
