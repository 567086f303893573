"""BibTeX export: records to ``.bib`` text, the way careful ML authors write it; pure.

The file is UTF-8: non-ASCII letters (``Rücklé``, ``重要论文``) are written as they are, not as
``{\\"u}`` macros. biber and pandoc read UTF-8; classic bibtex copies the bytes through, and
LaTeX reads them with ``\\usepackage[utf8]{inputenc}``, the default since LaTeX 2018.

Rules (each chosen so that it is never wrong, rather than as rich as it could be):

* **Entry type.** A record imported from BibTeX keeps its ``entry_type``. Otherwise a paper is
  ``@inproceedings`` + ``booktitle`` when it appeared at a conference (a known conference name,
  a venue saying Proceedings/Conference/Workshop/Symposium, or an ACL Anthology id: the
  Anthology volume — ``2020.findings-emnlp`` — outranks the venue the list wrote),
  ``@article`` + ``journal`` for a journal (a known journal, a venue saying Journal/Transactions,
  TACL/CL Anthology ids, or arXiv's ``journal_ref`` when it names no conference), and ``@misc``
  otherwise: arXiv-only papers, unknown venues (``howpublished = {<venue>}``) and title-only
  papers (with what is known). A venue of arXiv, CoRR, GitHub or "preprint" names no venue.
  Every other kind (model, project, blog, dataset, tool, demo, article) is ``@misc`` with
  ``howpublished = {\\url{…}}`` and ``url``, the link labelled like the kind first.
* **Venue names.** A bare abbreviation (``ICLR``, ``EMNLP 2021``) becomes the conference's name
  without edition number or "Proceedings of", followed by the abbreviation:
  ``International Conference on Learning Representations (ICLR)``. Edition numbers depend on the
  year and "Proceedings of" is not the title everywhere (ICLR has no proceedings; NeurIPS's are
  "Advances in…"), so both are left out. Findings volumes get their official title,
  ``Findings of the Association for Computational Linguistics: EMNLP 2020``. Journal
  abbreviations become the journal's full name. Anything longer is written as the user wrote it.
* **arXiv.** Any paper with an arXiv id gets ``eprint``, ``archivePrefix = {arXiv}`` and
  ``primaryClass`` (when known). An arXiv-only ``@misc`` also gets ``url`` to its abstract page,
  as arXiv's own BibTeX does, because styles without eprint support would otherwise print no
  pointer at all; ``month`` comes from ``published`` only for these, and only when that date's
  year is the record's year (the v1 date is not the date of a later conference version).
* **Other links.** ``url`` is the Anthology page for an ACL id, and otherwise the most relevant
  link when the entry has neither ``doi`` nor ``eprint``. ``doi`` is written when known.
* **Authors.** ``Family, Given`` joined by ``and``; particles stay with the family name
  (``van der Wal, Oskar``); single names stand alone (``Dao``); a name already written with a
  comma is kept as written; names of teams and organisations (last word Team, Workshop, Lab…)
  are braced so BibTeX does not split them; ``authors_truncated`` ends the list with ``and others``.
* **Title protection.** A word keeps its case when it has a capital after its first letter
  (``{LoRA}``, ``{GPT}``, ``{AdapterFusion}``), digits next to letters (``{T5}``, ``{v2}``), or is a
  hyphenated word with such a part or a one-letter capital part (``{P-Tuning}``, ``{GPT-4}``): the
  whole hyphenated word is braced, once. Surrounding punctuation stays outside (``{LoRA}:``).
  A lone capital (``A``, ``C#``) is not protected: it is usually the article "A".
  Proper nouns in plain title case (``Transformer``) and the word after a colon are not
  protected: nothing tells them apart, and styles capitalise after a colon themselves.
* **Escaping.** ``& % $ # _`` get a backslash, ``~ ^ \\`` become ``\\textasciitilde{}``,
  ``\\textasciicircum{}``, ``\\textbackslash{}``; literal braces become ``\\{ \\}`` when they pair up
  and ``\\textbraceleft{}``/``\\textbraceright{}`` when they do not (bibtex and pybtex count even
  escaped braces, so an unpaired ``\\{`` would break the file). ``url``, ``doi`` and ``eprint``
  are verbatim, except that a space, a backslash or an unpaired brace is percent-encoded (the
  same address, and the file stays readable). Runs of whitespace become one space.
* **month** is the bare macro (``month = jun``), from ``published`` as above or, failing that,
  from an imported month that names a month (``jun``, ``June``, ``6``).
* **keywords** are the tags (JabRef and Zotero read them); **abstract** is written when the
  record has one (BibTeX styles ignore it; biber and pandoc keep it). ``notes`` and ``comment``
  are never exported.
* **Imported entries** (``bibtex_fields``): every field comes back, names in lower case. A field
  llmref also models (title, author, year, journal, booktitle, doi, eprint, url, abstract,
  keywords, archiveprefix, primaryclass, month) keeps its original LaTeX only while, decoded, it
  still says what the record says; otherwise llmref's value is written (or none, if the record
  no longer has one). A ``year`` says what the record says when it gives the record's year
  (``2023a`` gives 2023) or, one such as ``in press``, when the record has none. Decoding is
  pylatexenc's ``LatexNodes2Text``, whitespace collapsed; names
  are compared one by one in either order; Google Scholar's ``arXiv preprint arXiv:<id>`` journal
  agrees with the venue "arXiv preprint" the importer stores; ``primaryclass`` stands while the
  eprint does (the importer reads no categories). Values are written on one line (BibTeX reads
  any whitespace run as one space); a field name BibTeX could not read is left out.
* **Field order:** author, title, booktitle, journal, year, month, volume, number, pages,
  publisher and the other bibliographic fields, eprint, archivePrefix, primaryClass, doi, url,
  howpublished, keywords, abstract, then any other imported field alphabetically.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from ..ids import arxiv_year, parse_arxiv, parse_doi
from ..keys import family_name, is_valid_key, sort_key
from ..models import Record, arxiv_pages

# ---------------------------------------------------------------------------------------------
# Venues: where a record appeared, shared with the CSL-JSON exporter.

#: Conference abbreviations and their names (no edition number, no "Proceedings of").
CONFERENCES = {
    "ACL": "Annual Meeting of the Association for Computational Linguistics",
    "EMNLP": "Conference on Empirical Methods in Natural Language Processing",
    "NAACL": "Conference of the North American Chapter of the Association for Computational Linguistics",
    "EACL": "Conference of the European Chapter of the Association for Computational Linguistics",
    "AACL": "Conference of the Asia-Pacific Chapter of the Association for Computational Linguistics",
    "IJCNLP": "International Joint Conference on Natural Language Processing",
    "COLING": "International Conference on Computational Linguistics",
    "CoNLL": "Conference on Computational Natural Language Learning",
    "LREC": "International Conference on Language Resources and Evaluation",
    "SIGDIAL": "Annual Meeting of the Special Interest Group on Discourse and Dialogue",
    "INLG": "International Natural Language Generation Conference",
    "COLM": "Conference on Language Modeling",
    "ICLR": "International Conference on Learning Representations",
    "ICML": "International Conference on Machine Learning",
    "NeurIPS": "Advances in Neural Information Processing Systems",
    "NIPS": "Advances in Neural Information Processing Systems",
    "AISTATS": "International Conference on Artificial Intelligence and Statistics",
    "UAI": "Conference on Uncertainty in Artificial Intelligence",
    "MLSys": "Conference on Machine Learning and Systems",
    "AAAI": "AAAI Conference on Artificial Intelligence",
    "IJCAI": "International Joint Conference on Artificial Intelligence",
    "CVPR": "IEEE/CVF Conference on Computer Vision and Pattern Recognition",
    "ICCV": "IEEE/CVF International Conference on Computer Vision",
    "ECCV": "European Conference on Computer Vision",
    "KDD": "ACM SIGKDD Conference on Knowledge Discovery and Data Mining",
    "SIGIR": "International ACM SIGIR Conference on Research and Development in Information Retrieval",
    "WWW": "The Web Conference",
    "WSDM": "ACM International Conference on Web Search and Data Mining",
    "CIKM": "ACM International Conference on Information and Knowledge Management",
    "ICASSP": "IEEE International Conference on Acoustics, Speech and Signal Processing",
    "Interspeech": "Interspeech",
}
_CONFERENCE_BY_LOWER = {abbr.lower(): abbr for abbr in CONFERENCES}
# Conferences whose Findings volumes the ACL Anthology publishes.
_FINDINGS_OF = {"acl", "emnlp", "naacl", "eacl", "aacl", "ijcnlp"}

#: Journal abbreviations and full names; full names are matched too, so that
#: "Proceedings of the National Academy of Sciences" is not taken for a conference.
JOURNALS = {
    "TACL": "Transactions of the Association for Computational Linguistics",
    "CL": "Computational Linguistics",
    "JMLR": "Journal of Machine Learning Research",
    "TMLR": "Transactions on Machine Learning Research",
    "JAIR": "Journal of Artificial Intelligence Research",
    "TPAMI": "IEEE Transactions on Pattern Analysis and Machine Intelligence",
    "PAMI": "IEEE Transactions on Pattern Analysis and Machine Intelligence",
    "PNAS": "Proceedings of the National Academy of Sciences",
    "Nature": "Nature",
    "Science": "Science",
    "Nature Machine Intelligence": "Nature Machine Intelligence",
    "Nature Communications": "Nature Communications",
    "Neural Computation": "Neural Computation",
    "Proceedings of the IEEE": "Proceedings of the IEEE",
}
_JOURNAL_BY_LOWER = {name.lower(): full for name, full in JOURNALS.items()} | {
    full.lower(): full for full in JOURNALS.values()
}
_JOURNAL_WORDS = frozenset("journal transactions letters magazine review".split())
_CONFERENCE_WORDS = frozenset("proceedings conference workshop symposium congress meeting track".split())
# What lists write in the venue column for works that appeared in no venue.
_NOT_VENUES = frozenset({"arxiv", "arxiv preprint", "corr", "preprint", "github", "openreview"})

# ACL Anthology volumes: new ids name the venue (2021.acl-long.353), old ids a letter (P19-1001).
_ACL_NEW_VOLUME = re.compile(r"^\d{4}\.(?P<venue>[a-z0-9]+)(?:-(?P<sub>[a-z0-9]+))?")
_ACL_OLD = re.compile(r"^(?P<letter>[A-Z])\d{2}-(?P<volume>\d)")
_ACL_OLD_LETTERS = {"P": "ACL", "N": "NAACL", "E": "EACL", "D": "EMNLP", "C": "COLING", "K": "CoNLL"}
_ACL_OLD_JOURNALS = {"Q": "TACL", "J": "CL"}
# A year, not the YYMM of an arXiv id written in the venue ("arXiv:2012.15723").
_YEAR = re.compile(r"(?<![\d.])(?:19|20)\d{2}(?!\.?\d)")


@dataclass(frozen=True)
class Venue:
    """Where a record appeared: ``kind`` is conference, journal, preprint, other or none."""

    kind: str
    name: str | None = None
    #: A year written in the venue ("ICLR 2023"), for records that have none of their own.
    year: int | None = None


# A library repeats its venues and journal references: classifying each text once pays.
@lru_cache(maxsize=4096)
def classify_venue(text: str, year: int | None = None) -> Venue:
    """What a venue as written names: a conference, a journal, nothing (arXiv, GitHub) or other.

    ``year`` is the record's, for titles that carry one (Findings) when the venue has none.
    """
    text = _squash(text)
    found = _YEAR.search(text)
    year = int(found.group()) if found else year
    bare = _squash(_YEAR.sub(" ", text)).strip(" ,.;:'’-")
    lower = bare.lower()
    words = re.findall(r"[a-z]+", lower)
    # "arXiv preprint arXiv:2106.09685", "CoRR abs/2106.09685" name no venue either.
    if not words or lower in _NOT_VENUES or words[0] in ("arxiv", "corr"):
        return Venue("none", year=year if found else None)
    written_year = year if found else None
    if lower in _JOURNAL_BY_LOWER:
        return Venue("journal", _JOURNAL_BY_LOWER[lower], written_year)
    if lower in _CONFERENCE_BY_LOWER:
        abbr = _CONFERENCE_BY_LOWER[lower]
        name = CONFERENCES[abbr] if CONFERENCES[abbr] == abbr else f"{CONFERENCES[abbr]} ({abbr})"
        return Venue("conference", name, written_year)
    if "findings" in words:
        return Venue("conference", _findings_title(words, year), written_year)
    if _JOURNAL_WORDS.intersection(words):
        return Venue("journal", text, written_year)
    if _CONFERENCE_WORDS.intersection(words) or any(w in _CONFERENCE_BY_LOWER for w in words):
        return Venue("conference", text, written_year)
    return Venue("other", text, written_year)


def _findings_title(words: list[str], year: int | None) -> str:
    title = "Findings of the Association for Computational Linguistics"
    conference = next((w for w in words if w in _FINDINGS_OF), None)
    if conference is None:
        return title
    # The Anthology's own booktitle: "Findings of the Association for Computational Linguistics: EMNLP 2020".
    return f"{title}: {_CONFERENCE_BY_LOWER[conference]}" + (f" {year}" if year else "")


def _acl_venue(acl_id: str, year: int | None) -> Venue | None:
    """The venue an Anthology id names, when it names one this module knows."""
    new = _ACL_NEW_VOLUME.match(acl_id)
    if new:
        # New-style ids start with the year of the volume.
        year = year or int(acl_id[:4])
        venue, sub = new["venue"], new["sub"] or ""
        if venue == "findings" and sub in _FINDINGS_OF:
            return Venue("conference", _findings_title([sub], year), year)
        if venue in ("tacl", "cl"):
            return classify_venue(venue.upper())
        abbr = _CONFERENCE_BY_LOWER.get(venue)
        return classify_venue(abbr) if abbr else None
    old = _ACL_OLD.match(acl_id)
    if not old:
        return None
    if old["letter"] in _ACL_OLD_JOURNALS:
        return classify_venue(_ACL_OLD_JOURNALS[old["letter"]])
    # Volumes 1 and 2 are the main (long, short) papers; the rest are demos, workshops, tutorials.
    if old["letter"] in _ACL_OLD_LETTERS and old["volume"] in "12":
        return classify_venue(_ACL_OLD_LETTERS[old["letter"]])
    return None


def venue_of(record: Record) -> Venue:
    """Where ``record`` appeared: its Anthology volume, then its venue, then arXiv's journal_ref."""
    if record.acl_id:
        known = _acl_venue(record.acl_id, record.year)
        if known:
            return known
        # Everything else in the Anthology is a proceedings volume (a workshop, a demo track).
        written = classify_venue(record.venue, record.year) if record.venue else Venue("none")
        return Venue("conference", written.name, written.year)
    year = None
    for text, is_journal_ref in ((record.venue, False), (record.journal_ref, True)):
        if not text:
            continue
        venue = classify_venue(text, record.year)
        year = year or venue.year
        if venue.kind == "other" and is_journal_ref:
            # arXiv's journal_ref is by definition where the paper was published.
            return Venue("journal", venue.name, venue.year)
        if venue.kind != "none":
            return venue
    return Venue("preprint" if record.arxiv_id else "none", year=year)


