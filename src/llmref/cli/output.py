"""How results look: rich tables for people, JSON for scripts (data on stdout, messages on stderr).

Every string from a record goes into ``rich.text.Text``, never into markup: titles contain
brackets (``[v2]``) that rich would otherwise swallow or choke on.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import LlmrefError
from ..models import Record

if TYPE_CHECKING:
    from rich.console import Console


def stdout() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def report_error(exc: LlmrefError) -> None:
    from rich.text import Text

    err = stderr()
    err.print(Text.assemble(("Error: ", "bold red"), exc.message))
    if exc.hint:
        err.print(Text.assemble(("Hint: ", "bold"), exc.hint))


def message(text: str, style: str = "") -> None:
    from rich.text import Text

    stderr().print(Text(text, style=style))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def record_json(record: Record, **extra: Any) -> dict[str, Any]:
    """A record as ``--json`` shows it: the stored fields plus ``identified``."""
    return {**record.to_dict(), "identified": record.identified, **extra}


def records_table(records: Sequence[Record], *, caption: str | None = None) -> None:
    from ..keys import cited_authors
    from . import table

    width = table.terminal_width()
    columns = [
        table.Column("Key", style="cyan", wrap=False),
        table.Column("Year", wrap=False, align_right=True),
        table.Column("Title", flexible=True),
        table.Column("Authors", max_width=16),
        table.Column("Venue", max_width=14),
        table.Column("Tags", style="green", max_width=24),
    ]
    rows = [
        [
            r.key or "",
            str(r.year or ""),
            r.title + (f" ({r.kind})" if r.kind != "paper" else ""),
            cited_authors(r),
            r.venue or "",
            ", ".join(r.tags),
        ]
        for r in records
    ]
    # When a Tags column would leave the title too little room, tags go under the title.
    if table.widths(columns, rows, width)[2] < 30:
        columns = [*columns[:2], table.Column("Title / tags", flexible=True), *columns[3:5]]
        rows = [[*row[:2], row[2] + ("\n" + row[5] if row[5] else ""), *row[3:5]] for row in rows]
    text = table.render(columns, rows, width=width, colour=table.use_colour())
    sys.stdout.write(text + (f"{caption}\n" if caption else ""))
    sys.stdout.flush()


def record_detail(record: Record) -> None:
    from rich.table import Table
    from rich.text import Text

    out = stdout()
    out.print(Text(record.title, style="bold"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")

    def row(label: str, value: str | None) -> None:
        if value:
            grid.add_row(label, Text(value))

    row("key", record.key)
    row("kind", record.kind)
    authors = ", ".join(record.authors) + (", et al." if record.authors_truncated else "")
    row("authors", authors)
    row("year", str(record.year) if record.year else None)
    row("venue", record.venue)
    if record.arxiv_id:
        row("arXiv", record.arxiv_id + (f" (v{record.arxiv_version})" if record.arxiv_version else ""))
    row("DOI", record.doi)
    row("ACL", record.acl_id)
    for label, url in record.urls:
        row(label, url)
    row("section", " > ".join(record.section))
    row("tags", ", ".join(record.tags))
    row("models", ", ".join(record.models))
    row("tasks", ", ".join(record.tasks))
    row("datasets", ", ".join(record.datasets))
    row("status", "TODO" if record.todo else None)
    if not record.identified:
        row("identifier", "none yet (title only)")
    out.print(grid)
    if record.abstract:
        out.print(Text("\nAbstract", style="bold"))
        out.print(Text(record.abstract))
    if record.notes:
        out.print(Text("\nNotes", style="bold"))
        out.print(Text(record.notes))


def counts_table(title: str, rows: Iterable[tuple[str, int]]) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column(title)
    table.add_column("Records", justify="right")
    for name, count in rows:
        table.add_row(Text(name), str(count))
    stdout().print(table)


def stats_view(stats: dict[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    grid.add_row("library", Text(stats["path"]))
    grid.add_row("schema", stats["schema"])
    grid.add_row("records", str(stats["records"]))
    for kind, n in stats["kinds"].items():
        grid.add_row(f"  {kind}", str(n))
    ids = ", ".join(f"{scheme} {n}" for scheme, n in stats["identifiers"].items())
    grid.add_row("identifiers", ids or "none")
    grid.add_row("title only", str(stats["without_identifier"]))
    grid.add_row("with abstract", str(stats["with_abstract"]))
    grid.add_row("marked TODO", str(stats["todo"]))
    years = stats["years"]
    if years["first"]:
        grid.add_row("years", f"{years['first']}–{years['last']}")
    for facet in ("authors", "tags", "models", "tasks", "datasets"):
        grid.add_row(facet, str(stats[facet]))
    grid.add_row("sections", str(len(stats["sections"])))
    stdout().print(grid)
