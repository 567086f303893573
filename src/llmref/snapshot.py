"""Loading arXiv's metadata snapshot: millions of papers, streamed, a chunk per transaction.

Reading a line and making its record ready to write (decoding, keys' bases, index text) costs
about as much as writing it, so a large file is read by a second process while this one writes
(see :mod:`llmref.background`): two cores, nearly twice the rate, and memory stays flat
whatever the file's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import errors
from .background import read_in_background
from .exchange import Problem, merge
from .formats.arxiv_snapshot import SnapshotProblem, open_snapshot, read_snapshot
from .store.library import Pending, prepare

if TYPE_CHECKING:
    from .models import Record
    from .store.library import Library

#: Records written per transaction: big enough for a fast load (each commit rewrites the pages
#: of the key indexes its records touched, most of them in a large library, so fewer commits
#: write less), small enough that an interrupted import loses little and holds little in memory.
CHUNK = 20_000
#: Records the reading process sends at a time: what is held in memory, and how soon the
#: writer starts.
PIECE = 5000
#: A snapshot line's size, about (the abstract is most of it), and how much gzip shrinks it.
LINE_BYTES = 1500
GZIP_RATIO = 3
#: From this size on, a file is read by a second process (starting one costs ~0.2 s).
BACKGROUND_FROM = 8 * 2**20
Chunk = list[Pending | SnapshotProblem]


@dataclass
class SnapshotReport:
    read: int = 0  # records (and bad lines) read, after the filters
    added: int = 0
    enriched: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    interrupted: bool = False
    indexing: bool = False  # the records are in; the indexes a large load dropped are being built


def import_snapshot(
    library: Library,
    path: Path,
    *,
    categories: Sequence[str] = (),
    since: int | None = None,
    chunk_size: int = CHUNK,
    progress: Callable[[SnapshotReport], None] | None = None,
    background: bool | None = None,
    defer_indexes: bool | None = None,
) -> SnapshotReport:
    """Load arXiv's metadata snapshot (JSON Lines, maybe gzipped), ``chunk_size`` lines per
    transaction.

    Papers the library has (by arXiv id) are enriched, never duplicated; running the same
    import again, after an interruption or not, adds only what is missing. ``background``:
    read in a second process (by default, for files of :data:`BACKGROUND_FROM` bytes or more).
    ``defer_indexes``: build the indexes only queries use after the load (by default, when
    that is cheaper; see :func:`_worth_deferring`).
    """
    if background is None:
        background = path.stat().st_size >= BACKGROUND_FROM
    size = min(chunk_size, PIECE)
    if background:
        options = {"path": str(path), "categories": tuple(categories), "since": since, "size": size}
        again = "Run the import again: it goes on where it stopped."
        chunks = read_in_background("snapshot", options, name=path.name, hint=again)
    else:
        chunks = _chunks(path, tuple(categories), since, size)
    report = SnapshotReport()
    try:
        if defer_indexes is None:
            defer_indexes = _worth_deferring(library, path)
        with library.loading(defer_indexes=defer_indexes):
            try:
                while _write_chunk(library, chunks, chunk_size, report, path):
                    if progress:
                        progress(report)
            except KeyboardInterrupt:
                # Chunks already written stay: the library opens, searches, and a re-run goes on.
                report.interrupted = True
            finally:
                chunks.close()
            report.indexing = True
            if progress:
                progress(report)
    except KeyboardInterrupt:
        report.interrupted = True  # while the indexes were being built: the next open builds them
    if progress:
        progress(report)
    return report


def survey_snapshot(
    library: Library,
    path: Path,
    *,
    categories: Sequence[str] = (),
    since: int | None = None,
    progress: Callable[[SnapshotReport], None] | None = None,
) -> SnapshotReport:
    """What :func:`import_snapshot` would do with the file, counted without writing anything.

    A paper the file lists again is counted unchanged, as the import counts a repeat within
    its chunk (the ids seen are held in memory: about 70 bytes a paper).
    """
    report = SnapshotReport()
    seen: set[str] = set()
    dois: dict[str, str] = {}  # DOI -> arXiv id, for the papers of the file
    try:
        with library.reading():
            for piece in _chunks(path, tuple(categories), since, PIECE):
                held, doi_holders = _holders(library, piece)
                for item in _papers(piece, report, path):
                    arxiv_id = dict(item.identifiers).get("arxiv", "")
                    record = item.as_record()
                    if given_up := _doi_given_up(library, item, doi_holders, dois):
                        record, problem = given_up
                        report.problems.append(problem)
                    if arxiv_id in seen:
                        report.unchanged += 1
                    elif arxiv_id in held:
                        existing = library.records([held[arxiv_id]])[0]
                        if merge(existing, record) == existing:
                            report.unchanged += 1
                        else:
                            report.enriched += 1
                    else:
                        report.added += 1
                    seen.add(arxiv_id)
                if progress:
                    progress(report)
    except KeyboardInterrupt:
        report.interrupted = True
    return report


def _worth_deferring(library: Library, path: Path) -> bool:
    """Whether dropping the query indexes for this load, and building them over the whole
    library after it, costs less than keeping them up to date: for a file read in the background
    that brings at least a third as many records as the library holds (building an index costs
    about a quarter of keeping it, per row)."""
    size = path.stat().st_size * (GZIP_RATIO if path.name.endswith(".gz") else 1)
    return size >= BACKGROUND_FROM and size / LINE_BYTES >= library.held() / 3


def _chunks(path: Path, categories: tuple[str, ...], since: int | None, size: int) -> Iterator[Chunk]:
    """The snapshot's lines as records ready to write (and problems), ``size`` records a chunk."""
    chunk: Chunk = []
    records = 0
    items = read_snapshot(open_snapshot(path), categories=categories, since=since)
    while True:
        try:
            item = next(items, None)
        except (OSError, EOFError) as exc:  # a truncated or corrupt .gz, a failing disk
            raise errors.UsageError(
                f"Cannot read {path.name} to the end: {exc}.",
                "What was read before is kept. Check the file (gzip -t), or download it again.",
            ) from exc
        if item is None:
            break
        if isinstance(item, SnapshotProblem):
            chunk.append(item)
            continue
        chunk.append(prepare(item))
        records += 1
        if records >= size:
            yield chunk
            chunk, records = [], 0
    if chunk:
        yield chunk