# ---------------------------------------------------------------------------------------------
# Names.

# A last word that makes a name an organisation's, not a person's ("Gemini Team").
_CORPORATE_WORDS = frozenset(
    "team workshop consortium collaboration group lab labs laboratory inc inc. ltd ltd. "
    "foundation institute initiative community contributors committee project organization "
    "organisation corporation company university".split()
)
_SUFFIXES = frozenset({"Jr", "Jr.", "Sr", "Sr.", "II", "III", "IV"})


@dataclass(frozen=True)
class NameParts:
    given: str
    family: str
    suffix: str = ""
    #: An organisation's name, never split or reordered.
    literal: bool = False


def name_parts(name: str) -> NameParts:
    """How a stored author name divides; see :func:`split_name`."""
    name = _squash(name)
    if "," in name:
        parts = [p.strip() for p in name.split(",")]
        if len(parts) == 2:
            return NameParts(parts[1], parts[0])
        if len(parts) == 3:
            return NameParts(parts[2], parts[0], parts[1])
        return NameParts("", name, literal=True)
    words = name.split()
    if len(words) > 1 and words[-1].lower() in _CORPORATE_WORDS:
        return NameParts("", name, literal=True)
    suffix = ""
    if len(words) > 2 and words[-1] in _SUFFIXES:
        suffix, words = words[-1], words[:-1]
    family = family_name(" ".join(words))
    given = " ".join(words[: len(words) - len(family.split())])
    return NameParts(given, family, suffix)


