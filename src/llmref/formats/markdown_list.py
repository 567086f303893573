"""Read a Markdown paper list (awesome-style, numbered or bulleted, English or Chinese) into records.

Lists are written for people, so the reader follows what a careful person does with one:

* **Entries.** A list item with everything nested under it, a run of paragraphs that names a work
  (a title, a lone link, a ``1、…`` numbered paragraph and what follows it) or a table row is an
  entry. Prose under a heading, block quotes, the table of contents and in-page links are not.
* **Works.** Each title in an entry is one record: ```Title```, ``**Title**`` (followed by at
  most a venue and year, a short citation, links and badges), a link text ``[Title](url)``, or a
  bare title-case line. An item with two titles gives two records; an item whose sub-items carry
  the titles (a "family") is not a record itself: its badge becomes a tag and a sub-section of
  its members. A standalone short line followed by a list (``PEFT统一框架``) and an HTML
  ``<summary>`` name a sub-section.
* **Authors** are stored as "First Last" in the order given. "Last, First" pairs are turned
  round, and once a line writes family names first, "Family Given" names without a comma on it
  are turned round too; "Liang P" becomes "P Liang" (initials as written, no dot added); a line
  of Chinese names in family-first order (told by common family names) is turned round. "et al."
  sets ``authors_truncated``. A space before a combining accent (``Da ́niel``) is removed and the
  name NFC-composed (``Dániel``); nothing else is respelled.
* **Venue and year** come from the title line (``ICLR2023``, ``arXiv 2022``, ``EMNLP 2019.``);
  ``arxiv``/``github`` are spelled arXiv/GitHub, the rest as written. A missing or broken year
  (``arxiv 202``) falls back to the arXiv id's year; nothing else invents a year.
* **Tags** come from shields.io badges on an item's head lines, named by the badge's label in
  the URL (``PrefixTuning``, with shields' ``_`` → space and ``--`` → ``-``), and the alt text
  when the URL has none. Badges in notes (a legend) are not tags.
* **Links** all go to ``urls`` in order, labelled as written (``[[pdf](…)]`` → ``pdf``) or, for a
  title link or a link in prose, by what it points at (``pdf`` for arXiv/ACL, ``project`` for code
  hosts, ``article``, ``blog``, else ``url``); a repeated label gets a number (``project2``).
  Identifiers come from the title link, labelled links and the title and author lines only, so a
  paper cited in passing in a note does not become the record's id.
* **Kind** is ``paper`` with an identifier, an author line, a venue, a link labelled pdf/paper,
  or no link at all (title-only entries and short citations such as "(Dao et al., 2022)");
  otherwise it follows the link (chat./demo. hosts and HF Spaces → demo; a code host → the
  section's kind or project; zhihu/weixin/… → article; blog paths → blog) and the section's head
  noun, innermost first ("Base Models" → model, "Tools" → tool, "Data" → dataset, "Online Demo"
  → demo, "参考" → article).
* **Notes** keep everything else under the title verbatim (dedented): prose, sub-lists, tables,
  the text after a link title and the 模型/任务 lines, which are also parsed into ``models``,
  ``tasks`` and ``datasets`` (an empty 任务： takes its tasks and datasets from the sub-list below
  it; a table's 数据集/dataset column gives datasets; a backticked name on a data line is a
  dataset; "基于X训练" names a model). Only the title and author lines, the ``==TODO==`` marker,
  image-only lines and *field lines* are left out: a line whose labels are bold
  (``**模型**：LLaMA，**任务**：QA``) is how llmref's own export states models, tasks and
  datasets that the notes do not, so it is parsed like any 模型 line but is not a note.
* ``todo`` is set by a ``==TODO==`` marker, an unchecked ``[ ]`` task item, or a section named TODO.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from llmref.ids import arxiv_year, parse_acl, parse_arxiv, parse_doi
from llmref.models import Record
from llmref.text import NAME_PARTICLES

# --------------------------------------------------------------------------------------------
# Lines


@dataclass(frozen=True)
class _Line:
    indent: int
    text: str  # without indentation or trailing whitespace
    marker: str | None = None  # "-", "1." … when the line opens a list item
    body: str = ""  # the text after the marker (the whole text on other lines)
    code: bool = False

    @property
    def blank(self) -> bool:
        return not self.text


_MARKER = re.compile(r"^(?P<marker>[-*+]|\d{1,3}[.)])(?:[ \t]+(?P<body>.*))?$")
_TASK_BOX = re.compile(r"^\[(?P<mark>[ xX])\]\s+")
_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<name>.*?)(?:\s+#+)?$")
_RULE = re.compile(r"^(?:([-*_])\s*)(?:\1\s*){2,}$")
_FENCE = re.compile(r"^(`{3,}|~{3,})")
_TOC = re.compile(r"^\[+_?TOC_?\]+$", re.IGNORECASE)
_INVISIBLE = str.maketrans("", "", "\u200b\u200c\u200d\ufeff")


def _read_lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    fence: str | None = None
    for raw in text.translate(_INVISIBLE).splitlines():
        expanded = raw.expandtabs(4).rstrip()
        stripped = expanded.lstrip()
        indent = len(expanded) - len(stripped)
        opens = _FENCE.match(stripped)
        if fence or opens:
            lines.append(_Line(indent, stripped, body=stripped, code=True))
            if fence is None:
                fence = opens.group(1)[:3]  # type: ignore[union-attr]
            elif stripped.startswith(fence):
                fence = None
            continue
        match = None if _RULE.match(stripped) else _MARKER.match(stripped)
        if match:
            lines.append(_Line(indent, stripped, match["marker"], (match["body"] or "").strip()))
        else:
            lines.append(_Line(indent, stripped, body=stripped))
    return lines


def _is_heading(line: _Line) -> bool:
    return not line.code and line.indent < 4 and bool(_HEADING.match(line.text))


def _is_rule(line: _Line) -> bool:
    return not line.code and bool(_RULE.match(line.text))


def _is_table_row(line: _Line) -> bool:
    return not line.code and line.text.startswith("|")


def _html_tag(line: _Line) -> str | None:
    """The tag name when the line is HTML (``details``, ``/details``, ``summary``, ``p``, ``!--``…)."""
    # The name must end at a space, ">" or "/": "<https://…>" is an autolink, not a tag.
    match = re.match(r"^<(/?[a-zA-Z][\w-]*(?=[\s>/]|$)|!--)", line.text) if not line.code else None
    return match.group(1).lower() if match else None


def _is_structural_html(line: _Line) -> bool:
    tag = _html_tag(line)
    return tag in {"details", "/details", "summary"} or (tag is not None and "<summary" in line.text)


# --------------------------------------------------------------------------------------------
# Inline Markdown: links, images, badges


@dataclass(frozen=True)
class _Link:
    text: str
    url: str
    labelled: bool  # written [[label](url)] / [[label]](url) / [![alt](badge)](url): text is a label


@dataclass(frozen=True)
class _Inline:
    links: tuple[_Link, ...]
    badges: tuple[str, ...]


_LINKED_IMAGE = re.compile(r"\[\s*!\[(?P<alt>[^\]]*)\]\([^)]*\)\s*\]\(\s*(?P<url>[^)\s]*)[^)]*\)")
_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\(\s*(?P<url>[^)\s]*)[^)]*\)")
_LINK = re.compile(
    r"\[(?P<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?(?P<url>[^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)"
)


def _inline(text: str) -> _Inline:
    links: list[_Link] = []
    badges: list[str] = []

    def linked_image(match: re.Match[str]) -> str:
        links.append(_Link(match["alt"].strip(), _clean_url(match["url"]), labelled=True))
        return " "

    def image(match: re.Match[str]) -> str:
        tag = _badge_tag(match["alt"], match["url"])
        if tag:
            badges.append(tag)
        return " "

    text = _IMAGE.sub(image, _LINKED_IMAGE.sub(linked_image, text))
    for match in _LINK.finditer(text):
        url = _clean_url(match["url"])
        if not url or url.startswith("#"):
            continue  # in-page anchors (a table of contents) and empty links point at no work
        before, after = text[: match.start()], text[match.end() :]
        raw = match["text"].strip()
        labelled = (before.endswith("[") and after.startswith("]")) or (
            raw.startswith("[") and raw.endswith("]")
        )
        links.append(_Link(raw.strip("[]").strip(), url, labelled))
    return _Inline(tuple(links), tuple(badges))


def _clean_url(url: str) -> str:
    return url.strip().lstrip("[<").rstrip(">")


def _without_links(text: str) -> str:
    """``text`` with images and links (and the brackets around ``[[label](url)]``) removed."""
    text = _IMAGE.sub(" ", _LINKED_IMAGE.sub(" ", text))
    text = re.sub(r"\[\s*" + _LINK.pattern + r"\s*\]", " ", text)
    return _LINK.sub(" ", text)


def _links_as_text(text: str) -> str:
    text = _IMAGE.sub(" ", _LINKED_IMAGE.sub(" ", text))
    return _LINK.sub(lambda m: m["text"].strip("[] "), text)


def _badge_tag(alt: str, url: str) -> str | None:
    """The tag a shields.io-style badge stands for, or None for an ordinary image."""
    parts = urlsplit(url.strip())
    if "/badge/" not in parts.path and parts.netloc not in {"img.shields.io", "badgen.net"}:
        return None
    label = unquote(parts.path.split("/badge/", 1)[-1]).rsplit(".", 1)
    content = label[0] if len(label) == 2 and label[1] in {"svg", "png"} else ".".join(label)
    # shields.io: "-" separates label, message and colour; "--" is a dash, "__" an underscore
    # and "_" a space (https://shields.io/badges/static-badge).
    pieces = re.split(r"(?<!-)-(?!-)", content)
    name = "-".join(pieces[:-1]) if len(pieces) > 1 else ""
    name = name.replace("--", "-").replace("__", "\0").replace("_", " ").replace("\0", "_").strip()
    return name or alt.strip() or None


# --------------------------------------------------------------------------------------------
# Sections and entries


@dataclass
class _Entry:
    section: tuple[str, ...]
    lines: list[_Line]
    table: bool = False


@dataclass
class _Sections:
    """The headings above the current line, plus <summary> and plain-text sub-sections."""

    headings: list[tuple[int, str]] = field(default_factory=list)
    details: list[str | None] = field(default_factory=list)
    pseudo: str | None = None
    numbered: bool = False  # this section's entries are "1、…" paragraphs

    def heading(self, level: int, name: str) -> None:
        self.headings = [(lv, n) for lv, n in self.headings if lv < level] + [(level, name)]
        self.details, self.pseudo, self.numbered = [], None, False

    def html(self, line: _Line) -> None:
        summary = re.search(r"<summary[^>]*>(.*?)</summary>", line.text, re.IGNORECASE)
        if re.match(r"<details", line.text, re.IGNORECASE) or (summary and not self.details):
            self.details.append(None)
        if summary:
            self.details[-1] = _plain(re.sub(r"<[^>]+>", "", summary.group(1))) or None
        if line.text.lower().startswith("</details") and self.details:
            self.details.pop()

    @property
    def path(self) -> tuple[str, ...]:
        names = [n for _, n in self.headings] + [d for d in self.details if d]
        return tuple(names + ([self.pseudo] if self.pseudo else []))


def _entries(lines: list[_Line]) -> Iterator[_Entry]:
    sections = _Sections()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.blank or _TOC.match(line.text) or _is_rule(line):
            i += 1
        elif _is_heading(line):
            match = _HEADING.match(line.text)
            assert match is not None
            sections.heading(len(match["hashes"]), _plain(_links_as_text(match["name"])))
            i += 1
        elif _html_tag(line) == "!--":
            i = _comment_end(lines, i)
        elif _html_tag(line):
            sections.html(line)
            i += 1
        elif line.text.startswith(">"):
            i = _quote_end(lines, i)  # a block quote under a heading speaks for the section
        elif line.marker:
            end = _item_end(lines, i)
            yield _Entry(sections.path, lines[i:end])
            i = end
        elif _is_table_row(line):
            end = _table_end(lines, i)
            yield _Entry(sections.path, lines[i:end], table=True)
            i = end
        else:
            i = yield from _paragraph_entry(lines, i, sections)


def _comment_end(lines: list[_Line], i: int) -> int:
    while i < len(lines) and "-->" not in lines[i].text:
        i += 1
    return i + 1


def _quote_end(lines: list[_Line], i: int) -> int:
    while i < len(lines) and lines[i].text.startswith(">"):
        i += 1
    return i


def _table_end(lines: list[_Line], i: int) -> int:
    while i < len(lines) and _is_table_row(lines[i]):
        i += 1
    return i


def _item_end(lines: list[_Line], i: int) -> int:
    """One past the last line of the item opened at ``i``: its continuation lines and sub-items."""
    own_indent, last, after_blank = lines[i].indent, i, False
    for j in range(i + 1, len(lines)):
        line = lines[j]
        if line.blank:
            after_blank = True
            continue
        if _is_heading(line) or _is_rule(line) or _is_structural_html(line):
            break
        if line.indent <= own_indent and (line.marker or after_blank):
            break  # a sibling item, or a paragraph after the list
        last, after_blank = j, False
    return last + 1


def _paragraph_end(lines: list[_Line], i: int) -> int:
    j = i
    while j < len(lines) and not _ends_paragraph(lines[j]):
        j += 1
    return max(j, i + 1)


def _ends_paragraph(line: _Line) -> bool:
    return (
        line.blank
        or bool(line.marker)
        or _is_heading(line)
        or _is_rule(line)
        or _is_structural_html(line)
        or line.text.startswith(">")
    )


def _next_nonblank(lines: list[_Line], i: int) -> _Line | None:
    return next((line for line in lines[i:] if not line.blank), None)


def _paragraph_entry(lines: list[_Line], i: int, sections: _Sections) -> Iterator[_Entry]:
    """Yield the entry a paragraph opens, if it opens one; return where reading goes on."""
    end = _paragraph_end(lines, i)
    para = lines[i:end]
    if _is_pseudo_heading(para, _next_nonblank(lines, end)):
        sections.pseudo = _plain(para[0].text).rstrip(":：")
        return end
    opener = _opens_entry(para[0], sections.numbered)
    if not opener:
        return end  # prose under a heading, not about one work
    sections.numbered = sections.numbered or opener == "numbered"
    end = _paragraph_run_end(lines, end, sections.numbered)
    yield _Entry(sections.path, lines[i:end])
    return end


def _paragraph_run_end(lines: list[_Line], i: int, numbered: bool) -> int:
    """The paragraphs after an entry's first one belong to it until something opens another."""
    end = i
    while True:
        j = end
        while j < len(lines) and lines[j].blank:
            j += 1
        if j == len(lines):
            return end
        line = lines[j]
        if line.marker or _is_heading(line) or _is_rule(line) or _is_structural_html(line):
            return end
        if line.text.startswith(">") or _opens_entry(line, numbered):
            return end
        end = _table_end(lines, j) if _is_table_row(line) else _paragraph_end(lines, j)


