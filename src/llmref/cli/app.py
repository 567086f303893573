"""The Typer app: thin commands that open the library, call one service and show the result.

Only ``typer`` is imported at the top: ``llmref --help`` and ``llmref search`` run many times a
day, so everything heavier (sqlite-utils, arxiv, httpx, bibtexparser) waits for the command
that needs it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from .. import __version__
from ..errors import LlmrefError, UsageError

F = TypeVar("F", bound=Callable[..., Any])
#: The most results a --limit may ask for: more than any library holds, less than SQLite's limit.
MOST = 10**9

app = typer.Typer(
    help="A reference manager for LLM research papers: a local library, instant search, clean citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def command(name: str | None = None, **kwargs: Any) -> Callable[[F], F]:
    """Register a command whose llmref errors become ``Error:``/``Hint:`` lines and an exit code."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kw: Any) -> Any:
            try:
                return func(*args, **kw)
            except LlmrefError as exc:
                from .output import report_error

                report_error(exc)
                raise typer.Exit(exc.exit_code) from None

        app.command(name or func.__name__, **kwargs)(wrapper)
        return func

    return decorate


def only_command_in(args: list[str]) -> None:
    """Keep just the command ``args`` run, so Typer builds one command instead of all of them.

    Building every command's Click parameters costs ~20 ms on each start; ``llmref search``
    should not pay for ``rm``. Without a known command (``llmref --help``) all stay.
    """
    name = None
    rest = iter(args)
    for arg in rest:
        if arg == "--db":
            next(rest, None)
        elif not arg.startswith("-"):
            name = arg
            break
    chosen = [c for c in app.registered_commands if c.name == name]
    if chosen:
        app.registered_commands[:] = chosen


def _version(value: bool) -> None:
    if value:
        print(f"llmref {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            envvar="LLMREF_DB",
            help="Library file. Default: library.db in the user data directory.",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """A reference manager for LLM research papers: a local library, instant search, clean citations.

    The first command creates the library, filled with the curated list that ships with llmref.
    """
    ctx.obj = db


def _db_path(ctx: typer.Context) -> Path:
    from ..config import default_db_path

    given: Path | None = ctx.find_root().obj
    return given.expanduser() if given else default_db_path()


def _library(ctx: typer.Context, *, dry_run: bool = False) -> Any:
    """The library, created on first use. For a dry run a missing library is made in a folder
    of its own, thrown away at the end: what the run shows is what the real first run would do,
    and nothing is written where the library would be."""
    from ..services import open_library
    from ..store.library import Library

    path = _db_path(ctx)
    if dry_run and Library.missing(path):
        import shutil
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="llmref-dry-run-"))
        ctx.call_on_close(lambda: shutil.rmtree(folder, ignore_errors=True))  # after the close below
        path = folder / path.name
    library = open_library(path, upgrading=lambda: _upgrading(path))
    ctx.call_on_close(library.close)
    return library


def _upgrading(path: Path) -> None:
    from .output import message

    message(f"Upgrading {path} for this version of llmref (once; a large library takes minutes)...")


# -- options shared by search, list and the facet commands --------------------------------------