def split_name(name: str) -> tuple[str, str]:
    """``("Given", "Family")`` for a stored "First Last" name.

    The family name keeps its lower-case particles ("Oskar van der Wal" → ``("Oskar", "van der
    Wal")``), a single name is all family (``("", "Dao")``), a name written with a comma is
    taken as written ("Wang, Yizhong" → ``("Yizhong", "Wang")``), and a generational suffix stays
    with the family name in BibTeX's order ("Martin Luther King Jr." → ``("Martin Luther", "King,
    Jr.")``). Organisations are all family (``("", "Gemini Team")``).
    """
    parts = name_parts(name)
    family = f"{parts.family}, {parts.suffix}" if parts.suffix else parts.family
    return parts.given, family


# Authors recur across a library; a name is worked out once per run.
@lru_cache(maxsize=16384)
def _bibtex_name(name: str) -> str:
    parts = name_parts(name)
    if not (parts.family or parts.given):
        return ""
    if parts.literal:
        return "{" + _escape(parts.family) + "}"
    pieces = [parts.family, parts.suffix, parts.given]
    return ", ".join(_name_piece(p) for p in pieces if p)


def _name_piece(piece: str) -> str:
    # "and" inside a name would end it; "others" alone would mean "et al.".
    words = [("{" + w + "}" if w.lower() in ("and", "others") else w) for w in _escape(piece).split()]
    return " ".join(words)