_NUMBERED = re.compile(r"^(?:\*\*|__|\[)*\s*(?P<n>\d{1,3})\s*(?:\*\*|__)?\s*[、．]")


def _opens_entry(line: _Line, numbered: bool) -> str | None:
    """Whether a paragraph starting with ``line`` names a work: "numbered", "plain" or None."""
    if line.code or _html_tag(line) or _is_table_row(line):
        return None
    if _NUMBERED.match(line.text):
        return "numbered"
    if numbered:
        return None  # inside "1、…" entries, titles and links are part of the current entry
    return "plain" if _title_of(line, head=True) else None


def _is_pseudo_heading(para: list[_Line], following: _Line | None) -> bool:
    """A short standalone line followed by a list names the list (``PEFT统一框架``, ``硬件层面``)."""
    if len(para) != 1 or following is None or not following.marker:
        return False
    text = para[0].text
    if para[0].code or "[" in text or "`" in text or "<" in text or _is_table_row(para[0]):
        return False
    plain = _plain(text).rstrip(":：")
    return 0 < len(plain) <= 40 and plain[-1] not in ".。!！?？,，;；"


# --------------------------------------------------------------------------------------------
# Titles


@dataclass(frozen=True)
class _Title:
    text: str
    strength: int  # 3: `title` or **title**; 2: [title](url); 1: a bare title-case line
    rest: str = ""  # what follows the title on its line
    link: _Link | None = None
    trailer: _Trailer | None = None