TagOpt = Annotated[
    list[str], typer.Option("--tag", "-t", help="Only records with this tag (repeat for all of several).")
]
AuthorOpt = Annotated[
    list[str],
    typer.Option(
        "--author", "-a", help="Only records with an author of this family name, or whose name starts so."
    ),
]
CategoryOpt = Annotated[
    list[str],
    typer.Option(
        "--category", help="Only records in one of these arXiv categories (cs.CL,cs.LG; cs. for all cs)."
    ),
]
YearOpt = Annotated[
    str | None, typer.Option("--year", "-y", help="A year (2021) or a range (2021-2023, 2021-, -2020).")
]
VenueOpt = Annotated[
    str | None, typer.Option("--venue", help="Only records from this venue (ACL, ICLR, arXiv…).")
]
ModelOpt = Annotated[
    list[str], typer.Option("--model", "-m", help="Only records that use a model whose name contains this.")
]
TaskOpt = Annotated[
    list[str], typer.Option("--task", help="Only records evaluated on a task whose name contains this.")
]
SectionOpt = Annotated[
    list[str], typer.Option("--section", "-s", help="Only records in a section whose heading contains this.")
]
KindOpt = Annotated[
    str | None,
    typer.Option("--kind", "-k", help="paper, model, project, blog, dataset, tool, demo or article."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")]


def _filters(
    tag: list[str],
    author: list[str],
    year: str | None,
    venue: str | None,
    model: list[str],
    task: list[str],
    section: list[str],
    kind: str | None,
    category: Sequence[str] = (),
) -> Any:
    from ..store.query import Filters, parse_years

    year_from, year_to = parse_years(year) if year else (None, None)
    return Filters(
        tags=tuple(tag),
        authors=tuple(author),
        year_from=year_from,
        year_to=year_to,
        venue=venue,
        models=tuple(model),
        tasks=tuple(task),
        sections=tuple(section),
        kind=kind,
        categories=tuple(category),
    )


# -- reading -------------------------------------------------------------------------------------


@command()
def search(
    ctx: typer.Context,
    query: Annotated[
        list[str] | None,
        typer.Argument(help="Words to look for; every word must match.", show_default=False),
    ] = None,
    tag: TagOpt = [],
    author: AuthorOpt = [],
    year: YearOpt = None,
    venue: VenueOpt = None,
    model: ModelOpt = [],
    task: TaskOpt = [],
    section: SectionOpt = [],
    kind: KindOpt = None,
    category: CategoryOpt = [],
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=MOST, help="Show at most this many results.")
    ] = 20,
    raw: Annotated[
        bool, typer.Option("--raw", help="Read the query as FTS5 syntax (OR, NEAR, prefix*, title:…).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Search titles, authors, abstracts, tags, models, tasks and notes; best matches first.

    Any text is a valid query: GPT-4, low-rank and chain-of-thought are words, not syntax. Words
    match as prefixes, so **lora** finds LoRA and AdaLoRA. Without a query (or with one that
    has no words, such as *), lists what the filters select.

    Example: llmref search low-rank adaptation --year 2021-2023
    """
    from ..store.fts import has_words
    from . import output

    filters = _filters(tag, author, year, venue, model, task, section, kind, category)
    library = _library(ctx)
    text = " ".join(query or [])
    if text.strip() and not raw and not has_words(text):
        # `llmref search '*'` asks for everything; say so rather than fail on punctuation.
        output.message(f"{text.strip()!r} has no words to search for: listing what the filters select.")
        text = ""
    if text.strip():
        hits = library.search(text, filters, limit=limit, raw=raw)
        records = [h.record for h in hits]
        if as_json:
            output.print_json([output.record_json(h.record, score=float(f"{h.score:.4g}")) for h in hits])
            return
    else:
        records = library.list(filters, limit=limit)
        if as_json:
            output.print_json([output.record_json(r) for r in records])
            return
    if not records:
        output.message(f"No records match{' ' + repr(text) if text.strip() else ''}.")
        return
    output.records_table(records)


@command("list")
def list_(
    ctx: typer.Context,
    tag: TagOpt = [],
    author: AuthorOpt = [],
    year: YearOpt = None,
    venue: VenueOpt = None,
    model: ModelOpt = [],
    task: TaskOpt = [],
    section: SectionOpt = [],
    kind: KindOpt = None,
    category: CategoryOpt = [],
    sort: Annotated[
        str, typer.Option("--sort", help="added (the list's order), key, year or title.")
    ] = "added",
    reverse: Annotated[bool, typer.Option("--reverse", "-r", help="Reverse the order.")] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, max=MOST, help="Show at most this many.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List records, in the curated list's order or sorted.

    Example: llmref list --section PEFT --sort year --reverse
    """
    from . import output

    filters = _filters(tag, author, year, venue, model, task, section, kind, category)
    records = _library(ctx).list(filters, sort=sort, reverse=reverse, limit=limit)
    if as_json:
        output.print_json([output.record_json(r) for r in records])
        return
    if not records:
        output.message("No records match.")
        return
    output.records_table(records, caption=f"{len(records)} record{'s' if len(records) != 1 else ''}")


@command()
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="A citation key, arXiv id, DOI, ACL Anthology id or URL.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one record in full.

    Example: llmref show hu2021lora   (or: llmref show 2106.09685)
    """
    from . import output

    record = _library(ctx).find(ref)
    if as_json:
        output.print_json(output.record_json(record))
    else:
        output.record_detail(record)


def _facet_command(facet: str, heading: str, example: str) -> None:
    def facet_counts(
        ctx: typer.Context,
        tag: TagOpt = [],
        year: YearOpt = None,
        section: SectionOpt = [],
        kind: KindOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        from . import output

        filters = _filters(tag, [], year, None, [], [], section, kind)
        rows = _library(ctx).facet_counts(facet, filters)
        if as_json:
            output.print_json([{"name": name, "count": n} for name, n in rows])
        elif rows:
            output.counts_table(heading, rows)
        else:
            output.message(f"No {facet} yet.")

    facet_counts.__doc__ = (
        f"List the {facet} in the library with how many records have each.\n\nExample: {example}"
    )
    facet_counts.__name__ = facet
    command(facet)(facet_counts)


_facet_command("tags", "Tag", "llmref tags --section PEFT")
_facet_command("models", "Model", "llmref models --year 2021-")
_facet_command("tasks", "Task", "llmref tasks --tag PrefixTuning")
_facet_command("datasets", "Dataset", "llmref datasets --json")


@command()
def stats(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Count what the library holds: records by kind, identifiers, authors, tags, sections.

    Example: llmref stats
    """
    from . import output

    data = _library(ctx).stats()
    if as_json:
        output.print_json(data)
    else:
        output.stats_view(data)


# -- curating ------------------------------------------------------------------------------------


@command(context_settings={"ignore_unknown_options": True})
def tag(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="The record: a key or any identifier.")],
    changes: Annotated[
        list[str], typer.Argument(help="+Tag adds a tag (so does a bare Tag), -Tag removes one.")
    ],
) -> None:
    """Add and remove tags.

    Example: llmref tag hu2021lora +PEFT -Adapter
    """
    from .. import services
    from . import output

    _, updated = _library(ctx).update(ref, lambda record: services.edit_tags(record, changes))
    output.message(f"{updated.key}: {', '.join(updated.tags) or 'no tags'}")


@command()
def note(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="The record: a key or any identifier.")],
    text: Annotated[
        str | None, typer.Argument(help="Text to add; without it, the notes are printed.")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the notes instead of appending.")
    ] = False,
) -> None:
    """Append to a record's notes (or replace them, or print them).

    Example: llmref note hu2021lora "Rank 4 is enough for GPT-3 175B."
    """
    from .. import services
    from . import output

    library = _library(ctx)
    if text is None:
        record = library.find(ref)
        if replace:
            raise UsageError("--replace needs the new text.", f'llmref note {record.key} "…" --replace')
        if record.notes:
            print(record.notes)
        return
    before, after = library.update(ref, lambda record: services.edit_note(record, text, replace=replace))
    done = (
        "unchanged"
        if after == before
        else "cleared"
        if not after.notes
        else "replaced"
        if replace
        else "updated"
    )
    output.message(f"{after.key}: notes {done}")


