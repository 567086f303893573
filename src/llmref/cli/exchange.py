"""Export and import commands (registered on the app by importing this module)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError
from .app import (
    AuthorOpt,
    CategoryOpt,
    KindOpt,
    ModelOpt,
    SectionOpt,
    TagOpt,
    TaskOpt,
    VenueOpt,
    YearOpt,
    _filters,
    _library,
    command,
)


@command()
def export(
    ctx: typer.Context,
    query: Annotated[
        list[str] | None, typer.Argument(help="Only records matching these words (as in search).")
    ] = None,
    bibtex: Annotated[bool, typer.Option("--bibtex", help="BibTeX (the default).")] = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="A curated Markdown list, like the bundled one.")
    ] = False,
    markdown_table: Annotated[
        bool, typer.Option("--markdown-table", help="A compact Markdown table.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="llmref JSON: every field, as data/seed.json.")
    ] = False,
    csl_json: Annotated[bool, typer.Option("--csl-json", help="CSL-JSON, for pandoc and Zotero.")] = False,
    key: Annotated[
        list[str], typer.Option("--key", help="Only this record: a key or identifier (repeatable).")
    ] = [],
    tag: TagOpt = [],
    author: AuthorOpt = [],
    year: YearOpt = None,
    venue: VenueOpt = None,
    model: ModelOpt = [],
    task: TaskOpt = [],
    section: SectionOpt = [],
    kind: KindOpt = None,
    category: CategoryOpt = [],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Export records as BibTeX, a Markdown list or table, JSON or CSL-JSON.

    Selects with the same filters and query as search, or explicit --key records; everything
    by default. BibTeX is sorted by key (case ignored) and written as UTF-8.

    Example: llmref export --bibtex --tag LoRA -o refs.bib
    """
    from .. import exchange
    from ..store.query import NO_FILTERS
    from . import output as out

    flags = {"bibtex": bibtex, "markdown": markdown, "markdown-table": markdown_table, "json": as_json}
    chosen = [name for name, on in {**flags, "csl-json": csl_json}.items() if on]
    if len(chosen) > 1:
        raise UsageError(
            f"Choose one format, not {' and '.join('--' + c for c in chosen)}.", "llmref export --bibtex"
        )
    fmt = chosen[0] if chosen else "bibtex"
    library = _library(ctx)
    filters = _filters(tag, author, year, venue, model, task, section, kind, category)
    text = " ".join(query or [])
    if key and (text.strip() or filters != NO_FILTERS):
        raise UsageError(
            "--key chooses the records itself: it cannot be combined with a query or filters.",
            "Use either --key K (repeatable) or a query and filters.",
        )
    pieces: Iterable[str]
    with library.reading():
        if key:
            records = list({r.key: r for r in (library.find(k) for k in key)}.values())
            count, pieces = len(records), [exchange.export(records, fmt)]
        else:
            ids = _selected_ids(library, text, filters, by_key=fmt == "bibtex")
            count, pieces = len(ids), exchange.export_stream(library, ids, fmt)
        if not count:
            out.message("Nothing matches: the export is empty.")
        if output is None:
            for piece in pieces:
                sys.stdout.write(piece)
            sys.stdout.flush()
        else:
            _write_atomically(output, pieces)
    if output is not None:
        out.message(f"Wrote {count} record{'s' if count != 1 else ''} to {output}.")


def _selected_ids(library: Any, text: str, filters: Any, *, by_key: bool) -> list[int]:
    """Ids of the records to export: best match first for a query, else in the order added;
    in key order for BibTeX, which is written as it is read."""
    if not text.strip():
        return library.list_ids(filters, sort="key" if by_key else "added")
    found = library.search_ids(text, filters)
    if not by_key:
        return found
    hits = set(found)
    return [i for i in library.list_ids(filters, sort="key") if i in hits]