@dataclass(frozen=True)
class _Trailer:
    venue: str | None = None
    year: int | None = None
    cited: tuple[str, ...] = ()
    cited_truncated: bool = False


STRONG, LINKED, BARE = 3, 2, 1
_BACKTICK = re.compile(r"^`(?P<title>[^`]+)`(?P<rest>.*)$")
_BOLD = re.compile(r"^(?:\*\*(?P<a>[^*]+?)\*\*|__(?P<b>[^_]+?)__)(?P<rest>.*)$")
_TODO = re.compile(r"==\s*TODO\s*==", re.IGNORECASE)
_VENUE_YEAR = re.compile(
    r"^(?:(?P<venue>[A-Za-z][A-Za-z&.'’\- ]*?)\s*,?\s*)?(?P<year>\d{3,4})(?:\.\d{1,2})?$"
)
_VENUE_ONLY = re.compile(r"^[A-Z][A-Za-z&.\-]*(?:\s+[A-Za-z&.\-]+)?$")
_CITATION = re.compile(r"^\((?P<names>[^()]*?[A-Za-z][^()]*?),?\s+(?P<year>(?:19|20)\d{2})[a-z]?\)$")
_VENUE_SPELLING = {"arxiv": "arXiv", "github": "GitHub", "neurips": "NeurIPS", "openreview": "OpenReview"}


def _title_of(line: _Line, head: bool) -> _Title | None:
    """The title a line carries: strong anywhere, linked or bare only on an item's or entry's head."""
    if line.code or line.blank or _is_table_row(line):
        return None
    text = _strip_task_box(_leading_images_removed(line.body))
    strong = _strong_title(text)
    if strong or not (head or line.marker):
        return strong
    return _linked_title(text, item=bool(line.marker)) or _bare_title(text)


def _strip_task_box(text: str) -> str:
    return _TASK_BOX.sub("", text)


def _leading_images_removed(text: str) -> str:
    while True:
        match = _IMAGE.match(text) or _LINKED_IMAGE.match(text)
        if not match:
            return text.strip()
        text = text[match.end() :].lstrip()


def _strong_title(text: str) -> _Title | None:
    match = _BACKTICK.match(text) or _BOLD.match(text)
    if not match:
        return None
    title = match.groupdict().get("title") or match.groupdict().get("a") or match.groupdict().get("b")
    if not title or "](" in title:
        return None
    trailer = _trailer(match["rest"])
    if trailer is None:
        return None
    literal = match.re is _BACKTICK  # code spans are literal: "90%* ChatGPT" keeps its star
    return _Title(_clean_title(title, literal), STRONG, match["rest"], trailer=trailer)


