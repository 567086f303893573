"""Commands that talk to arXiv: add, refresh, resolve, discover.

Registered on the app by importing this module (at the end of :mod:`llmref.cli.app`); the
network code itself is imported only when one of these commands runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import UsageError
from .app import JsonOpt, _library, command

if TYPE_CHECKING:
    from ..metadata import Curation, Outcome, Report

#: More ids than this get a progress bar.
HANDFUL = 5

TagsOpt = Annotated[list[str], typer.Option("--tag", "-t", help="Tag what is added (repeatable).")]
NoteOpt = Annotated[str | None, typer.Option("--note", help="Add this note to what is added.")]
SectionPathOpt = Annotated[
    str | None, typer.Option("--section", help="Section path, parts separated by ' > '.")
]
ModelsOpt = Annotated[list[str], typer.Option("--model", "-m", help="Models the papers use (repeatable).")]
TasksOpt = Annotated[list[str], typer.Option("--task", help="Tasks the papers evaluate on (repeatable).")]


def _curation(
    tag: list[str], note: str | None, section: str | None, model: list[str], task: list[str]
) -> Curation:
    from ..metadata import Curation

    return Curation(
        tags=tuple(tag),
        notes=note or "",
        section=tuple(p.strip() for p in section.split(" > ") if p.strip()) if section else (),
        models=tuple(model),
        tasks=tuple(task),
    )


def _source() -> Any:
    from ..sources.arxiv import ArxivSource

    return ArxivSource()


@contextmanager
def _progress(what: str) -> Iterator[Callable[[int, int], None]]:
    """Report (done, total) to a progress bar on stderr, shown once a job has more than a
    handful of items."""
    from .output import stderr

    state: dict[str, Any] = {}

    def advance(done: int, total: int) -> None:
        if total <= HANDFUL:
            return
        if "bar" not in state:
            from rich.progress import Progress

            state["bar"] = Progress(console=stderr(), transient=True)
            state["bar"].start()
            state["task"] = state["bar"].add_task(what, total=total)
        state["bar"].update(state["task"], completed=done, total=total)

    try:
        yield advance
    finally:
        if "bar" in state:
            state["bar"].stop()


@command(no_args_is_help=True)
def add(
    ctx: typer.Context,
    refs: Annotated[
        list[str] | None, typer.Argument(help="arXiv ids or URLs, in any form people paste.")
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file", "-f", help="Read refs from a file, one a line (- for stdin); # starts a comment."
        ),
    ] = None,
    tag: TagsOpt = [],
    note: NoteOpt = None,
    section: SectionPathOpt = None,
    model: ModelsOpt = [],
    task: TasksOpt = [],
    as_json: JsonOpt = False,
) -> None:
    """Add papers from arXiv. A paper already in the library is filled in, never duplicated.

    Accepts 2106.09685, 2106.09685v2, arXiv:2106.09685, abs and pdf URLs, old-style ids such as
    hep-th/9901001 and the arXiv DOI. Up to 100 ids go in one request.

    Example: llmref add arxiv:2106.09685 2303.10512 --tag PEFT
    """
    from .. import metadata

    wanted = list(refs or [])
    if from_file is not None:
        wanted += metadata.refs_from_lines(_read_lines(from_file))
    metadata.arxiv_ids(wanted)  # malformed refs are refused before the library is even opened
    library = _library(ctx)
    with _progress("Fetching from arXiv") as progress:
        report = metadata.add(
            library, wanted, _source(), _curation(tag, note, section, model, task), progress
        )
    _show_report(report, as_json)


def _read_lines(path: Path) -> list[str]:
    if str(path) == "-":
        return sys.stdin.read().lstrip("\ufeff").splitlines()
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise UsageError(
            f"Cannot read {path}: {exc.strerror}.", "Give a file with one arXiv id a line."
        ) from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text.", "Give a text file with one arXiv id a line.") from exc


def _show_report(report: Report, as_json: bool) -> None:
    from . import output

    if as_json:
        output.print_json([_outcome_json(o) for o in report.outcomes])
    else:
        _outcomes_table(report.outcomes)
        counts = ", ".join(
            f"{report.count(s)} {s}"
            for s in ("added", "updated", "unchanged", "not found", "failed")
            if report.count(s)
        )
        output.message(counts or "Nothing to do.")
    if report.count("not found") or report.count("failed"):
        raise typer.Exit(1)


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "ref": outcome.ref,
        "key": outcome.key,
        "title": outcome.title,
        "reason": outcome.reason,
    }


def _outcomes_table(outcomes: Sequence[Outcome]) -> None:
    from . import table

    columns = [
        table.Column("Status", wrap=False),
        table.Column("Key", style="cyan", wrap=False),
        table.Column("Ref", max_width=24),
        table.Column("Title / reason", flexible=True),
    ]
    rows = [
        [
            o.status,
            o.key or "",
            o.ref,
            "\n".join(x for x in (o.title, o.reason) if x),
        ]
        for o in outcomes
    ]
    sys.stdout.write(table.render(columns, rows, width=table.terminal_width(), colour=table.use_colour()))


@command()
def refresh(
    ctx: typer.Context,
    refs: Annotated[list[str] | None, typer.Argument(help="Records to refresh: keys or identifiers.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every record with an arXiv id.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Show what would change; write nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Fetch arXiv's metadata again: abstracts, full author lists, new versions, journal references.

    Shows what changed, field by field. Tags, notes and other curated fields are never touched.

    Example: llmref refresh --all --dry-run
    """
    from .. import metadata
    from . import output

    if not refs and not all_:
        raise UsageError(
            "Name the records to refresh, or use --all.",
            "llmref refresh hu2021lora  (or: llmref refresh --all)",
        )
    library = _library(ctx, dry_run=dry_run)
    with _progress("Fetching from arXiv") as progress:
        found, problems = metadata.refresh(library, refs or [], _source(), dry_run=dry_run, progress=progress)
    if as_json:
        output.print_json(
            {
                "changed": [
                    {
                        "key": c.key,
                        "fields": {
                            name: {"before": _plain(b), "after": _plain(a)} for name, b, a in c.fields
                        },
                    }
                    for c in found
                ],
                "problems": [_outcome_json(o) for o in problems],
                "written": not dry_run,
            }
        )
    else:
        for change in found:
            print(change.key)
            for name, before, after in change.fields:
                print(f"  {name}: {_short(before)} → {_short(after)}")
        verb = "would change" if dry_run else "changed"
        output.message(f"{len(found)} record{'s' if len(found) != 1 else ''} {verb}.")
        for problem in problems:
            output.message(f"{problem.key}: {problem.reason}")
    if problems:
        raise typer.Exit(1)


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return [list(v) if isinstance(v, tuple) else v for v in value]
    return value