def read_pieces(options: dict[str, Any]) -> Iterator[Chunk]:
    """:func:`_chunks` as the reading process sends them (see :mod:`llmref.background`):
    without the records, since writing needs only the rest, and the few records merged with one
    the library holds are made again from it (Pending.as_record)."""
    chunks = _chunks(Path(options["path"]), tuple(options["categories"]), options["since"], options["size"])
    for chunk in chunks:
        yield [p._replace(record=None) if isinstance(p, Pending) else p for p in chunk]


def _write_chunk(
    library: Library, pieces: Iterator[Chunk], size: int, report: SnapshotReport, path: Path
) -> bool:
    """Write pieces until ``size`` lines are read, in one transaction; ``report`` counts them
    once committed. False when the pieces ran out."""
    done = SnapshotReport()
    more = False
    with library.transaction():
        for piece in pieces:
            _store(library, piece, done, path)
            if done.read >= size:
                more = True
                break
    report.read += done.read
    report.added += done.added
    report.enriched += done.enriched
    report.unchanged += done.unchanged
    report.problems += done.problems
    return more


def _store(library: Library, piece: Chunk, done: SnapshotReport, path: Path) -> None:
    """Write a piece of the snapshot (inside the caller's transaction), counting it in ``done``."""
    held, doi_holders = _holders(library, piece)
    dois: dict[str, str] = {}  # DOI -> arXiv id, for the papers of this piece not yet written
    new: dict[str, Pending] = {}  # by arXiv id: a paper listed twice is one record
    for item in _papers(piece, done, path):
        arxiv_id = dict(item.identifiers).get("arxiv", "")
        if given_up := _doi_given_up(library, item, doi_holders, dois):
            record, problem = given_up
            done.problems.append(problem)
            item = prepare(record)
        if arxiv_id in new:
            new[arxiv_id] = prepare(merge(new[arxiv_id].as_record(), item.as_record()))
            done.unchanged += 1
        elif arxiv_id in held:
            existing = library.records([held[arxiv_id]])[0]
            merged = merge(existing, item.as_record())
            if merged == existing:
                done.unchanged += 1
            else:
                library.save(merged)
                done.enriched += 1
        else:
            new[arxiv_id] = item
    library.insert_prepared(list(new.values()), part=True)  # an error ends the chunk's transaction
    done.added += len(new)


def _papers(piece: Chunk, report: SnapshotReport, path: Path) -> Iterator[Pending]:
    """The papers of a piece, each line counted as read in ``report`` and those that could not
    be read kept there as problems."""
    for item in piece:
        report.read += 1
        if isinstance(item, SnapshotProblem):
            report.problems.append(Problem(path.name, item.line, item.message))
        else:
            yield item


def _holders(library: Library, piece: Chunk) -> tuple[dict[str, int], dict[str, int]]:
    """Which records of the library hold the arXiv ids, and which the DOIs, of a piece's papers."""
    ids = [dict(p.identifiers) for p in piece if isinstance(p, Pending)]
    held = library.record_ids_by("arxiv", [i.get("arxiv", "") for i in ids])
    return held, library.record_ids_by("doi", [i["doi"] for i in ids if "doi" in i])


def _doi_given_up(
    library: Library, item: Pending, holders: dict[str, int], dois: dict[str, str]
) -> tuple[Record, Problem] | None:
    """When another paper holds the DOI of ``item`` (in the library or earlier in the file):
    its record without the DOI, and the problem that says so. Papers that share a DOI are parts
    of one article; the library holds a DOI once, so a later paper keeps its arXiv id and goes
    without the DOI."""
    idents = dict(item.identifiers)
    if "doi" not in idents:
        return None
    arxiv_id = idents.get("arxiv", "")
    owner = _doi_owner(library, arxiv_id, idents["doi"], holders, dois)
    if owner is None:
        return None
    record = item.as_record()
    message = f"{arxiv_id}: DOI {record.doi} belongs to {owner}"
    return record.with_(doi=None), Problem("snapshot", None, message, imported=True)


def _doi_owner(
    library: Library, arxiv_id: str, doi: str, holders: dict[str, int], dois: dict[str, str]
) -> str | None:
    """The arXiv id of another paper that holds ``doi`` (in the library or earlier in the piece)."""
    holder = holders.get(doi)
    owner = dois.get(doi) or (library.records([holder])[0].arxiv_id if holder else None)
    if owner is None or owner == arxiv_id:
        dois[doi] = arxiv_id
        return None
    return owner