def _write_atomically(path: Path, pieces: Iterable[str]) -> None:
    """Write to a temporary file beside ``path`` and rename: a failure never leaves half a file.

    A symbolic link is written through (the file it points at is replaced, the link stays), and
    what is not a file (a pipe, /dev/stdout, a device) is written to as it is: it cannot be
    replaced, and half of a stream cannot be taken back anyway.
    """
    path = Path(os.path.realpath(path))
    if path.is_dir():
        raise UsageError(f"{path} is a directory.", "Give --output a file name.")
    if path.exists() and not path.is_file():
        try:
            with path.open("w", encoding="utf-8") as handle:
                handle.writelines(pieces)
        except OSError as exc:
            raise UsageError(
                f"Cannot write {path}: {exc.strerror}.", "Choose another --output path."
            ) from exc
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _unwritable(path, exc) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(pieces)
        # mkstemp makes the file private; give it the mode a plain write would have.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"Cannot write {path}: {exc.strerror}.", "Choose another --output path.") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _unwritable(path: Path, exc: OSError) -> UsageError:
    """Why no file can be made at ``path``, said of what the user named."""
    folder, hint = path.parent, "Choose another --output path."
    if not folder.exists():
        return UsageError(
            f"Cannot write {path}: the folder {folder} does not exist.", f"Create it, or: {hint}"
        )
    if not folder.is_dir():
        return UsageError(f"Cannot write {path}: {folder} is a file, not a folder.", hint)
    return UsageError(f"Cannot write {path}: no file can be made in {folder} ({exc.strerror}).", hint)