def _author_field(record: Record) -> str | None:
    # A name that is only commas and spaces is no name; written, it would shift the list.
    names = [n for n in (_bibtex_name(a) for a in record.authors) if n]
    if not names:
        return None
    if record.authors_truncated:
        names.append("others")
    return " and ".join(names)


# ---------------------------------------------------------------------------------------------
# Text: escaping and case protection.

_SPECIALS = {
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\\": r"\textbackslash{}",
}
_UNPAIRED_BRACES = {"{": r"\textbraceleft{}", "}": r"\textbraceright{}"}
_PAIRED_BRACES = {"{": r"\{", "}": r"\}"}
_PAIRED = _SPECIALS | _PAIRED_BRACES
_UNPAIRED = _SPECIALS | _UNPAIRED_BRACES
_TO_ESCAPE = re.compile(r"[&%$#_~^\\{}]")
_BRACE = re.compile(r"[{}]")
# `in` checks outrun a regex or a split on abstract-sized text, and most values need no change.
_TO_ESCAPE_CHARS = tuple(_PAIRED)
# What str.split() changes in ASCII text besides a leading or trailing space.
_ASCII_SPACES = ("  ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")


def _squash(text: str) -> str:
    if text.isascii() and text[:1] != " " and text[-1:] != " " and not any(s in text for s in _ASCII_SPACES):
        return text
    return " ".join(text.split())