def _short(value: object, width: int = 60) -> str:
    if value is None or value == () or value == "":
        return "—"
    if isinstance(value, tuple):
        value = ", ".join(": ".join(v) if isinstance(v, tuple) else str(v) for v in value)
    text = " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


@command()
def resolve(
    ctx: typer.Context,
    refs: Annotated[
        list[str] | None,
        typer.Argument(help="Records to resolve (default: every paper without an arXiv id)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Show what would be linked; write nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Find arXiv ids for papers that have none, by searching arXiv for their exact title.

    Links a paper only when arXiv's title is the same (ignoring case and punctuation) and the
    year fits; lists the rest with arXiv's closest title. One request per paper, 3 s apart.

    Example: llmref resolve --dry-run
    """
    from .. import metadata
    from . import output

    library = _library(ctx, dry_run=dry_run)
    with _progress("Searching arXiv") as progress:
        linked, unresolved = metadata.resolve(
            library, refs or [], _source(), dry_run=dry_run, progress=progress
        )
    if as_json:
        output.print_json(
            {
                "linked": [_outcome_json(o) for o in linked],
                "unresolved": [_outcome_json(o) for o in unresolved],
            }
        )
        return
    _outcomes_table([*linked, *unresolved])
    verb = "would be linked" if dry_run else "linked"
    output.message(f"{len(linked)} {verb}, {len(unresolved)} left without an arXiv id.")


@command(no_args_is_help=True)
def discover(
    ctx: typer.Context,
    query: Annotated[
        list[str] | None, typer.Argument(help="Words to find in titles, abstracts and authors.")
    ] = None,
    author: Annotated[str | None, typer.Option("--author", "-a", help="Only papers by this author.")] = None,
    category: Annotated[
        str | None, typer.Option("--category", "-c", help="Only this arXiv category, e.g. cs.CL.")
    ] = None,
    since: Annotated[
        int | None, typer.Option("--since", min=1991, max=2999, help="Only papers submitted since this year.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=100, help="At most this many results.")
    ] = 10,
    newest: Annotated[bool, typer.Option("--newest", help="Newest first instead of most relevant.")] = False,
    add_all: Annotated[bool, typer.Option("--add", help="Add every result to the library.")] = False,
    pick: Annotated[
        str | None, typer.Option("--pick", help="Add the results with these numbers, e.g. 1,3-4.")
    ] = None,
    tag: TagsOpt = [],
    as_json: JsonOpt = False,
) -> None:
    """Search arXiv itself, marking what the library already has; --add or --pick adds results.

    Example: llmref discover "prefix tuning" --since 2021 --pick 1,2 --tag PEFT
    """
    from .. import metadata
    from ..keys import cited_authors
    from ..models import Record
    from . import output, table

    text = " ".join(query or [])
    search = metadata.discovery_query(text, author=author, category=category, since=since)
    chosen = _numbers(pick) if pick else None
    library = _library(ctx)
    entries = _source().search(search, max_results=limit, by_date=newest)
    held = {e.arxiv_id: library.matching(metadata.record_from_entry(e)) for e in entries}
    out_of_range = bool(chosen) and max(chosen or [0]) > len(entries)
    to_add = [e for i, e in enumerate(entries, 1) if add_all or (chosen and i in chosen and not out_of_range)]
    report = metadata.add_entries(
        library, [(e.arxiv_id, e) for e in to_add], _curation(tag, None, None, [], [])
    )
    if as_json:
        results = [
            {
                "n": i,
                "arxiv_id": e.arxiv_id,
                "title": e.title,
                "authors": list(e.authors),
                "published": e.published,
                "primary_category": e.primary_category,
                "in_library": held[e.arxiv_id].key if held[e.arxiv_id] else None,
            }
            for i, e in enumerate(entries, 1)
        ]
        output.print_json({"results": results, "added": [_outcome_json(o) for o in report.outcomes]})
    elif entries:
        rows = [
            [str(i), (held[e.arxiv_id] or Record(title="")).key or "", e.arxiv_id, e.published[:4], e.title,
             cited_authors(Record(title=e.title, authors=e.authors))]
            for i, e in enumerate(entries, 1)
        ]  # fmt: skip
        columns = [
            table.Column("#", wrap=False, align_right=True),
            table.Column("In library", style="cyan", wrap=False),
            table.Column("arXiv", wrap=False),
            table.Column("Year", wrap=False),
            table.Column("Title", flexible=True),
            table.Column("Authors", max_width=16),
        ]
        sys.stdout.write(table.render(columns, rows, width=table.terminal_width(), colour=table.use_colour()))
        if report.outcomes:
            _outcomes_table(report.outcomes)
    else:
        output.message("arXiv has nothing for that.")
    if out_of_range:
        raise UsageError(
            f"There are only {len(entries)} results; nothing was added.", "Pick numbers from the list above."
        )
    if report.count("failed"):
        raise typer.Exit(1)


def _numbers(text: str) -> set[int]:
    numbers: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                low, high = (int(x) for x in part.split("-", 1))
                numbers.update(range(low, high + 1))
            elif part:
                numbers.add(int(part))
        except ValueError:
            raise UsageError(
                f"Cannot read {text!r} as result numbers.", "Write them like --pick 1,3-4."
            ) from None
    if not numbers or min(numbers) < 1:
        raise UsageError(f"Cannot read {text!r} as result numbers.", "Write them like --pick 1,3-4.")
    return numbers
