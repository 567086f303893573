"""LaTeX in metadata → display text, for the arXiv snapshot and BibTeX readers.

Two kinds of text come in, and differ only in TeX's special characters:

* **TeX source** (:func:`latex_to_text`, for BibTeX fields): ``--``, ``---``, ````…''`` and ``~``
  are TeX's dashes, quotes and tie (– — “…” and a space), and ``%`` starts a comment, as they do
  when BibTeX hands the field to LaTeX.
* **Plain text with pieces of TeX** (:func:`decode_tex`, for arXiv's metadata): those stay as
  written. arXiv shows them that way, in abstracts ``~`` mostly means "about", and ``95%`` or
  ``Q&A`` are characters, not a comment and an alignment.

The rest is common. Accents in every spelling (``Bal\\'azs``, ``J{\\'e}gou``, ``{\\O}bro``) become
letters and braces are dropped. Math loses its ``$`` but stays readable, spaced as written
(``$O(n \\log n)$`` → ``O(n log n)``, ``$\\alpha$`` → ``α``, ``$x^{2}$`` → ``x^2``). A macro
pylatexenc does not know gives its argument (``\\mbox{x}`` → ``x``), else its name when that is
capitalised or in math (a logo or a local macro: ``\\TUB``, ``$\\Q$``). Whitespace is collapsed.

pylatexenc takes ~35 ms to import and ~0.3 ms for a title, so it is imported on first use and
only run on text that holds TeX; what it decodes is cached.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

# --------------------------------------------------------------------------------------------
# TeX source (BibTeX)

# Without these, braces, ties, dashes and quotes can be handled without the parser.
_NEEDS_PARSER = re.compile(r"[\\$]")
# Once escaped characters are taken out: TeX's other specials (a comment, an alignment).
_NEEDS_PARSER_TOO = re.compile(r"[\\$%&#]")
_SPECIALS = re.compile(r"[%&#]")
_CHEAP = (("---", "\u2014"), ("--", "\u2013"), ("``", "\u201c"), ("''", "\u201d"), ("~", " "))


# An escaped special character (\& \% \_ …), what an exported title or abstract mostly holds.
_ESCAPED = re.compile(r"(\\[&%_#${}]|\\text(?:asciicircum|asciitilde|backslash)\{\})")
_ESCAPES = {r"\textasciicircum{}": "^", r"\textasciitilde{}": "~", r"\textbackslash{}": "\\"}
# Inline math, not escaped ($x$, not \$5), without spaces inside its dollars (TeX drops those,
# which decoded on its own it could not tell).
_MATH = re.compile(r"(?<!\\)(\$(?=\S)[^$]*(?<=[^\s\\])\$)")
# Dashes and quotes that braces keep apart (`{`}`, -{}-): TeX does not join them; left to the parser.
_SPLIT_LIGATURE = re.compile(r"[-`'](?:\\?[{}])+[-`']")


def latex_to_text(value: str) -> str:
    r"""TeX source → Unicode display text: ``{\"u}`` → ü, ``--`` → –, braces removed."""
    if not value:
        return ""
    if "$$" in value or _SPLIT_LIGATURE.search(value):  # display math, split ligatures
        return _decode_source(value)
    if not _NEEDS_PARSER.search(value):
        return " ".join(_cheap(value).split())
    pieces = _MATH.split(value)  # text, math, text, …: an abstract's math, decoded one formula at a time
    if (
        len(pieces) > 1
        and (
            any(_NEEDS_PARSER_TOO.search(_ESCAPED.sub("", p)) for p in pieces[::2])
            # Dollars TeX would pair otherwise; a comment that runs on past the formula, an alignment.
            or any(
                p.count("{") != p.count("}") or _SPECIALS.search(_ESCAPED.sub("", p)) for p in pieces[1::2]
            )
        )
    ):
        return _decode_source(value)
    text = "".join(_decode_source(p) if i % 2 else _escaped_cheap(p) for i, p in enumerate(pieces))
    return " ".join(text.split())


def _escaped_cheap(text: str) -> str:
    """Text whose only TeX is escaped characters (each stands for itself), dashes, quotes, ties
    and braces; anything else goes to the parser."""
    if _NEEDS_PARSER_TOO.search(_ESCAPED.sub("", text)):
        return _decode_source(text)
    pieces = _ESCAPED.split(text)
    return "".join(_ESCAPES.get(p, p[1:]) if i % 2 else _cheap(p) for i, p in enumerate(pieces))


def _cheap(text: str) -> str:
    text = text.replace("{", "").replace("}", "")
    for latex, char in _CHEAP:
        text = text.replace(latex, char)
    return text


@lru_cache(maxsize=4096)
def _decode_source(value: str) -> str:
    # Cached: a file repeats its journals and authors (tugboat.bib: 2,720 × "TUGboat").
    return " ".join(_parser(plain=False)(value).split())


# --------------------------------------------------------------------------------------------
# Plain text with pieces of TeX (arXiv)

# A piece of TeX that can be decoded on its own: math ($…$, $$…$$, \[…\], \(…\)), a macro with
# its arguments (braces nest up to three deep), an accent with its letter, an escaped character,
# or a braced group.
_GROUP = r"\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}"
_ISLAND = re.compile(
    rf"""
    \$\$[^$]+\$\$ | \$[^$]+\$ | \\\[.*?\\\] | \\\(.*?\\\)
  | \\[a-zA-Z]+\*?(?:\s*\[[^\]{{}}]*\])?(?:\s*{_GROUP})*
  | \\['"^`~=.](?:\s*{_GROUP}|\s*\\[ij](?![a-zA-Z])|\s*[a-zA-Z])?
  | \\[^a-zA-Z\s]
  | {_GROUP}
    """,
    re.VERBOSE,
)


def decode_tex(value: str) -> str:
    """Plain text with pieces of TeX (arXiv's metadata) → display text, whitespace collapsed.

    Only the pieces of TeX go through the parser, each cached: plain text between them is kept
    as it is. When the pieces cannot be told apart (unbalanced braces, a lone ``$``, an
    environment), the whole text is parsed.
    """
    text = collapse_spaces(value)
    # Four substring tests take 1/50 of the time of one regular-expression search here.
    if not ("\\" in text or "$" in text or "{" in text or "}" in text):
        return text
    out = []
    end = 0
    spaced = False  # whether a piece decoded to nothing or with a space at either end
    # Pieces are matched where _next_tex finds a character that can start one, not searched
    # for: a regular-expression search tries each character of an abstract, at ~10x the cost.
    while (start := _next_tex(text, end)) >= 0:
        island = _ISLAND.match(text, start)
        if island is None or "\\begin" in island[0]:
            return _decode_whole(text)
        piece = _decode_island(island[0])
        out.append(text[end:start])
        out.append(piece)
        spaced = spaced or not piece or piece[0] == " " or piece[-1] == " "
        end = island.end()
    out.append(text[end:])
    # The text is collapsed already: a run of spaces can only be where a piece meets the text.
    joined = "".join(out).strip()
    return " ".join(joined.split()) if spaced and "  " in joined else joined


def _next_tex(text: str, start: int) -> int:
    """Where the next character that may start a piece of TeX (or end one: ``}``) is, or -1."""
    found = -1
    for char in "\\${}":
        # Each search stops at the nearest one found so far.
        at = text.find(char, start) if found < 0 else text.find(char, start, found)
        if at >= 0:
            found = at
    return found


def collapse_spaces(value: str) -> str:
    """``" ".join(value.split())``, five times faster on the usual ASCII text wrapped at newlines."""
    # Wrapped titles ("\n  ") take the slow path below; they are short.
    text = value.strip().replace("\n", " ")
    # A double space, or an ASCII character other than space and newline that str.split() takes
    # for whitespace: one substring test each (a character class in a regex is 20x slower).
    if text.isascii() and not (
        "  " in text
        or "\t" in text
        or "\r" in text
        or "\x0b" in text
        or "\x0c" in text
        or "\x1c" in text
        or "\x1d" in text
        or "\x1e" in text
        or "\x1f" in text
    ):
        return text
    return " ".join(text.split())


@lru_cache(maxsize=16_384)
def _decode_island(island: str) -> str:
    quick = _quick_math(island)
    text = quick if quick is not None else _parse(island)
    # Collapsed here, once, keeping a space at either end (it separates words).
    inner = " ".join(text.split())
    return f"{' ' if text[:1].isspace() else ''}{inner}{' ' if text[-1:].isspace() and inner else ''}"


@lru_cache(maxsize=4096)
def _parse(tex: str) -> str:
    return _parser(plain=True)(tex)


def _decode_whole(text: str) -> str:
    return collapse_spaces(_parser(plain=True)(text))


# A macro, with the one plain {argument} that may follow it, and the spaces before a next macro,
# which the parser drops ($n \to \infty$ is "n→∞"), as it does after a group ($x^{2} \le 1$).
_MACRO = re.compile(r"\\([a-zA-Z]+)(\s*\{[^{}\\$]*\})?(?:\s+(?=\\))?")
_GROUP_SPACE = re.compile(r"\}\s+(?=\\)")
# Escaped characters and TeX's other special characters are left to the parser.
_MATH_UNSAFE = re.compile(r"[%&#~]|\\[^a-zA-Z]")


def _quick_math(island: str) -> str | None:
    r"""What the parser makes of simple math, at a tenth of its cost (~0.1 ms a call); else ``None``.

    Simple: symbols, macros without arguments (``\log``, ``\alpha``) and macros with one plain
    argument (``\mathbb{R}``, decoded alone and cached: they recur with varying math around).
    Braces that only group (``x^{2}``) are dropped, as the parser does.
    """
    body = island.strip("$")
    if not island.startswith("$") or _MATH_UNSAFE.search(body):
        return None
    symbols, one_argument = _math_macros()

    def replace(macro: re.Match[str]) -> str:
        name, argument = macro[1], macro[2]
        if argument is None:
            return symbols.get(name, "\\")
        return _parse(f"$\\{name}{argument}$") if name in one_argument else "\\"

    body = _MACRO.sub(replace, _GROUP_SPACE.sub("}", body))
    return None if "\\" in body else body.replace("{", "").replace("}", "")


@cache
def _math_macros() -> tuple[dict[str, str], frozenset[str]]:
    """The parser's text for each macro without arguments (\\alpha → α, \\log → log), and the
    names of those taking exactly one mandatory argument (\\mathbb, \\sqrt, \\tilde)."""
    walker_db, text_db = _contexts(plain=True)
    symbols: dict[str, str] = {}
    one_argument = set()
    for spec in text_db.iter_macro_specs():
        parsing = walker_db.get_macro_spec(spec.macroname)
        arguments = parsing.args_parser.argspec if parsing is not None else ""
        replacement = spec.simplify_repl
        if not arguments and isinstance(replacement, str) and "%" not in replacement:
            # The first spec of a name is the one the parser uses.
            symbols.setdefault(spec.macroname, replacement)
        elif arguments == "{":
            one_argument.add(spec.macroname)
    return symbols, frozenset(one_argument)


# --------------------------------------------------------------------------------------------
# The parser

# The TeX family's logos, which pylatexenc does not know (tugboat.bib has 800 \TeX).
_LOGOS = {
    "TeX": "TeX",
    "LaTeX": "LaTeX",
    "LaTeXe": "LaTeX2ε",
    "BibTeX": "BibTeX",
    "AmSTeX": "AmS-TeX",
    "AMS": "AMS",
    "ConTeXt": "ConTeXt",
    "XeTeX": "XeTeX",
    "XeLaTeX": "XeLaTeX",
    "LuaTeX": "LuaTeX",
    "LuaLaTeX": "LuaLaTeX",
    "pdfTeX": "pdfTeX",
    "pdfLaTeX": "pdfLaTeX",
    "eTeX": "ε-TeX",
    "MF": "METAFONT",
    "MP": "METAPOST",
    "PS": "PostScript",
    "PiCTeX": "PiCTeX",
    "AllTeX": "(La)TeX",
    "Dash": "—",
    "dash": "—",
    "bs": "\\",
}
# In plain text these are characters; to TeX they start a comment, align or take an argument.
# Escaped before the parser sees them.
_TEX_PLAIN = re.compile(r"(?<!\\)([%&#])")


@cache
def _contexts(*, plain: bool) -> tuple[Any, Any]:
    """pylatexenc's macro tables for parsing and for text, with llmref's additions."""
    from pylatexenc import latexwalker, macrospec
    from pylatexenc.latex2text import MacroTextSpec, get_default_latex_context_db

    # The "nonascii-specials" category makes -- ~ `` '' dashes, a tie and quotes.
    specials = ["nonascii-specials"] if plain else []
    walker_db = latexwalker.get_default_latex_context_db().filter_context(exclude_categories=specials)
    text_db = get_default_latex_context_db().filter_context(exclude_categories=specials)
    # \noopsort{1973b} is the classic BibTeX sorting trick (xampl.bib): it prints nothing.
    walker_db.add_context_category(
        "llmref",
        prepend=True,
        macros=[macrospec.MacroSpec("noopsort", "{"), macrospec.MacroSpec("href", "{{")],
    )
    text_db.add_context_category(
        "llmref",
        prepend=True,
        macros=[
            MacroTextSpec("noopsort", discard=True),
            # What BibTeX writers (llmref's too) make of ^: the character, not a spacing accent.
            MacroTextSpec("textasciicircum", "^"),
            MacroTextSpec("url", "%s"),
            MacroTextSpec("href", "%(2)s"),
            *(MacroTextSpec(name, text) for name, text in _LOGOS.items()),
        ],
    )
    return walker_db, text_db


@cache
def _parser(*, plain: bool) -> Callable[[str], str]:
    """pylatexenc's LaTeX → text for TeX source, or (``plain``) for plain text with TeX in it."""
    import logging

    from pylatexenc import latexwalker
    from pylatexenc.latex2text import LatexNodes2Text

    # Its warnings about odd TeX (a \frac without arguments) would flood a million-paper import;
    # what it cannot decode stays as written.
    logging.getLogger("pylatexenc").setLevel(logging.ERROR)

    walker_db, text_db = _contexts(plain=plain)

    class _Decoder(LatexNodes2Text):  # type: ignore[misc]
        def macro_node_to_text(self, node: Any) -> str:
            if self.latex_context.get_macro_spec(node.macroname) is not None:
                return super().macro_node_to_text(node)
            # pylatexenc drops unknown macros with their arguments (\mbox{G-Animal's}); for
            # display, the argument is the text.
            args = node.nodeargd.argnlist if node.nodeargd and node.nodeargd.argnlist else []
            if any(args):
                return "".join(self._groupnodecontents_to_text(n) for n in args if n is not None)
            # Without one, the name says more than nothing in math ($\Q(\sqrt{5})$, a local
            # macro for ℚ) and when capitalised (a logo or acronym a file defines: \TUB, \CTAN);
            # lower-case ones outside math are spacing and font commands.
            in_math = node.parsing_state is not None and node.parsing_state.in_math_mode
            return node.macroname if in_math or node.macroname[:1].isupper() else ""

    decoder = _Decoder(latex_context=text_db, math_mode="text")

    def decode(value: str) -> str:
        source = _TEX_PLAIN.sub(r"\\\1", value) if plain else value
        walker = latexwalker.LatexWalker(source, latex_context=walker_db, tolerant_parsing=True)
        try:
            return decoder.nodelist_to_text(walker.get_latex_nodes()[0])
        except Exception:  # noqa: BLE001 - pylatexenc fails on some malformed TeX (\frac alone)
            # One odd abstract must not stop a million-paper import: it stays as written.
            return value

    return decode