def _braces_pair(text: str) -> bool:
    if "{" not in text and "}" not in text:
        return True
    depth = 0
    for ch in _BRACE.findall(text):
        depth += 1 if ch == "{" else -1
        if depth < 0:
            return False
    return depth == 0


def _escape(text: str, paired: bool | None = None) -> str:
    """``text`` as LaTeX that prints it; ``paired`` says how literal braces are written."""
    if not any(ch in text for ch in _TO_ESCAPE_CHARS):
        return text
    if paired is None:
        paired = _braces_pair(text)
    table = _PAIRED if paired else _UNPAIRED
    return _TO_ESCAPE.sub(lambda found: table[found.group()], text)


def _part_needs_braces(part: str, compound: bool) -> bool:
    if any(ch.isupper() for ch in part[1:]):
        return True
    if any(ch.isdigit() for ch in part) and any(ch.isalpha() for ch in part):
        return True
    return compound and len(part) == 1 and part.isupper()


def needs_protection(word: str) -> bool:
    """Whether a bibliography style must not change this word's case (``LoRA``, ``T5``, ``P-Tuning``)."""
    parts = [p for p in word.split("-") if p]
    return any(_part_needs_braces(p, len(parts) > 1) for p in parts)


def protect_title(title: str) -> str:
    """``title`` escaped, with the words whose case matters braced once."""
    title = _squash(title)
    paired = _braces_pair(title)
    return " ".join(_protect_word(word, paired) for word in title.split(" "))


# Titles share most of their words; each is looked at once per run.
@lru_cache(maxsize=16384)
def _protect_word(word: str, paired: bool) -> str:
    alnum = [i for i, ch in enumerate(word) if ch.isalnum()]
    if not alnum:
        return _escape(word, paired)
    start, end = alnum[0], alnum[-1] + 1
    core = word[start:end]
    escaped = _escape(core, paired)
    if needs_protection(core):
        escaped = "{" + escaped + "}"
    return _escape(word[:start], paired) + escaped + _escape(word[end:], paired)


def _verbatim(value: str) -> str:
    """A URL, DOI or eprint as written; only what would break the file is percent-encoded."""
    value = value.strip().replace("\\", "%5C").replace(" ", "%20")
    return value if _braces_pair(value) else value.replace("{", "%7B").replace("}", "%7D")


# ---------------------------------------------------------------------------------------------
# Fields.