@command("set")
def set_(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="The record: a key or any identifier.")],
    model: Annotated[list[str], typer.Option("--model", "-m", help="Add a model (repeatable).")] = [],
    task: Annotated[list[str], typer.Option("--task", help="Add a task (repeatable).")] = [],
    dataset: Annotated[list[str], typer.Option("--dataset", help="Add a dataset (repeatable).")] = [],
    drop_model: Annotated[list[str], typer.Option("--drop-model", help="Remove a model.")] = [],
    drop_task: Annotated[list[str], typer.Option("--drop-task", help="Remove a task.")] = [],
    drop_dataset: Annotated[list[str], typer.Option("--drop-dataset", help="Remove a dataset.")] = [],
    title: Annotated[str | None, typer.Option("--title", help="Correct the title (the key stays).")] = None,
    year: Annotated[int | None, typer.Option("--year", min=1000, max=2999, help="Set the year.")] = None,
    venue: Annotated[str | None, typer.Option("--venue", help="Set the venue ('' clears it).")] = None,
    kind: KindOpt = None,
    section: Annotated[
        str | None, typer.Option("--section", help="Section path, parts separated by ' > '.")
    ] = None,
    todo: Annotated[
        bool | None, typer.Option("--todo/--done", help="Mark as still to read, or read.")
    ] = None,
) -> None:
    """Change curated fields of a record. The citation key never changes.

    Example: llmref set hu2021lora --model LLaMA --task MMLU
    """
    from .. import services
    from . import output

    before, after = _library(ctx).update(
        ref,
        lambda record: services.edit_fields(
            record,
            add={"models": model, "tasks": task, "datasets": dataset},
            drop={"models": drop_model, "tasks": drop_task, "datasets": drop_dataset},
            title=title,
            year=year,
            venue=venue,
            kind=kind,
            todo=todo,
            section=section.split(" > ") if section is not None else None,
        ),
    )
    output.message(f"{after.key}: {'updated' if after != before else 'nothing to change'}")


@command()
def rm(
    ctx: typer.Context,
    refs: Annotated[list[str], typer.Argument(help="Records to remove: keys or identifiers.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove records from the library (asks first unless --yes).

    Example: llmref rm hu2021lora --yes
    """
    import sys

    from . import output

    library = _library(ctx)
    records = list({r.key: r for r in (library.find(ref) for ref in refs)}.values())
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("Not removing without confirmation.", "Pass --yes to remove without asking.")
        names = "\n".join(f"  {r.key}  {r.title}" for r in records)
        if not typer.confirm(f"Remove {len(records)} record(s)?\n{names}\n", default=False):
            output.message("Nothing removed.")
            raise typer.Exit(1)
    library.delete_many([r.key for r in records if r.key])
    output.message(f"Removed {', '.join(r.key or '' for r in records)}.")


@command()
def init(
    ctx: typer.Context,
    empty: Annotated[
        bool, typer.Option("--empty", help="Start without the bundled curated library.")
    ] = False,
) -> None:
    """Create the library explicitly (any command creates it on first use, with the curated list).

    Example: llmref --db ~/papers.db init --empty
    """
    from .. import services
    from . import output

    path = _db_path(ctx)
    library = services.init_library(path, empty=empty)
    count = len(library.keys())
    library.close()
    output.message(f"Created {path} with {count} record{'s' if count != 1 else ''}.")


# Commands that reach arXiv, and import/export, live in their own modules; importing them
# registers them on the app.
from . import exchange, fetching  # noqa: E402, F401
