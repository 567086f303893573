"""The LaTeX decoder shared by the arXiv snapshot reader (plain text with TeX) and the BibTeX reader
(TeX source)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from llmref.formats.latex import _parser, _quick_math, collapse_spaces, decode_tex, latex_to_text

# The same for plain text with TeX in it and for TeX source.
COMMON = [
    # Accents in every spelling.
    ("Bal\\'azs", "Balázs"),
    ("J{\\'e}gou", "Jégou"),
    ("{\\O}bro", "Øbro"),
    ("Fran\\c{c}ois", "François"),
    ("{\\L}ukasz", "Łukasz"),
    ('Gr\\"obner bases', "Gröbner bases"),
    ("{\\'\\i}", "í"),
    # Math loses its $ and is spaced as written.
    ("Sorting in $O(n \\log n)$ time", "Sorting in O(n log n) time"),
    ("$\\alpha$-divergences", "α-divergences"),
    ("Embeddings in $\\mathbb{R}^{d}$", "Embeddings in ℝ^d"),
    ("$16\\times 16$ words", "16× 16 words"),
    ("Regret $\\tilde{O}(\\sqrt{T})$", "Regret Õ(√(T))"),
    ("Sorting in $ O(n) $ time", "Sorting in O(n) time"),
    # Macros: known ones, logos, and unknown ones by their argument, or their name in math or
    # when capitalised.
    ("\\emph{Very} \\textbf{bold} {LoRA}", "Very bold LoRA"),
    ("{\\em Lorentzian} manifolds", "Lorentzian manifolds"),
    ("\\mbox{G-Animal's} Journal", "G-Animal's Journal"),
    ("{\\TeX} and \\LaTeX, in {\\MF}", "TeX and LaTeX, in METAFONT"),
    ("{\\noopsort{1973b}}1973", "1973"),
    ("a \\noopsort{x} b", "a b"),
    ("Code at \\url{https://github.com/x/y}.", "Code at https://github.com/x/y."),
    ("See \\href{https://example.org}{the code}", "See the code"),
    ("$\\Q(\\sqrt{5})$", "Q(√(5))"),
    ("$\\foo$", "foo"),
    ("Report to \\CTAN", "Report to CTAN"),
    ("a \\foo b", "a b"),
    ("a \\foo{bar} b", "a bar b"),
    ("50\\% R\\&D", "50% R&D"),
    # Whitespace is collapsed; broken TeX still gives text.
    ("  many \n\t spaces  ", "many spaces"),
    ("Unbalanced {brace", "Unbalanced brace"),
    ("A lone $ sign", "A lone sign"),
    ("", ""),
]


@pytest.mark.parametrize(("tex", "text"), COMMON)
def test_plain_text_and_tex_source_share_the_rules(tex: str, text: str) -> None:
    assert decode_tex(tex) == text
    assert latex_to_text(tex) == text


@pytest.mark.parametrize(
    ("tex", "plain", "source"),
    [
        ("pages 1--10", "pages 1--10", "pages 1–10"),
        ("a---b", "a---b", "a—b"),
        ("``quoted''", "``quoted''", "“quoted”"),
        ("~50 events", "~50 events", "50 events"),
        ("\\'e--\\'e", "é--é", "é–é"),
        ("Bal\\'azs~et~al.", "Balázs~et~al.", "Balázs et al."),
        ("D0 --> K- decays", "D0 --> K- decays", "D0 –> K- decays"),
    ],
)
def test_dashes_quotes_and_ties_are_tex_only_in_tex_source(tex: str, plain: str, source: str) -> None:
    # arXiv shows these as written, and ~ in an abstract mostly means "about".
    assert decode_tex(tex) == plain
    assert latex_to_text(tex) == source


@pytest.mark.parametrize("tex", ["Up 95% on Q&A, #1", "$x$: up 95% on Q&A, #1"])
def test_percent_ampersand_and_hash_are_characters_in_plain_text(tex: str) -> None:
    assert decode_tex(tex) == tex.replace("$x$", "x")


@pytest.mark.parametrize(
    "math",
    [
        "$O(n \\log n)$",
        "$k=12$",
        "$\\epsilon = 0.05$",
        "$x^{2} \\le 1$",
        "$\\mathbf{W} \\in \\mathbb{R}^{d \\times k}$",
        "$r \\ll \\min(d,k)$",
        "$\\pi\\pi$",
        "$\\sum_{k,l} u_{i,j}$",
        "$\\alpha_{12}$",
        "$\\TeX$",
    ],
)
def test_the_quick_math_path_agrees_with_the_parser(math: str) -> None:
    quick = _quick_math(math)
    assert quick is not None
    assert quick == _parser(plain=True)(math)


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        ("in {\\em a} $b$ \\'c", "in a b ć"),
        ("{\\em a}{b}", "ab"),
        ("$x$, $y$.", "x, y."),
        ("x \\noopsort{a} {\\bf y} z", "x y z"),
        # Pieces that cannot be told apart: the whole text is parsed.
        ("\\begin{itemize}\\item One\\end{itemize}", "* One"),
        ("x} {\\bf y}", "x y"),
    ],
)
def test_pieces_of_tex_are_decoded_within_plain_text(tex: str, text: str) -> None:
    assert decode_tex(tex) == text


@given(st.text(alphabet=st.characters(blacklist_characters="\\${}")))
@settings(max_examples=300, deadline=None)
def test_plain_text_without_tex_is_only_collapsed(text: str) -> None:
    assert decode_tex(text) == " ".join(text.split())
    assert collapse_spaces(text) == " ".join(text.split())


def test_text_without_tex_does_not_import_the_parser() -> None:
    code = (
        "import sys\n"
        "from llmref.formats.latex import decode_tex, latex_to_text\n"
        "assert decode_tex('Plain title,\\n  wrapped: 95% ~ Q&A') == 'Plain title, wrapped: 95% ~ Q&A'\n"
        "assert latex_to_text('{Plain} -- title') == 'Plain – title'\n"
        "print(sorted(m for m in sys.modules if m.startswith('pylatexenc')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("text", ["\\frac", "a \\sqrt", "\\href", "$\\frac{1}$"])
def test_tex_the_parser_cannot_read_never_stops_a_reader(text: str, capsys: pytest.CaptureFixture) -> None:
    assert isinstance(decode_tex(text), str)
    assert isinstance(latex_to_text(text), str)
    assert "WARNING" not in capsys.readouterr().err


_SOURCE_ATOMS = st.sampled_from(
    [*"ab Z9-`'~{}.,: ", "\\&", "\\%", "\\_", "\\#", "\\$", "\\{", "\\}", "--", "---", "``", "''", "\n"]
    + ["$x^{2}$", "$\\alpha$", "$O(n \\log n)$", " $k$-shot", "$", "{$y$}", "$ z$", "\\'e", "\\emph{x}"]
    + ["$3%$", "%", "&", "#", "\\textasciicircum{}", "\\textasciitilde{}", "\\textbackslash{}"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_SOURCE_ATOMS, max_size=14).map("".join))
def test_the_cheap_paths_for_tex_source_agree_with_the_parser(text: str) -> None:
    # Escaped characters, dashes, quotes, ties and braces skip pylatexenc, and math is decoded
    # one formula at a time; the result must be what pylatexenc gives for the whole. (Text
    # without TeX keeps a lone % or & as written.)
    assume("\\" in text or "$" in text or not set("%&#") & set(text))
    assert latex_to_text(text) == " ".join(_parser(plain=False)(text).split())


def test_an_exported_caret_comes_back_as_a_caret() -> None:
    # llmref's BibTeX writes ^ as \textasciicircum{}; reading it back must not give ˆ (U+02C6).
    assert latex_to_text("O(n\\textasciicircum{}2) \\& more") == "O(n^2) & more"
    assert latex_to_text("{\\textasciicircum{}} \\'e") == "^ é"