_DATE = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})(?:-(?P<day>\d{2}))?")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAMES = tuple(
    "january february march april may june july august september october november december".split()
)
_LINK_PREFERENCE = ("paper", "pdf", "url", "article", "blog", "project")
#: Fields llmref models; an imported raw value is kept only while it agrees with the record.
MODELLED = (
    "title author year journal booktitle doi eprint url abstract keywords archiveprefix primaryclass month"
).split()
FIELD_ORDER = (
    "author editor title booktitle journal year month volume number pages publisher address "
    "organization institution school series edition chapter type note "
    "eprint archiveprefix primaryclass doi url howpublished keywords abstract"
).split()
_FIELD_RANK = {name: i for i, name in enumerate(FIELD_ORDER)}
# Entry types and field names as BibTeX, biber and pandoc all read them.
_NAME = re.compile(r"^[a-z][a-z0-9_:.+-]*$")
_FIELD_NAMES = {"archiveprefix": "archivePrefix", "primaryclass": "primaryClass"}
_BIBTEX_TYPES_WITH_BOOKTITLE = frozenset({"inproceedings", "conference", "incollection", "inbook"})


_FOUR_DIGITS = re.compile(r"^(\d{4})[a-z]?$")


def read_year(text: str) -> int | None:
    """The year a decoded ``year`` field gives a record: four digits, or four and a letter
    (``2023a``, two works of one author and year told apart)."""
    found = _FOUR_DIGITS.match(text)
    return int(found[1]) if found else None


def anthology_url(acl_id: str) -> str:
    return f"https://aclanthology.org/{acl_id}"


def arxiv_url(arxiv_id: str) -> str:
    return arxiv_pages(arxiv_id)[0][1]


def main_url(record: Record) -> str | None:
    """The link that best stands for the work: the one labelled like its kind, else the paper's."""
    if not record.urls:
        return None
    labels = dict(record.urls)
    preference = (record.kind, *_LINK_PREFERENCE) if record.kind != "paper" else _LINK_PREFERENCE
    for label in preference:
        if label in labels:
            return labels[label]
    return record.urls[0][1]


def entry_type(record: Record, venue: Venue | None = None) -> str:
    """The BibTeX entry type llmref writes for ``record``."""
    if record.entry_type and _NAME.match(record.entry_type.lower()):
        return record.entry_type.lower()
    if record.kind != "paper":
        return "misc"
    venue = venue or venue_of(record)
    return {"conference": "inproceedings", "journal": "article"}.get(venue.kind, "misc")


def published_date(record: Record) -> tuple[int, int, int | None] | None:
    """Year, month and day (when written) of ``published``, if it reads as YYYY-MM[-DD]."""
    found = _DATE.match(record.published or "")
    if not found or not 1 <= int(found["month"]) <= 12:
        return None
    day = int(found["day"]) if found["day"] else None
    return int(found["year"]), int(found["month"]), day


def preprint_month(record: Record, venue: Venue) -> int | None:
    """The month of an arXiv-only paper, when its ``published`` date is in the record's year."""
    date = published_date(record)
    if venue.kind != "preprint" or date is None:
        return None
    if record.year is not None and record.year != date[0]:
        return None
    return date[1]


def year_of(record: Record, venue: Venue) -> int | None:
    """The record's year; failing that the venue's, the arXiv v1 date's or the arXiv id's."""
    if record.year is not None:
        return record.year
    if venue.year is not None:
        return venue.year
    date = published_date(record)
    if date:
        return date[0]
    return arxiv_year(record.arxiv_id) if record.arxiv_id else None


def _braced(value: str) -> str:
    return "{" + value + "}"


def _generated(record: Record, venue: Venue, kind: str) -> dict[str, str]:
    """llmref's own fields for ``record``: name → value as it goes after ``=``."""
    out: dict[str, str] = {}
    author = _author_field(record)
    if author:
        out["author"] = _braced(author)
    out["title"] = _braced(protect_title(record.title))
    out.update(_venue_field(record, venue, kind))
    year = year_of(record, venue)
    if year is not None:
        out["year"] = _braced(str(year))
    month = preprint_month(record, venue)
    if month:
        out["month"] = _MONTHS[month - 1]
    out.update(_link_fields(record, venue, kind))
    if record.tags:
        out["keywords"] = _braced(_escape(", ".join(_squash(t) for t in record.tags)))
    if record.abstract and record.abstract.strip():
        out["abstract"] = _braced(_escape(_squash(record.abstract)))
    return out


def _venue_field(record: Record, venue: Venue, kind: str) -> dict[str, str]:
    if not venue.name or (record.kind != "paper" and not record.entry_type):
        return {}
    if kind in _BIBTEX_TYPES_WITH_BOOKTITLE:
        field = "booktitle"
    elif kind == "article":
        field = "journal"
    elif kind == "misc":
        field = "howpublished"
    else:
        # book, techreport, thesis…: the imported fields say who published it.
        return {}
    return {field: _braced(_escape(venue.name))}