def _trailer(rest: str) -> _Trailer | None:
    """Parse what may follow a title (venue and year, a short citation); None if it is prose."""
    text = _TODO.sub(" ", _without_links(rest))
    text = re.sub(r"\s+", " ", text).strip()
    if text.startswith((":", "：")):
        return None  # "**NER**: CoNLL03" is a label, not a title
    text = text.strip(" ,.;").strip()
    if not text:
        return _Trailer()
    citation = _CITATION.match(text)
    # "(Dao et al., 2022)", "(Wang & Komatsuzaki 2021)" cite authors; "(ICLR 2023)" is a venue.
    if citation and re.search(r"\bet\.?\s*al\b|&|\band\b|,\s*(?:19|20)\d{2}", text):
        names, truncated = _cited_names(citation["names"])
        return _Trailer(year=int(citation["year"]), cited=names, cited_truncated=truncated)
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    venue_year = _VENUE_YEAR.match(text)
    if venue_year:
        year = int(venue_year["year"])
        return _Trailer(_venue(venue_year["venue"]), year if 1900 <= year <= 2100 else None)
    if _VENUE_ONLY.match(text):
        return _Trailer(_venue(text))
    return None


def _venue(raw: str | None) -> str | None:
    venue = (raw or "").strip(" ,.;")
    return _VENUE_SPELLING.get(venue.lower(), venue) or None


def _linked_title(text: str, item: bool) -> _Title | None:
    """``[Title](url) - notes``, ``[[name](url)] notes`` or ``Label: [name](url)``."""
    numbered = _NUMBERED.match(text)
    if numbered and not text.startswith("["):
        text = text[numbered.end() :].lstrip()  # **1**、[**标题**](…): the number is not the title
    stripped = re.sub(r"^(?:\*\*|__)", "", text)
    match = re.match(r"^\[?\s*" + _LINK.pattern + r"\s*\]?", stripped)
    if match and match["url"] and not match["url"].startswith("#"):
        link = _Link(match["text"].strip("[] "), _clean_url(match["url"]), labelled=False)
        rest = stripped[match.end() :]
        return _Title(_clean_title(link.text), LINKED, rest, link, _trailer(rest.strip("*_ ")))
    # "Label: [name](url)" names a work as a list item; as a paragraph it is a profile or a note.
    named = re.match(r"^(?P<label>[^\[\]()]{1,60}?)\s*[:：]\s*" + _LINK.pattern + r"\s*$", text)
    if item and named and not named["url"].startswith("#"):
        link = _Link(named["text"], _clean_url(named["url"]), labelled=False)
        return _Title(f"{_plain(named['label'])}: {_clean_title(named['text'])}", LINKED, "", link)
    return None