@command("import", no_args_is_help=True)
def import_(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="Files to import: .bib, .md, .json (llmref or CSL-JSON).")
    ],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="bibtex, markdown, json, csl-json or arxiv-snapshot, if the extension does not say.",
        ),
    ] = None,
    category: Annotated[
        list[str],
        typer.Option(
            "--category", help="arxiv-snapshot: only these categories (cs.CL,cs.LG or a prefix cs.)."
        ),
    ] = [],
    since: Annotated[
        int | None, typer.Option("--since", help="arxiv-snapshot: only papers first posted since this year.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Show what would happen; write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Import BibTeX, Markdown paper lists, llmref JSON or CSL-JSON.

    A paper the library already has (same arXiv id, DOI or ACL id, or the same title) is filled
    in, never duplicated; nothing in the library is overwritten. Entries that cannot be read
    are reported with their line numbers. Importing the same file twice changes nothing.

    Example: llmref import thesis.bib awesome-llm.md
    """
    from .. import exchange
    from . import output

    if fmt == exchange.SNAPSHOT_FORMAT or (fmt is None and all(_is_snapshot(f) for f in files)):
        _import_snapshots(
            ctx,
            files,
            [c for part in category for c in part.split(",") if c.strip()],
            since,
            as_json,
            dry_run,
        )
        return
    if category or since is not None:
        raise UsageError(
            "--category and --since filter arXiv snapshots only.", "Add --format arxiv-snapshot."
        )
    found, problems = exchange.read_files(files, fmt)
    library = _library(ctx, dry_run=dry_run)
    try:
        if dry_run:
            report = _dry_run(library, found, problems)
        else:
            report = exchange.import_records(library, found, problems)
    except KeyboardInterrupt:
        output.message("Interrupted: nothing was imported (an import is written whole or not at all).")
        raise typer.Exit(130) from None
    if as_json:
        output.print_json(
            {
                "outcomes": [
                    {"status": o.status, "key": o.key, "title": o.title, "detail": o.detail}
                    for o in report.outcomes
                ],
                "problems": [
                    {"source": p.source, "line": p.line, "message": p.message} for p in report.problems
                ],
                "written": not dry_run,
            }
        )
    else:
        _show_import(report)
    if any(not p.imported for p in report.problems) or report.count("failed"):
        raise typer.Exit(1)


def _dry_run(library: Any, found: Any, problems: Any) -> Any:
    from .. import exchange

    class _Rollback(Exception):
        pass

    report = None
    try:
        with library.transaction():
            report = exchange.import_records(library, found, problems)
            raise _Rollback
    except _Rollback:
        pass
    return report


def _show_import(report: Any) -> None:
    from . import output, table

    # An unchanged record is listed when the file knew it by another key: the one to cite.
    shown = [o for o in report.outcomes if o.status != "unchanged" or o.detail]
    quiet = 0
    if len(shown) > _LISTED_AT_MOST:
        # Thousands of rows help nobody: a long import lists what needs a look.
        needing = [o for o in shown if o.status == "failed" or o.detail]
        quiet, shown = len(shown) - len(needing), needing
    if shown:
        columns = [
            table.Column("Status", wrap=False),
            table.Column("Key", style="cyan", wrap=False),
            table.Column("Title / what changed", flexible=True),
        ]
        rows = [[o.status, o.key or "", o.title + (f"\n{o.detail}" if o.detail else "")] for o in shown]
        sys.stdout.write(table.render(columns, rows, width=table.terminal_width(), colour=table.use_colour()))
    for problem in report.problems:
        where = f"{problem.source}:{problem.line}" if problem.line else problem.source
        output.message(f"{where}: {problem.message}")
    counts = ", ".join(
        f"{report.count(s)} {s}" for s in ("added", "merged", "unchanged", "failed") if report.count(s)
    )
    lost = sum(not p.imported for p in report.problems)
    notes = [counts] if counts else []
    if lost:
        notes.append(f"{lost} not imported (see above)")
    if len(report.problems) > lost:
        notes.append(f"{len(report.problems) - lost} imported with a warning (see above)")
    if quiet:
        notes.append(f"{quiet} not listed one by one (--json lists every record)")
    output.message(", ".join(notes) or "Nothing to import.")


#: Records an import lists one by one, at most, before it lists only those that need a look.
_LISTED_AT_MOST = 100


def _is_snapshot(path: Path) -> bool:
    return path.name.endswith((".jsonl", ".jsonl.gz"))


def _import_snapshots(
    ctx: typer.Context,
    files: list[Path],
    categories: list[str],
    since: int | None,
    as_json: bool,
    dry_run: bool,
) -> None:
    from rich.progress import Progress, TextColumn, TimeElapsedColumn

    from .. import snapshot
    from . import output

    for path in files:  # all of them before any is read: not half an import for a typo
        if not path.is_file():
            what = "a directory" if path.is_dir() else "no such file"
            raise UsageError(f"Cannot read {path}: {what}.", "Give the snapshot's .jsonl or .jsonl.gz file.")
    library = _library(ctx, dry_run=dry_run)
    load = snapshot.survey_snapshot if dry_run else snapshot.import_snapshot
    reports = []
    for path in files:
        columns = (TextColumn("{task.description}"), TextColumn("{task.fields[added]:,} added"),
                   TextColumn("{task.fields[rate]:,.0f} records/s"), TimeElapsedColumn())  # fmt: skip
        with Progress(*columns, console=output.stderr(), transient=True) as bar:
            task = bar.add_task(f"{'Reading' if dry_run else 'Importing'} {path.name}", added=0, rate=0.0)

            def show(report: snapshot.SnapshotReport, task: Any = task, name: str = path.name) -> None:
                elapsed = bar.tasks[0].elapsed or 1e-9
                bar.update(task, added=report.added, rate=report.read / elapsed)
                if report.indexing:
                    bar.update(task, description=f"Indexing {name}")

            report = load(
                library, path, categories=tuple(c.strip() for c in categories), since=since, progress=show
            )
        reports.append((path, report))
        if report.interrupted:
            break
    if as_json:
        output.print_json(
            [{**_snapshot_json(path, report), "written": not dry_run} for path, report in reports]
        )
    for path, report in reports:
        for problem in report.problems[:20]:
            where = f"{path.name}:{problem.line}" if problem.line else path.name
            output.message(f"{where}: {problem.message}")
        if len(report.problems) > 20:
            output.message(f"… and {len(report.problems) - 20} more problems (--json lists them all).")
        would = "would be " if dry_run else ""
        output.message(
            f"{path.name}: {report.read:,} read, {report.added:,} {would}added, {report.enriched:,}"
            f" {would}enriched, {report.unchanged:,} unchanged, {len(report.problems):,} problems."
            + (" Nothing was written (--dry-run)." if dry_run else "")
        )
        if report.interrupted:
            output.message(
                "Interrupted: nothing was written."
                if dry_run
                else "Interrupted: what was read so far is saved; run the same command again to go on."
            )
            raise typer.Exit(130)
    if any(not p.imported for _, report in reports for p in report.problems):
        raise typer.Exit(1)  # as for other files: some lines could not be imported


def _snapshot_json(path: Path, report: Any) -> dict[str, Any]:
    return {
        "file": str(path),
        "read": report.read,
        "added": report.added,
        "enriched": report.enriched,
        "unchanged": report.unchanged,
        "problems": [{"line": p.line, "message": p.message} for p in report.problems],
        "interrupted": report.interrupted,
    }