def _link_fields(record: Record, venue: Venue, kind: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if record.arxiv_id:
        out["eprint"] = _braced(_verbatim(record.arxiv_id))
        out["archiveprefix"] = "{arXiv}"
        if record.primary_category:
            out["primaryclass"] = _braced(_verbatim(record.primary_category))
    if record.doi:
        out["doi"] = _braced(_verbatim(record.doi))
    url = _url(record, venue)
    if url:
        out["url"] = _braced(_verbatim(url))
        # In \url{} a % or # would end or break the argument in LaTeX and pybtex alike; the
        # url field alone still links it.
        if record.kind != "paper" and kind == "misc" and not set(url) & set("%#"):
            out["howpublished"] = _braced(r"\url{" + _verbatim(url) + "}")
    return out


def _url(record: Record, venue: Venue) -> str | None:
    if record.acl_id:
        return anthology_url(record.acl_id)
    if record.arxiv_id and venue.kind == "preprint" and record.kind == "paper":
        # arXiv's own BibTeX links the abstract page without a version: the work, not a revision.
        return arxiv_url(record.arxiv_id)
    if record.doi or record.arxiv_id:
        return None
    return main_url(record)


# ---------------------------------------------------------------------------------------------
# Imported fields: keep the original LaTeX while it still says what the record says.


def _decode(latex: str) -> str | None:
    """Plain text of a LaTeX value, decoded as the BibTeX reader decodes it, so that an imported
    value that still says what the record says is written back as it was."""
    from .latex import latex_to_text

    try:
        return _squash(latex_to_text(latex))
    except Exception:  # pylatexenc raises its own and plain errors on malformed input
        return None


def _split_authors(raw: str) -> list[str]:
    """The names of a raw ``author`` value: split at ``and`` outside braces."""
    names, depth, start = [], 0, 0
    for match in re.finditer(r"[{}]|\s+and\s+", raw, re.IGNORECASE):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif depth == 0:
            names.append(raw[start : match.start()])
            start = match.end()
    names.append(raw[start:])
    return [n.strip() for n in names]


def _authors_agree(raw: str, record: Record) -> bool:
    names = _split_authors(raw)
    truncated = bool(names) and names[-1].strip() == "others"
    if truncated:
        names = names[:-1]
    if truncated != record.authors_truncated or len(names) != len(record.authors):
        return False
    for written, stored in zip(names, record.authors, strict=True):
        decoded = _decode(written)
        if decoded is None or _squash(stored) not in _name_spellings(decoded):
            return False
    return True


def _name_spellings(decoded: str) -> set[str]:
    """A decoded BibTeX name as written and in "Given Family" order."""
    parts = [p.strip() for p in decoded.split(",")]
    spellings = {decoded}
    if len(parts) == 2:
        spellings.add(_squash(f"{parts[1]} {parts[0]}"))
    elif len(parts) == 3:
        spellings.add(_squash(f"{parts[2]} {parts[0]} {parts[1]}"))
    return spellings


def _agrees(field: str, raw: str, record: Record) -> bool:
    """Whether the imported ``raw`` value of a modelled field still says what ``record`` says."""
    if field == "author":
        return _authors_agree(raw, record)
    if field in ("url", "doi", "eprint"):
        return _verbatim_agrees(field, raw.strip(), record)
    decoded = _decode(raw)
    if decoded is None:
        return False
    if field == "keywords":
        keywords = [k.strip() for k in re.split(r"[,;]", decoded) if k.strip()]
        return keywords == [_squash(t) for t in record.tags]
    if field in ("journal", "booktitle"):
        return _venue_agrees(decoded, record)
    if field == "archiveprefix":
        return bool(record.arxiv_id) and decoded.lower() == "arxiv"
    if field == "primaryclass":
        # The BibTeX importer does not read categories: the class stands while the eprint does.
        return decoded == record.primary_category if record.primary_category else bool(record.arxiv_id)
    if field == "year":
        # What the record's year was read from (2023a), or, while it has none, a year no record
        # can hold ("in press").
        return read_year(decoded) == record.year
    expected = {"title": record.title, "year": record.year, "abstract": record.abstract}.get(field)
    return expected is not None and decoded == _squash(str(expected))


def _venue_agrees(decoded: str, record: Record) -> bool:
    if decoded in {_squash(v) for v in (record.venue, record.journal_ref) if v}:
        return True
    # Google Scholar's "arXiv preprint arXiv:2106.09685" is stored as the venue "arXiv preprint".
    return (
        bool(record.arxiv_id)
        and record.arxiv_id in decoded
        and classify_venue(decoded).kind == "none"
        and classify_venue(record.venue or "").kind == "none"
    )


def _verbatim_agrees(field: str, raw: str, record: Record) -> bool:
    if field == "doi":
        return bool(record.doi) and parse_doi(raw) == parse_doi(record.doi or "")
    if field == "eprint":
        parsed = parse_arxiv(raw)
        return bool(record.arxiv_id) and parsed is not None and parsed[0] == record.arxiv_id
    known = {u for _, u in record.urls}
    if record.acl_id:
        known.add(anthology_url(record.acl_id))
    if record.arxiv_id:
        known.add(arxiv_url(record.arxiv_id))
    return raw in known


def _month_macro(raw: str) -> str | None:
    """``jun`` for an imported month written ``jun``, ``June``, ``Sept.``, ``6`` or ``06``."""
    text = (_decode(raw) or raw).strip().lower().rstrip(".")
    if text.isdigit() and 1 <= int(text) <= 12:
        return _MONTHS[int(text) - 1]
    for abbr, full in zip(_MONTHS, _MONTH_NAMES, strict=True):
        if text in (abbr, full) or (abbr == "sep" and text == "sept"):
            return abbr
    return None


def _merged(record: Record, venue: Venue, kind: str) -> dict[str, str]:
    """llmref's fields with the imported ones laid over them, by the rules in the module docstring."""
    out = _generated(record, venue, kind)
    seen: set[str] = set()
    for name, raw in record.bibtex_fields:
        field = name.strip().lower()
        # A name BibTeX cannot read would break the entry; a repeated one is an error in pybtex.
        if not _NAME.match(field) or field in seen:
            continue
        seen.add(field)
        if field == "month":
            macro = _month_macro(raw)
            if "month" not in out and macro:
                out["month"] = macro
            elif "month" not in out and raw.strip() and _braces_pair(raw):
                out["month"] = _braced(_squash(raw))
            continue
        if not _braces_pair(raw):
            if field not in MODELLED:
                out[field] = _braced(_escape(_squash(raw)))
            continue
        # BibTeX reads any run of whitespace as one space; one line per field reads better.
        value = _braced(_squash(raw))
        # A value that is already what llmref writes needs no check: decoding it to compare (an
        # abstract above all) is the slow part of an export.
        if value == out.get(field) or field not in MODELLED or _agrees(field, raw, record):
            out[field] = value
    return out


def _ordered(fields: dict[str, str]) -> list[tuple[str, str]]:
    # FIELD_ORDER first, then the rest alphabetically.
    order = sorted(fields, key=lambda f: (_FIELD_RANK.get(f, len(_FIELD_RANK)), f))
    return [(_FIELD_NAMES.get(f, f), fields[f]) for f in order]


# ---------------------------------------------------------------------------------------------
# Entries.


def entry(record: Record) -> str:
    """One BibTeX entry (no trailing newline)."""
    if not record.key or not is_valid_key(record.key):
        raise ValueError(f"record {record.title!r} has no usable citation key: {record.key!r}")
    venue = venue_of(record)
    kind = entry_type(record, venue)
    lines = [f"  {name} = {value}" for name, value in _ordered(_merged(record, venue, kind))]
    return f"@{kind}{{{record.key},\n" + ",\n".join(lines) + "\n}"


def bibtex_entries(records: Iterable[Record]) -> Iterator[str]:
    """The text of a ``.bib`` file a piece at a time, for records that come sorted by key.

    Pieces joined are :func:`to_bibtex`'s file; yielding them lets a caller write a library of
    any size without holding it. A key out of order or given twice raises ``ValueError``.
    """
    previous: str | None = None
    for record in records:
        key = record.key or ""
        if previous is not None and sort_key(key) <= sort_key(previous):
            if key == previous:
                raise ValueError(f"duplicate citation key(s): {key}")
            raise ValueError(f"records out of key order: {key} after {previous}")
        text = entry(record)
        # Entries are separated by one blank line and the file ends with a newline.
        yield text + "\n" if previous is None else "\n" + text + "\n"
        previous = key


def to_bibtex(records: Iterable[Record]) -> str:
    """A ``.bib`` file: entries sorted by key, one blank line between them, a trailing newline."""
    records = list(records)
    counts = Counter(r.key for r in records if r.key)
    duplicates = sorted(k for k, n in counts.items() if n > 1)
    if duplicates:
        raise ValueError(f"duplicate citation key(s): {', '.join(duplicates)}")
    return "".join(bibtex_entries(sorted(records, key=lambda r: sort_key(r.key or ""))))