def _bare_title(text: str) -> _Title | None:
    if "](" in text or "`" in text or "<" in text or re.search(r"https?://", text):
        return None
    plain = _plain(_TODO.sub("", text))
    if not plain or len(plain) > 200 or re.search(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", plain):
        return None
    if plain[-1] in ".:;,":
        return None
    words = re.findall(r"[A-Za-z][\w'’-]*", plain)
    long_words = [w for w in words if len(w) >= 4]
    if not 2 <= len(words) <= 25 or not long_words:
        return None
    if sum(w[0].isupper() for w in long_words) < 0.6 * len(long_words):
        return None
    return _Title(_clean_title(plain), BARE)


def _clean_title(text: str, literal: bool = False) -> str:
    text = re.sub(r"\s+", " ", text) if literal else _plain(text)
    text = re.sub(r"^\d{1,3}\s*[、．]\s*", "", text.strip())
    return text.rstrip(" .。,，;；").strip()


def _plain(text: str) -> str:
    """Text without emphasis markers or surrounding whitespace, inner whitespace collapsed."""
    text = re.sub(r"(\*\*|__|~~)", "", text)
    text = re.sub(r"(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)", "", text)
    return re.sub(r"\s+", " ", text).strip()


# --------------------------------------------------------------------------------------------
# Authors

_NAME_TOKEN = re.compile(r"^[A-ZÀ-ÖØ-ÞĀ-Ž][A-Za-zÀ-ÖØ-öø-ÿĀ-ɏ'’.\-]*$")
_FAMILY_INITIALS = re.compile(r"^(?P<family>\S{2,})\s+(?P<initials>[A-Z]{1,3}\.?)$")
_ET_AL = re.compile(r",?\s*\bet\.?\s*al\b\.?|,?\s*等\s*$", re.IGNORECASE)
_TRAILING_DATE = re.compile(r"\s+(?P<year>(?:19|20)\d{2})(?:\.\d{1,2}){0,2}\.?$")
# Common Chinese family names in pinyin: enough to tell "Wang Yidong" from "Yidong Wang".
# fmt: off
_CHINESE_FAMILY = frozenset({
    "li", "wang", "zhang", "liu", "chen", "yang", "zhao", "huang", "zhou", "wu", "xu", "sun", "hu",
    "zhu", "gao", "lin", "he", "guo", "ma", "luo", "liang", "song", "zheng", "xie", "han", "tang",
    "feng", "yu", "dong", "xiao", "cheng", "cao", "yuan", "deng", "fu", "shen", "zeng", "peng", "lu",
    "su", "jiang", "cai", "jia", "ding", "wei", "xue", "ye", "yan", "pan", "du", "dai", "xia", "zhong",
    "tian", "ren", "fan", "fang", "shi", "yao", "tan", "liao", "zou", "xiong", "jin", "hao", "kong",
    "bai", "cui", "kang", "mao", "qiu", "qin", "gu", "hou", "shao", "meng", "long", "wan", "duan",
    "qian", "yin", "yi", "chang", "wen", "niu", "zhuang", "ouyang", "lei", "lai", "geng", "hong",
    "bao", "mo", "ni", "qi", "zhan", "ji",
})
# fmt: on


@dataclass(frozen=True)
class _Authors:
    names: tuple[str, ...]
    truncated: bool
    year: int | None = None  # a date written after the names ("… Sebastian Riedel.* 2019.9")


def _authors_of(text: str) -> _Authors | None:
    """Parse an author line; None when the line is not a list of names."""
    text = re.sub(r"\s+", " ", _TODO.sub(" ", _without_links(text))).strip(" ,，")
    date = _TRAILING_DATE.search(text)
    if date:
        text = text[: date.start()]
    text = _unwrap(text)
    truncated = bool(_ET_AL.search(text))
    chunks = _name_chunks(_ET_AL.sub("", text))
    if not chunks or not all(_is_name(c) for c in chunks):
        return None
    names = _ordered_names(chunks)
    if names is None:
        return None
    names = [n for n in names if n.lower() != "anonymous"]  # an anonymous submission has no names
    if not names:
        return None  # keep the line as a note rather than lose it
    return _Authors(tuple(names), truncated, int(date["year"]) if date else None)


def _unwrap(text: str) -> str:
    """Strip emphasis and end punctuation around an author line, keeping a final initial's dot."""
    while True:
        before = text
        text = text.strip().strip("*_").strip()
        if text.endswith((",", ";", "，")) or (text.endswith(".") and not re.search(r"\b[A-Z]\.$", text)):
            text = text[:-1]
        if text == before:
            return text


def _fix_combining(text: str) -> str:
    # "Da ́niel": a space slipped in before the combining acute when the PDF was copied.
    return unicodedata.normalize("NFC", re.sub(r"\s+(?=[\u0300-\u036f])", "", text))


def _name_chunks(text: str) -> list[str]:
    text = _fix_combining(text)
    text = re.sub(r"\s+(?:and|&)\s+", ", ", text)
    return [c.strip() for c in re.split(r"[,，;；、]", text) if c.strip()]


def _is_name(chunk: str) -> bool:
    tokens = chunk.split()
    if not 1 <= len(tokens) <= 6:
        return False
    return all(_NAME_TOKEN.match(t) or t.lower() in NAME_PARTICLES for t in tokens) and any(
        len(t.strip(".")) > 1 for t in tokens
    )


def _ordered_names(chunks: list[str]) -> list[str] | None:
    singles = [c for c in chunks if len(c.split()) == 1]
    if len(singles) >= 2:
        return _from_family_first(chunks)
    if all(_FAMILY_INITIALS.match(c) for c in chunks):
        return [_initials_first(c) for c in chunks]
    if _chinese_family_first(chunks):
        return [" ".join(c.split()[1:] + c.split()[:1]) for c in chunks]
    return chunks


def _from_family_first(chunks: list[str]) -> list[str] | None:
    """Turn "Wang, Yizhong , Kordi, Yeganeh" round; a later "Li Chunyuan" on the line is family-first too."""
    names: list[str] = []
    i = 0
    while i < len(chunks):
        tokens = chunks[i].split()
        given = chunks[i + 1] if i + 1 < len(chunks) else None
        if len(tokens) == 1 and given and re.match(r"^\S+(?:\s+[A-Z]\.?)*$", given):
            names.append(f"{given} {chunks[i]}")
            i += 2
        elif len(tokens) > 1:
            names.append(" ".join(tokens[1:] + tokens[:1]))
            i += 1
        else:
            return None  # a lone single word: a list of things, not of "Last, First" names
    return names


def _initials_first(chunk: str) -> str:
    match = _FAMILY_INITIALS.match(chunk)
    assert match is not None
    return f"{match['initials']} {match['family']}"


def _chinese_family_first(chunks: list[str]) -> bool:
    pairs = [c.lower().split() for c in chunks]
    if any(len(p) != 2 or "." in "".join(p) for p in pairs):
        return False
    family_first = sum(a in _CHINESE_FAMILY and b not in _CHINESE_FAMILY for a, b in pairs)
    given_first = sum(b in _CHINESE_FAMILY and a not in _CHINESE_FAMILY for a, b in pairs)
    return family_first >= 2 and family_first > given_first


def _cited_names(text: str) -> tuple[tuple[str, ...], bool]:
    """Names in a short citation ("Dao et al.", "Wang & Komatsuzaki"), kept as written."""
    truncated = bool(_ET_AL.search(text))
    return tuple(_name_chunks(_ET_AL.sub("", text))), truncated


# --------------------------------------------------------------------------------------------
# Works inside an entry


@dataclass(frozen=True)
class _Span:
    start: int  # the line that opens the work (its item's marker line, or the title line)
    title_at: int
    end: int
    inherited_tags: tuple[str, ...]
    groups: tuple[str, ...]  # sub-sections from enclosing "family" items


def _records_of(entry: _Entry) -> list[Record]:
    if entry.table:
        return _table_records(entry)
    lines = entry.lines
    titles = {k: _title_of(line, head=(k == 0)) for k, line in enumerate(lines)}
    spans = _spans(lines, {k: t for k, t in titles.items() if t})
    records = []
    for n, span in enumerate(spans):
        prefix = _lead_in(lines, spans[0].start) if n == 0 else []
        title = titles[span.title_at]
        assert title is not None
        record = _record(entry, span, title, prefix)
        if record:
            records.append(record)
    return records


def _lead_in(lines: list[_Line], start: int) -> list[_Line]:
    """Lines before an entry's first work that are not a family item enclosing it."""
    return [line for line in lines[:start] if not (line.marker and line.indent < lines[start].indent)]


def _work_starts(lines: list[_Line], titles: dict[int, _Title]) -> list[int]:
    strong = [k for k, t in titles.items() if t.strength == STRONG]
    if strong:
        return strong
    head = titles.get(0)
    if head and head.strength == LINKED:
        return [0]
    # A bare or untitled head with titled sub-items is a family heading, not a work.
    wanted = LINKED if head else BARE
    subs = [k for k, t in titles.items() if k > 0 and lines[k].marker and t.strength >= wanted]
    subs = [k for k in subs if lines[k].indent > lines[0].indent]
    if subs:
        shallowest = min(lines[k].indent for k in subs)
        return [k for k in subs if lines[k].indent == shallowest]
    return [0] if head else []


def _spans(lines: list[_Line], titles: dict[int, _Title]) -> list[_Span]:
    starts = _work_starts(lines, titles)
    opens = [_opening_line(lines, s, starts[n - 1] if n else -1) for n, s in enumerate(starts)]
    parents, opened = _parents(lines), set(opens)
    spans = []
    for n, (title_at, start) in enumerate(zip(starts, opens, strict=True)):
        end = opens[n + 1] if n + 1 < len(opens) else len(lines)
        tags, groups = _ancestry(lines, parents, start, opened)
        spans.append(_Span(start, title_at, end, tags, groups))
    return spans


def _opening_line(lines: list[_Line], title_at: int, previous_title: int) -> int:
    """The item line a title belongs to (``1. ![LoRA](…)`` above `` `LoRA…` ``), or the title line."""
    if lines[title_at].marker:
        return title_at
    for k in range(title_at - 1, previous_title, -1):
        if lines[k].marker and lines[k].indent < lines[title_at].indent:
            return k
    return 0 if previous_title < 0 else title_at


def _ancestry(
    lines: list[_Line], parents: list[int | None], start: int, opens: set[int]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Badges of the items enclosing a work, and the names of those that are families."""
    tags: list[str] = []
    groups: list[str] = []
    k = parents[start]
    while k is not None:
        badges = list(_inline(lines[k].body).badges)
        tags = badges + tags
        if k not in opens:
            name = badges[0] if badges else _plain(_links_as_text(lines[k].body)).rstrip(":：")
            if name:
                groups.insert(0, name)
        k = parents[k]
    return tuple(tags), tuple(groups)


def _parents(lines: list[_Line]) -> list[int | None]:
    """For each line, the nearest item line above it with a smaller indent (its enclosing item)."""
    parents: list[int | None] = []
    stack: list[int] = []
    for k, line in enumerate(lines):
        if line.blank:
            parents.append(stack[-1] if stack else None)
            continue
        while stack and lines[stack[-1]].indent >= line.indent:
            stack.pop()
        parents.append(stack[-1] if stack else None)
        if line.marker:
            stack.append(k)
    return parents


# --------------------------------------------------------------------------------------------
# One record


@dataclass
class _Collected:
    """What the lines of one work say, gathered in document order."""

    tags: list[str] = field(default_factory=list)
    urls: list[tuple[str, str]] = field(default_factory=list)
    id_urls: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    todo: bool = False

    def add_links(self, inline: _Inline, ids: bool, skip: _Link | None = None) -> None:
        for link in inline.links:
            if skip and link.url == skip.url:
                skip = None  # the title's own link is already in, labelled by where it points
                continue
            self.add_url(_link_label(link), link.url)
            if ids or link.labelled:
                self.id_urls.append(link.url)

    def add_url(self, label: str, url: str) -> None:
        labels = {lb for lb, _ in self.urls}
        if (label, url) in self.urls:
            return
        base, n = label, 2
        while label in labels:
            label, n = f"{base}{n}", n + 1
        self.urls.append((label, url))


def _record(entry: _Entry, span: _Span, title: _Title, prefix: list[_Line]) -> Record | None:
    if not title.text:
        return None
    lines = entry.lines
    got = _Collected()
    for line in prefix + lines[span.start : span.title_at]:
        _collect_head(got, line)
    _collect_title_line(got, lines[span.title_at], title)
    body = lines[span.title_at + 1 : span.end]
    authors, body = _take_authors(body)
    if authors:
        got.add_links(_inline(authors[1]), ids=True)
        got.todo = got.todo or bool(_TODO.search(authors[1]))
    for line in body:
        got.add_links(_inline(line.body if line.marker else line.text), ids=False)
        got.todo = got.todo or bool(_TODO.search(line.text))
    got.notes.append(_notes(body))
    section = entry.section + span.groups
    return _build(title, got, authors[0] if authors else None, body, section, span.inherited_tags)


def _collect_head(got: _Collected, line: _Line) -> None:
    """Lines before the title: the item's badge line, a folded lead-in (``**1、[标题](…)**``)."""
    inline = _inline(_strip_task_box(line.body))
    got.tags.extend(inline.badges)
    got.add_links(inline, ids=True)
    got.todo = got.todo or bool(_TODO.search(line.text)) or _unchecked(line)
    rest = _TODO.sub("", _IMAGE.sub("", _strip_task_box(line.body))).strip()
    if rest and not _is_decoration(rest):
        got.notes.append(rest)


def _collect_title_line(got: _Collected, line: _Line, title: _Title) -> None:
    inline = _inline(_strip_task_box(line.body))
    got.tags.extend(inline.badges)
    got.todo = got.todo or bool(_TODO.search(line.text)) or _unchecked(line)
    if title.link:
        got.add_url(_host_label(title.link.url), title.link.url)
        got.id_urls.append(title.link.url)
    # After a link title comes a description: a link there is cited in passing unless labelled.
    got.add_links(inline, ids=title.strength != LINKED or title.trailer is not None, skip=title.link)
    if title.strength == LINKED and title.trailer is None:
        rest = _TODO.sub("", _IMAGE.sub("", title.rest)).strip().lstrip("*_").strip()
        rest = re.sub(r"^[:：\-–—|]+\s*", "", rest).strip()
        if rest:
            got.notes.append(rest)


def _unchecked(line: _Line) -> bool:
    match = _TASK_BOX.match(line.body) if line.marker else None
    return bool(match and match["mark"] == " ")


def _is_decoration(text: str) -> bool:
    """HTML images and empty tags carry nothing to keep in notes."""
    return not re.sub(r"<[^>]*>", "", _IMAGE.sub("", text)).strip()


def _take_authors(body: list[_Line]) -> tuple[tuple[_Authors, str] | None, list[_Line]]:
    """The author line is the first line after the title, if it is a list of names."""
    for k, line in enumerate(body):
        if line.blank:
            continue
        if line.marker or line.code or _is_table_row(line):
            return None, body
        authors = _authors_of(line.text)
        if authors is None:
            return None, body
        return (authors, line.text), body[:k] + body[k + 1 :]
    return None, body


def _build(
    title: _Title,
    got: _Collected,
    authors: _Authors | None,
    body: list[_Line],
    section: tuple[str, ...],
    inherited: tuple[str, ...],
) -> Record:
    ids = _identifiers(got.id_urls)
    trailer = title.trailer or _Trailer()
    names, truncated = trailer.cited, trailer.cited_truncated
    if authors:
        names, truncated = authors.names, authors.truncated
    year = trailer.year or (authors.year if authors else None)
    if year is None and ids["arxiv_id"]:
        year = arxiv_year(ids["arxiv_id"])  # the submission year: right for an arXiv-only link
    details = _details(body)
    identified = bool(ids["arxiv_id"] or ids["acl_id"] or ids["doi"])
    notes = "\n\n".join(n for n in got.notes if n)
    return Record(
        kind=_kind(identified, bool(names), trailer.venue, got.urls, section),
        title=title.text,
        authors=names,
        authors_truncated=truncated,
        year=year,
        venue=trailer.venue,
        **ids,
        urls=tuple(got.urls),
        tags=_unique(got.tags + list(inherited)),
        models=details.models,
        tasks=details.tasks,
        datasets=details.datasets,
        section=section,
        notes=notes,
        todo=got.todo or any(_is_todo_section(s) for s in section),
    )


def _identifiers(urls: list[str]) -> dict[str, object]:
    found: dict[str, object] = {"arxiv_id": None, "arxiv_version": None, "doi": None, "acl_id": None}
    for url in urls:
        arxiv = parse_arxiv(url)
        if arxiv and not found["arxiv_id"]:
            found["arxiv_id"], found["arxiv_version"] = arxiv
        acl = parse_acl(url)
        if acl and not found["acl_id"]:
            found["acl_id"] = acl
        doi = parse_doi(url) if "doi" in url.lower() else None
        if doi and not found["doi"]:
            found["doi"] = doi
    return found


def _is_todo_section(name: str) -> bool:
    return name.strip().lower() in {"todo", "to do", "to-do", "待读", "待办"}


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


# --------------------------------------------------------------------------------------------
# Notes


# llmref's export writes these for models/tasks/datasets its notes do not state; a note that
# kept them would grow by one line on every export and re-import.
_FIELD_LINE = re.compile(r"^\*\*(?:模型|任务|数据集)\*\*\s*[:：]")


def _notes(body: list[_Line]) -> str:
    kept = [
        line
        for line in body
        if line.code or line.blank or not (_is_decoration(line.text) or _is_field_line(line))
    ]
    indents = [line.indent for line in kept if not line.blank]
    margin = min(indents, default=0)
    out: list[str] = []
    for line in kept:
        text = _TODO.sub("", line.text).rstrip() if not line.code else line.text
        if not text:
            if out and out[-1]:
                out.append("")
            continue
        out.append(" " * (line.indent - margin) + text)
    return "\n".join(out).strip("\n")


def _is_field_line(line: _Line) -> bool:
    return not line.marker and bool(_FIELD_LINE.match(line.text))


# --------------------------------------------------------------------------------------------
# Models, tasks and datasets from note lines, sub-lists and tables


@dataclass(frozen=True)
class _Details:
    models: tuple[str, ...]
    tasks: tuple[str, ...]
    datasets: tuple[str, ...]


_LABEL_FIELDS = {"模型": "models", "任务": "tasks", "数据集": "datasets"}
_LABEL = re.compile(
    r"(?P<label>模型|任务|数据集)\s*(?:[:：]|(?=\s+[A-Za-z]))"
    r"|(?<![A-Za-z])(?P<en>Models?|Tasks?|Datasets?|Benchmarks?)\s*[:：]"
)
# "基于LLaMA 7B进行SFT": the model a work builds on.
_BASED_ON = re.compile(
    r"基于\s*(?P<model>[A-Za-z][A-Za-z0-9.\-]*(?:\s+\d+(?:\.\d+)?[BbMmKk])?)"
    r"(?=\s*(?:训练|进行|微调|预训练|[，,的]|$))"
)


def _details(body: list[_Line]) -> _Details:
    found: dict[str, list[str]] = {"models": [], "tasks": [], "datasets": []}
    pending: tuple[str, int] | None = None  # a label left empty: the sub-list below gives its values
    rows: list[_Line] = []
    for line in body:
        if line.code or line.blank:
            continue
        if _is_table_row(line):
            rows.append(line)
            continue
        if pending and line.marker and line.indent >= pending[1]:
            _from_sub_item(found, pending[0], line.body)
            continue
        pending = _from_line(found, line)
    _from_table(found, rows)
    return _Details(*(_unique(found[f]) for f in ("models", "tasks", "datasets")))


def _from_line(found: dict[str, list[str]], line: _Line) -> tuple[str, int] | None:
    text = line.body if line.marker else line.text
    for match in _BASED_ON.finditer(text):
        found["models"].append(match["model"])
    if "`" in text and re.search(r"数据|data", text, re.IGNORECASE):
        found["datasets"].extend(s.strip() for s in re.findall(r"`([^`]+)`", text))
    plain = _plain(text)
    labels = list(_LABEL.finditer(plain))
    if not labels or labels[0].start() != 0:
        return None
    empty = None
    for n, match in enumerate(labels):
        end = labels[n + 1].start() if n + 1 < len(labels) else len(plain)
        name = _label_field(match)
        values = _split_values(plain[match.end() : end])
        found[name].extend(values)
        empty = name if not values else None
    return (empty, line.indent) if empty else None


def _label_field(match: re.Match[str]) -> str:
    if match["label"]:
        return _LABEL_FIELDS[match["label"]]
    english = match["en"].lower().rstrip("s")
    return {"model": "models", "task": "tasks"}.get(english, "datasets")


def _from_sub_item(found: dict[str, list[str]], name: str, body: str) -> None:
    """``- **NER**: CoNLL03, OntoNotes 5.0`` under an empty 任务：, a task and its datasets."""
    parts = re.split(r"[:：]", _plain(body), maxsplit=1)
    head = parts[0].strip()
    if head.startswith("(") and head.endswith(")"):
        head = head[1:-1].strip()  # "(**NLG**): E2E NLG-Challenge" names the task NLG
    if head:
        found[name].append(head)
    if len(parts) == 2 and name != "datasets":
        found["datasets"].extend(_split_values(parts[1]))


def _split_values(text: str) -> list[str]:
    """Split on commas outside brackets: "GLM (2B,10B)" is one model."""
    values, depth, current = [], 0, ""
    for char in text:
        if char in "([（":
            depth += 1
        elif char in ")]）":
            depth -= 1
        if char in ",，、;；" and depth <= 0:
            values.append(current)
            current = ""
        else:
            current += char
    values.append(current)
    cleaned = (v.strip().strip("。.").strip() for v in values)
    return [v for v in cleaned if v]


def _from_table(found: dict[str, list[str]], rows: list[_Line]) -> None:
    cells = [_cells(r.text) for r in rows if not _is_separator(r.text)]
    if len(cells) < 2:
        return
    header = [_plain(c).lower() for c in cells[0]]
    for col, name in enumerate(header):
        target = _column_field(name)
        if target:
            for row in cells[1:]:
                if col < len(row):
                    found[target].extend(_split_values(_plain(row[col])))


def _column_field(header: str) -> str | None:
    if re.search(r"数据集|dataset|benchmark", header):
        return "datasets"
    if re.search(r"任务|^tasks?$", header):
        return "tasks"
    if re.search(r"模型|^models?$", header):
        return "models"
    return None


def _cells(text: str) -> list[str]:
    return [c.strip() for c in text.strip().strip("|").split("|")]


def _is_separator(text: str) -> bool:
    return bool(re.match(r"^\|?\s*:?-{2,}", text))


# --------------------------------------------------------------------------------------------
# Table rows at section level: one record per row that links a work


def _table_records(entry: _Entry) -> list[Record]:
    rows = [_cells(r.text) for r in entry.lines if not _is_separator(r.text)]
    if len(rows) < 2:
        return []
    header = [_plain(_links_as_text(h)) for h in rows[0]]
    records = []
    for row in rows[1:]:
        record = _table_record(entry, header, row)
        if record:
            records.append(record)
    return records


def _table_record(entry: _Entry, header: list[str], row: list[str]) -> Record | None:
    links = [(col, link) for col, cell in enumerate(row) for link in _inline(cell).links]
    if not links:
        return None
    title_col, title_link = links[0]
    got = _Collected()
    got.add_url(_host_label(title_link.url), title_link.url)
    got.id_urls.append(title_link.url)
    for _, link in links[1:]:
        got.add_url(_link_label(link), link.url)
        got.id_urls.append(link.url)
    year = None
    notes = []
    for col, cell in enumerate(row):
        text = _plain(_links_as_text(cell))
        if col == title_col or not text:
            continue
        date = re.match(r"^(?P<year>(?:19|20)\d{2})(?:[-/.]\d{1,2}){0,2}$", text)
        year = year or (int(date["year"]) if date else None)
        notes.append(f"{header[col]}: {text}" if col < len(header) and header[col] else text)
    got.notes.append("\n".join(notes))
    title = _Title(_clean_title(title_link.text), LINKED, trailer=_Trailer(year=year))
    return _build(title, got, None, [], entry.section, ()) if title.text else None


# --------------------------------------------------------------------------------------------
# Link labels and kinds

_CODE_HOSTS = ("github.com", "gitlab.com", "gitee.com", "bitbucket.org", "huggingface.co")
_ARTICLE_HOSTS = (
    "zhihu.com",
    "weixin.qq.com",
    "medium.com",
    "jianshu.com",
    "csdn.net",
    "juejin.cn",
    "docs.google.com",
    "youtube.com",
    "youtu.be",
    "bilibili.com",
    "notion.site",
    "notion.so",
)
_PAPER_HOSTS = (
    "arxiv.org",
    "aclanthology.org",
    "aclweb.org",
    "openreview.net",
    "papers.nips.cc",
    "proceedings.neurips.cc",
    "proceedings.mlr.press",
    "jmlr.org",
    "dl.acm.org",
    "ieeexplore.ieee.org",
    "doi.org",
    "semanticscholar.org",
    "aaai.org",
    "ijcai.org",
    "openaccess.thecvf.com",
    "link.springer.com",
    "sciencedirect.com",
    "nature.com",
    "science.org",
)
# Section names whose head noun says what their links are ("Base Models", "LLM Training Frameworks").
_SECTION_KINDS = (
    ("dataset", re.compile(r"(?:\b(?:data|datasets?|corpora|corpus)|数据集?)\s*[:：]?$", re.IGNORECASE)),
    ("tool", re.compile(r"(?:\b(?:tools?|toolkits?|frameworks?|librar(?:y|ies))|工具)\s*[:：]?$", re.I)),
    ("demo", re.compile(r"(?:\b(?:demos?|playgrounds?)|演示|体验)\s*[:：]?$", re.IGNORECASE)),
    ("model", re.compile(r"(?:\b(?:models?|checkpoints?|open llms?)|模型)\s*[:：]?$", re.IGNORECASE)),
    ("blog", re.compile(r"(?:\bblogs?|博客)\s*[:：]?$", re.IGNORECASE)),
    ("article", re.compile(r"(?:\barticles?|参考|文章)\s*[:：]?$", re.IGNORECASE)),
    ("paper", re.compile(r"(?:\bpapers?|论文)\s*[:：]?$", re.IGNORECASE)),
)


def _host(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.netloc.lower().removeprefix("www."), parts.path.lower()


def _host_is(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def _host_label(url: str) -> str:
    host, path = _host(url)
    if _host_is(host, _PAPER_HOSTS) or path.endswith(".pdf"):
        return "pdf"
    if _host_is(host, _CODE_HOSTS):
        return "project"
    if _host_is(host, _ARTICLE_HOSTS):
        return "article"
    if _is_blog_url(host, path):
        return "blog"
    return "url"


def _link_label(link: _Link) -> str:
    if link.labelled and link.text and len(link.text.split()) <= 3:
        return _plain(link.text).lower()
    return _host_label(link.url)


def _is_blog_url(host: str, path: str) -> bool:
    blog_hosts = ("substack.com", "lilianweng.github.io", "wordpress.com", "blogspot.com")
    return host.startswith("blog.") or "/blog" in path or host.endswith(blog_hosts)


def _kind(
    identified: bool, authored: bool, venue: str | None, urls: list[tuple[str, str]], section: tuple[str, ...]
) -> str:
    if identified or authored or not urls:
        return "paper"  # title-only entries and short citations name papers
    if any(re.sub(r"\d+$", "", label) in {"pdf", "paper"} for label, _ in urls):
        return "paper"  # a link to the paper itself, even on a personal site
    if venue:
        return "blog" if "blog" in venue.lower() else "paper" if venue != "GitHub" else "project"
    label, url = urls[0]
    host, path = _host(url)
    by_section = _section_kind(section)
    if host.startswith(("chat.", "demo.")) or "/spaces/" in path:
        return "demo"
    if _host_is(host, _CODE_HOSTS):
        return _code_kind(host, path, by_section)
    if by_section in {"model", "tool", "dataset", "demo"}:
        return by_section  # "Open LLM": a model's announcement post still names the model
    if label.startswith("blog") or _is_blog_url(host, path):
        return "blog"
    if _host_is(host, _ARTICLE_HOSTS):
        return "article"
    return by_section or "project"


def _code_kind(host: str, path: str, by_section: str | None) -> str:
    if path.startswith("/datasets/") or re.search(r"\.(?:json|jsonl|csv|tsv|parquet)$", path):
        return "dataset"
    if by_section in {"model", "tool", "dataset", "demo"}:
        return by_section
    return "model" if host == "huggingface.co" else "project"


def _section_kind(section: tuple[str, ...]) -> str | None:
    for name in reversed(section):
        for kind, pattern in _SECTION_KINDS:
            if pattern.search(name):
                return kind
    return None


# --------------------------------------------------------------------------------------------


def read_markdown_list(text: str) -> list[Record]:
    """Every work a Markdown paper list names, in document order, without keys."""
    records: list[Record] = []
    for entry in _entries(_read_lines(text)):
        records.extend(_records_of(entry))
    return records


# --------------------------------------------------------------------------------------------
# What the reader makes of a piece of text, for writers (formats/markdown_export.py) that must
# write a record so that this reader gives it back.


def stated_details(notes: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The ``(models, tasks, datasets)`` that the lines of ``notes`` give a record."""
    details = _details(_read_lines(notes))
    return details.models, details.tasks, details.datasets


def stated_links(notes: str) -> list[tuple[str, str]]:
    """``(label, url)`` for each link in ``notes``, labelled as the reader labels it (unnumbered)."""
    lines = _read_lines(notes)
    inlines = (_inline(line.body if line.marker else line.text) for line in lines)
    return [(_link_label(link), link.url) for inline in inlines for link in inline.links]


def title_link_label(url: str) -> str:
    """The label a title link (``[Title](url)``) gets: it says what the link points at."""
    return _host_label(url)


def read_title_trailer(text: str) -> tuple[str | None, int | None, tuple[str, ...], bool] | None:
    """``(venue, year, cited names, truncated)`` from what follows a title, or None if it is prose."""
    trailer = _trailer(text)
    if trailer is None:
        return None
    return trailer.venue, trailer.year, trailer.cited, trailer.cited_truncated
