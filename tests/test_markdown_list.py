from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from llmref.formats.markdown_list import read_markdown_list
from llmref.ids import parse_acl, parse_arxiv
from llmref.models import KINDS, Record

CURATED = Path(__file__).parents[1] / "data" / "curated-list.md"


def read(text: str) -> list[Record]:
    return read_markdown_list(text)


def only(text: str) -> Record:
    records = read(text)
    assert len(records) == 1, [r.title for r in records]
    return records[0]


def by_title(records: list[Record], start: str) -> Record:
    matches = [r for r in records if r.title.startswith(start)]
    assert len(matches) == 1, [r.title for r in records]
    return matches[0]


# --------------------------------------------------------------------------------------------
# Titles, venues, years, identifiers

PAPER_ITEM = """\
## PEFT

1. ![LoRA](https://img.shields.io/badge/LoRA-blue)
     `LoRA: Low-Rank Adaptation of Large Language Models.` arxiv 2021
       Edward J. Hu, Yelong Shen [[pdf](https://arxiv.org/abs/2106.09685v2)] [[project](https://github.com/microsoft/LoRA)]
     模型：RoBERTa, DeBERTa， 任务：GLUE
     做了Low-data Setting的情况
"""


def test_backtick_title_item_gives_a_paper_with_everything_the_item_says() -> None:
    record = only(PAPER_ITEM)
    assert record.title == "LoRA: Low-Rank Adaptation of Large Language Models"
    assert record.kind == "paper"
    assert record.key is None
    assert record.authors == ("Edward J. Hu", "Yelong Shen")
    assert (record.venue, record.year) == ("arXiv", 2021)
    assert (record.arxiv_id, record.arxiv_version) == ("2106.09685", 2)
    assert record.urls == (
        ("pdf", "https://arxiv.org/abs/2106.09685v2"),
        ("project", "https://github.com/microsoft/LoRA"),
    )
    assert record.tags == ("LoRA",)
    assert record.models == ("RoBERTa", "DeBERTa")
    assert record.tasks == ("GLUE",)
    assert record.section == ("PEFT",)
    assert record.notes == "模型：RoBERTa, DeBERTa， 任务：GLUE\n做了Low-data Setting的情况"


@pytest.mark.parametrize(
    ("trailer", "venue", "year"),
    [
        ("ICLR2023", "ICLR", 2023),
        ("ACL 2021", "ACL", 2021),
        ("arxiv 2023", "arXiv", 2023),
        ("arXiv 2022", "arXiv", 2022),
        ("EMNLP2021", "EMNLP", 2021),
        ("EMNLP 2019.", "EMNLP", 2019),
        ("GitHub 2023", "GitHub", 2023),
        ("github 2023", "GitHub", 2023),
        ("ICML 2019", "ICML", 2019),
        ("EACL 2021  ", "EACL", 2021),
        ("2023", None, 2023),
        ("", None, None),
    ],
)
def test_venue_and_year_follow_the_title(trailer: str, venue: str | None, year: int | None) -> None:
    record = only(f"1. `Some Paper Title` {trailer}\n")
    assert (record.venue, record.year) == (venue, year)


def test_a_venue_in_brackets_is_not_a_citation() -> None:
    record = only("- **Some Paper Title** (ICLR 2023) [[pdf](https://openreview.net/forum?id=x)]\n")
    assert (record.authors, record.venue, record.year) == ((), "ICLR", 2023)


def test_a_broken_year_is_recovered_from_the_arxiv_id_never_stored() -> None:
    record = only(
        "1. `Opt-iml: Scaling` arxiv 202\n   A. Person, B. Person [[paper](https://arxiv.org/abs/2212.12017)]\n"
    )
    assert record.year == 2022
    assert record.venue == "arXiv"


def test_an_arxiv_only_link_gives_its_submission_year() -> None:
    record = only(
        "4. [BLOOM: A 176B-Parameter Open-Access Multilingual Language Model](https://arxiv.org/abs/2211.05100)\n"
    )
    assert (record.arxiv_id, record.year, record.kind) == ("2211.05100", 2022, "paper")
    assert record.urls == (("pdf", "https://arxiv.org/abs/2211.05100"),)


def test_no_year_is_invented_without_an_arxiv_id() -> None:
    record = only(
        "3. `Free Dolly` \n   Mike Conover, Matt Hayes [[blog](https://www.databricks.com/blog/x)]\n"
    )
    assert record.year is None


def test_acl_links_give_acl_ids() -> None:
    records = read(
        "1. `A` EACL 2021\n   Jonas Pfeiffer [[pdf](https://aclanthology.org/2021.eacl-main.39.pdf)]\n"
        "2. `B` ACL 2021\n   Xiang Lisa Li [[pdf](https://aclanthology.org/2021.acl-long.353/)]\n"
    )
    assert [r.acl_id for r in records] == ["2021.eacl-main.39", "2021.acl-long.353"]
    assert all(r.arxiv_id is None for r in records)


def test_a_doi_link_gives_a_doi() -> None:
    record = only(
        "- **Pre-train, Prompt, and Predict**, ACM Computing Surveys 2023. [[pdf](https://doi.org/10.1145/3560815)]\n"
    )
    assert record.doi == "10.1145/3560815"
    assert record.venue == "ACM Computing Surveys"


def test_titles_lose_trailing_dots_and_leading_spaces_but_keep_literal_stars() -> None:
    records = read(
        "1. ` Towards a Unified View of Parameter-Efficient Transfer Learning`\n"
        "2. `Vicuna: An Open-Source Chatbot Impressing GPT-4 with 90%* ChatGPT Quality` 2023\n"
        "3. `Revisiting Parameter-Efficient Tuning: Are We Really There Yet?`\n"
    )
    assert [r.title for r in records] == [
        "Towards a Unified View of Parameter-Efficient Transfer Learning",
        "Vicuna: An Open-Source Chatbot Impressing GPT-4 with 90%* ChatGPT Quality",
        "Revisiting Parameter-Efficient Tuning: Are We Really There Yet?",
    ]
    assert all(not r.identified and r.kind == "paper" for r in records)


def test_empty_items_give_no_record() -> None:
    assert read("## Tools\n\n1. `A Paper`\n2. \n- \n3.\n") == [
        only("1. `A Paper`\n").with_(section=("Tools",))
    ]


# --------------------------------------------------------------------------------------------
# Authors


@pytest.mark.parametrize(
    ("line", "authors", "truncated"),
    [
        (
            "Edward J. Hu, Yelong Shen, Zeyuan Allen-Zhu",
            ("Edward J. Hu", "Yelong Shen", "Zeyuan Allen-Zhu"),
            False,
        ),
        (
            "*Wang, Yizhong , Kordi, Yeganeh , Smith, Noah A. , Hajishirzi, Hannaneh*",
            ("Yizhong Wang", "Yeganeh Kordi", "Noah A. Smith", "Hannaneh Hajishirzi"),
            False,
        ),
        (
            "Chiang, Wei-Lin, Li, Zhuohan, Gonzalez, Joseph E., Xing, Eric P.",
            ("Wei-Lin Chiang", "Zhuohan Li", "Joseph E. Gonzalez", "Eric P. Xing"),
            False,
        ),
        (
            "Peng, Baolin, Li Chunyuan , He Pengcheng , Galley Michel , Gao Jianfeng",
            ("Baolin Peng", "Chunyuan Li", "Pengcheng He", "Michel Galley", "Jianfeng Gao"),
            False,
        ),
        ("Liang P, Bommasani R, Lee T, et al.", ("P Liang", "R Bommasani", "T Lee"), True),
        (
            "Wang Yidong, Yu Zhuohao, Zeng Zhengran and Zhang Yue.",
            ("Yidong Wang", "Zhuohao Yu", "Zhengran Zeng", "Yue Zhang"),
            False,
        ),
        (
            "Srinivasan Iyer, Da \u0301niel Simig, Punit Singh Koura, et al.",
            ("Srinivasan Iyer", "Dániel Simig", "Punit Singh Koura"),
            True,
        ),
        ("Hugo Touvron, Guillaume Lample.", ("Hugo Touvron", "Guillaume Lample"), False),
        (
            "Stella Biderman, Kyle O'Brien, USVSN Sai Prashanth, Oskar van der Wal",
            ("Stella Biderman", "Kyle O'Brien", "USVSN Sai Prashanth", "Oskar van der Wal"),
            False,
        ),
        (
            "Yongliang Shen, Kaitao Song, Xu Tan, Dongsheng Li",
            ("Yongliang Shen", "Kaitao Song", "Xu Tan", "Dongsheng Li"),
            False,
        ),
        (
            "*Fabio Petroni, Alexander H. Miller, Sebastian Riedel.* 2019.9",
            ("Fabio Petroni", "Alexander H. Miller", "Sebastian Riedel"),
            False,
        ),
    ],
)
def test_author_lines_in_every_order_become_first_last(
    line: str, authors: tuple[str, ...], truncated: bool
) -> None:
    record = only(f"1. `A Paper` 2023\n   {line} [[pdf](https://arxiv.org/abs/2301.00001)]\n")
    assert record.authors == authors
    assert record.authors_truncated is truncated
    assert line.split(",")[0].strip("*") not in record.notes  # the author line is not a note


def test_a_line_of_things_after_the_title_is_a_note_not_authors() -> None:
    record = only("1. `A Paper` 2023\n   Alpaca, Vicuna, Dolly都没有使用RLHF\n")
    assert record.authors == ()
    assert record.notes == "Alpaca, Vicuna, Dolly都没有使用RLHF"


def test_short_citations_give_authors_and_year() -> None:
    records = read(
        "硬件层面\n\n-  **Flash Attention** (Dao et al., 2022)\n"
        "- **parallelized attention and feedforward technique** (Wang & Komatsuzaki 2021)\n"
    )
    flash, parallel = records
    assert (flash.title, flash.authors, flash.authors_truncated, flash.year) == (
        "Flash Attention",
        ("Dao",),
        True,
        2022,
    )
    assert (parallel.authors, parallel.authors_truncated, parallel.year) == (
        ("Wang", "Komatsuzaki"),
        False,
        2021,
    )
    assert flash.section == ("硬件层面",)
    assert flash.kind == "paper" and not flash.identified


# --------------------------------------------------------------------------------------------
# Items holding several works


TWO_PAPERS = """\
3. ![Prefix Tuning](https://img.shields.io/badge/PrefixTuning-blue)

   `Prefix-Tuning: Optimizing Continuous Prompts for Generation` ACL 2021
   Xiang Lisa Li, Percy Liang [[pdf](https://aclanthology.org/2021.acl-long.353/)]
   **每一层**都加了若干个hidden states作为参数。

   `P-Tuning v2: Prompt Tuning Can Be Comparable to Fine-tuning` ACL 2022
   Xiao Liu, Kaixuan Ji [[pdf](https://arxiv.org/abs/2110.07602)]
   模型：BERT (335M), GLM (2B,10B)，任务：SuperGLUE
   模型：BERT, RoBERTa，任务：

   - **NER**: CoNLL03, OntoNotes 5.0, CoNLL04
   - **Extractive QA**: SQuAD 1.1, SQuAD 2.0
"""


def test_two_titles_in_one_item_are_two_records_sharing_the_item_badge() -> None:
    prefix, v2 = read(TWO_PAPERS)
    assert (prefix.acl_id, prefix.venue, prefix.year) == ("2021.acl-long.353", "ACL", 2021)
    assert (v2.arxiv_id, v2.venue, v2.year) == ("2110.07602", "ACL", 2022)
    assert prefix.tags == v2.tags == ("PrefixTuning",)
    assert prefix.notes == "**每一层**都加了若干个hidden states作为参数。"
    assert "P-Tuning" not in prefix.notes and "Prefix" not in v2.notes


def test_an_empty_task_label_takes_its_tasks_and_datasets_from_the_sub_list() -> None:
    _, v2 = read(TWO_PAPERS)
    assert v2.models == ("BERT (335M)", "GLM (2B,10B)", "BERT", "RoBERTa")
    assert v2.tasks == ("SuperGLUE", "NER", "Extractive QA")
    assert v2.datasets == ("CoNLL03", "OntoNotes 5.0", "CoNLL04", "SQuAD 1.1", "SQuAD 2.0")
    assert "- **NER**: CoNLL03, OntoNotes 5.0, CoNLL04" in v2.notes


FAMILY = """\
## PEFT

7. ![Adapter家族](https://img.shields.io/badge/Adapter家族-blue)列表：
\t
\t  - ![AdapterH](https://img.shields.io/badge/AdapterH-blue) (最原始的Adapter)
\t    `Parameter-Efficient Transfer Learning for NLP` ICML 2019
\t    Neil Houlsby, Andrei Giurgiu [[pdf](https://arxiv.org/abs/1902.00751)]
\t    模型：BERT，任务：GLUE
\t  - ![AdapterL](https://img.shields.io/badge/AdapterL-blue)
\t    `Exploring Versatile Generative Language Model` EMNLP 2020
\t    Zhaojiang Lin, Andrea Madotto [[pdf](https://aclanthology.org/2020.findings-emnlp.41/)]
\t    模型：GPT2-small，任务：
\t    - Chit-chat based Dialogue(**DLG**): PersonaChat
\t
\t    - (**NLG**): E2E NLG-Challenge(2019)
\t
"""


def test_a_family_item_is_a_sub_section_and_a_tag_of_its_members_not_a_record() -> None:
    h, l_ = read(FAMILY)
    assert h.title == "Parameter-Efficient Transfer Learning for NLP"
    assert h.tags == ("AdapterH", "Adapter家族")
    assert l_.tags == ("AdapterL", "Adapter家族")
    assert h.section == l_.section == ("PEFT", "Adapter家族")
    assert h.notes.startswith("(最原始的Adapter)")
    assert "列表" not in h.notes
    assert l_.tasks == ("Chit-chat based Dialogue(DLG)", "NLG")
    assert l_.datasets == ("PersonaChat", "E2E NLG-Challenge(2019)")
    assert l_.acl_id == "2020.findings-emnlp.41"


def test_a_category_item_with_linked_sub_items_is_a_sub_section() -> None:
    records = read(
        "## Tools\n\n- Serving\n  - [vLLM](https://github.com/vllm-project/vllm) - fast\n  - [TGI](https://github.com/huggingface/tgi)\n"
    )
    assert [(r.title, r.section, r.kind) for r in records] == [
        ("vLLM", ("Tools", "Serving"), "tool"),
        ("TGI", ("Tools", "Serving"), "tool"),
    ]
    assert records[0].notes == "fast"


# --------------------------------------------------------------------------------------------
# TODO markers


def test_todo_marker_sets_todo_and_stays_out_of_authors_and_notes() -> None:
    record = only(
        "2. ![AdaLoRA](https://img.shields.io/badge/AdaLoRA-blue) \n\n"
        "     `Adaptive Budget Allocation for Parameter-Efficient Fine-Tuning` ICLR2023\n"
        "     Qingru Zhang, Tuo Zhao [[pdf](https://arxiv.org/abs/2303.10512)] ==TODO==\n"
    )
    assert record.todo is True
    assert record.authors == ("Qingru Zhang", "Tuo Zhao")
    assert "TODO" not in record.notes
    assert (record.venue, record.year, record.tags) == ("ICLR", 2023, ("AdaLoRA",))


def test_unchecked_task_items_and_todo_sections_are_todo() -> None:
    records = read(
        "- [ ] `Unread Paper`\n- [x] `Read Paper`\n\n# TODO\n\n"
        "Decoupling Knowledge From Memorization Retrieval-augmented Prompt Learning\n"
    )
    assert [(r.title, r.todo) for r in records] == [
        ("Unread Paper", True),
        ("Read Paper", False),
        ("Decoupling Knowledge From Memorization Retrieval-augmented Prompt Learning", True),
    ]


# --------------------------------------------------------------------------------------------
# Link-title items, kinds and labels

RESOURCES = """\
# Papers

## Base Models

4. [ChatGLM: An Open Bilingual Dialogue Language Model](https://github.com/THUDM/ChatGLM-6B)

## Applications of LLMs
- [AutoGPT](https://github.com/Significant-Gravitas/Auto-GPT)

# Resources

- [ChatPiXiu](https://github.com/catqaq/ChatPiXiu): ChatGPT开源平替及领域适应

## Data

- [Alpaca Training Data](https://github.com/tatsu-lab/stanford_alpaca/blob/main/alpaca_data.json)
- Dolly 2.0 Training Data: [databricks-dolly-15k](https://github.com/databrickslabs/dolly/tree/master/data)

## Online Demo

- [Vicuna, Koala, FastChat-T5](https://chat.lmsys.org/)

## Tools

- [[peft](https://github.com/huggingface/peft)] from Huggingface🤗: 实现了LoRA和AdaLoRA。

# 参考
[【OpenLLM 007】PEFT](https://zhuanlan.zhihu.com/p/625502729)

# Blogs

- [Prompt Engineering](https://lilianweng.github.io/posts/2023-03-15-prompt-engineering/)
"""


def test_kinds_follow_the_section_and_the_link() -> None:
    records = read(RESOURCES)
    assert [(r.title, r.kind) for r in records] == [
        ("ChatGLM: An Open Bilingual Dialogue Language Model", "model"),
        ("AutoGPT", "project"),
        ("ChatPiXiu", "project"),
        ("Alpaca Training Data", "dataset"),
        ("Dolly 2.0 Training Data: databricks-dolly-15k", "dataset"),
        ("Vicuna, Koala, FastChat-T5", "demo"),
        ("peft", "tool"),
        ("【OpenLLM 007】PEFT", "article"),
        ("Prompt Engineering", "blog"),
    ]
    assert all(r.kind in KINDS for r in records)


def test_text_after_a_link_title_is_the_note() -> None:
    records = read(RESOURCES)
    assert by_title(records, "ChatPiXiu").notes == "ChatGPT开源平替及领域适应"
    assert by_title(records, "peft").notes == "from Huggingface🤗: 实现了LoRA和AdaLoRA。"
    assert by_title(records, "peft").urls == (("project", "https://github.com/huggingface/peft"),)


def test_link_title_labels_say_what_the_link_points_at() -> None:
    records = read(RESOURCES)
    assert by_title(records, "ChatGLM").urls[0][0] == "project"
    assert by_title(records, "Vicuna").urls == (("url", "https://chat.lmsys.org/"),)
    assert by_title(records, "【OpenLLM").urls[0][0] == "article"


def test_repeated_labels_keep_every_link() -> None:
    record = only(
        "- `A Paper` 2023\n  A. Person [[project](https://github.com/a/one)] "
        "[[project](https://github.com/a/two)] "
        "[[Project](https://github.com/a/three)]\n"
    )
    assert record.urls == (
        ("project", "https://github.com/a/one"),
        ("project2", "https://github.com/a/two"),
        ("project3", "https://github.com/a/three"),
    )


def test_full_width_comma_between_labelled_links() -> None:
    record = only(
        "## 二、调优\n\n**1、[QLoRA：一种高效LLMs微调方法](https://mp.weixin.qq.com/s/U9uHJrg3FbUprlZ46dptTQ)**\n\n"
        "**QLORA: Efficient Finetuning of Quantized LLMs**\n\n"
        "QLoRA是一种**高效的微调方法**。[[paper](https://arxiv.org/pdf/2305.14314.pdf)]，[[code](https://github.com/artidoro/qlora)]\n"
    )
    assert record.title == "QLORA: Efficient Finetuning of Quantized LLMs"
    assert record.urls == (
        ("article", "https://mp.weixin.qq.com/s/U9uHJrg3FbUprlZ46dptTQ"),
        ("paper", "https://arxiv.org/pdf/2305.14314.pdf"),
        ("code", "https://github.com/artidoro/qlora"),
    )
    assert (record.arxiv_id, record.kind, record.section) == ("2305.14314", "paper", ("二、调优",))
    assert "QLoRA是一种" in record.notes and "QLoRA：一种高效LLMs微调方法" in record.notes


def test_numbered_paragraphs_are_one_entry_each() -> None:
    records = read(
        "## 应用\n\n**1**、[**标题一**](https://mp.weixin.qq.com/s/a)\n\n**First Paper**\n\n说明。[[paper](https://arxiv.org/abs/2305.14564)]\n\n"
        "[**2、标题二**](https://mp.weixin.qq.com/s/b)\n\n**Second Paper**\n\n说明。[[paper](https://arxiv.org/pdf/2306.14892.pdf)]\n"
    )
    assert [(r.title, r.arxiv_id) for r in records] == [
        ("First Paper", "2305.14564"),
        ("Second Paper", "2306.14892"),
    ]


def test_a_paper_link_on_a_personal_site_makes_a_paper() -> None:
    record = only(
        "**1、[文章](https://mp.weixin.qq.com/s/x)**\n\n**AlpacaFarm: A Simulation Framework**\n\n说明[[paper](https://tatsu-lab.github.io/alpaca_farm_paper.pdf)]\n"
    )
    assert record.kind == "paper"


# --------------------------------------------------------------------------------------------
# Badges and tags


def test_badge_tags_use_the_url_label_with_shields_escapes() -> None:
    record = only(
        "- **Title,** ICML 2019. ![](https://img.shields.io/badge/Prefix_Tuning-blue) "
        "![P-Tuning](https://img.shields.io/badge/P--Tuning-green) ![Fancy](https://img.shields.io/badge/PPT-blue)\n"
    )
    assert record.tags == ("Prefix Tuning", "P-Tuning", "PPT")
    assert (record.title, record.venue, record.year) == ("Title", "ICML", 2019)


def test_a_badge_legend_is_neither_records_nor_tags() -> None:
    records = read(
        "# Else\n\n`Language Models as Knowledge Bases?` EMNLP 2019.\n\n"
        "*Fabio Petroni, Sebastian Riedel.* 2019.9 [[pdf](https://arxiv.org/abs/1909.01066)]\n\n"
        "![](https://img.shields.io/badge/T5-blue) The abbreviation of the work.\n\n"
        "![](https://img.shields.io/badge/Generation-brown) The mainly explored task of the work.\n"
    )
    assert len(records) == 1
    assert records[0].tags == ()
    assert records[0].authors == ("Fabio Petroni", "Sebastian Riedel")
    assert "The abbreviation of the work." in records[0].notes


def test_a_legend_under_its_own_heading_gives_nothing() -> None:
    assert (
        read(
            "## Keywords Convention\n\nWe follow [PromptPapers](https://github.com/thunlp/PromptPapers).\n\n"
            "![](https://img.shields.io/badge/T5-blue) The abbreviation of the work.\n"
        )
        == []
    )


# --------------------------------------------------------------------------------------------
# Sections


def test_section_path_includes_plain_text_sub_headings_and_drops_block_quotes() -> None:
    records = read(
        "# Papers\n\n## 实现ChatGPT的平替\n\n> 主要跟Instruction Tuning有关\n\n1. `Alpaca` 2023\n\n"
        "PEFT统一框架\n\n1. `UNIPELT`\n\n## Next\n\n- `Other`\n"
    )
    assert [(r.title, r.section) for r in records] == [
        ("Alpaca", ("Papers", "实现ChatGPT的平替")),
        ("UNIPELT", ("Papers", "实现ChatGPT的平替", "PEFT统一框架")),
        ("Other", ("Papers", "Next")),
    ]
    assert "主要跟" not in records[0].notes


def test_toc_and_in_page_links_are_not_records() -> None:
    assert (
        read(
            "[TOC]\n\n- [Papers](#Papers)\n  - [Overview](#overview)\n\n[**一、RLHF**](#一rlhf)\n\n# Papers\n"
        )
        == []
    )


def test_a_lone_link_paragraph_is_a_record_but_a_labelled_profile_link_is_not() -> None:
    records = read(
        "[重要论文的总结](https://docs.google.com/presentation/d/x/edit)\n\n知乎地址：[**ShuYini**](https://www.zhihu.com/people/x)\n"
    )
    assert [(r.title, r.kind, r.section) for r in records] == [("重要论文的总结", "article", ())]


def test_details_summary_names_a_sub_section() -> None:
    records = read(
        "## Open LLM\n<details>\n<summary>Meta</summary>\n\n  - [Llama 3-8|70B](https://llama.meta.com/llama3/)\n\n</details>\n"
        "\n- [After](https://github.com/a/b)\n"
    )
    assert [(r.title, r.section, r.kind) for r in records] == [
        ("Llama 3-8|70B", ("Open LLM", "Meta"), "model"),
        ("After", ("Open LLM",), "model"),
    ]


# --------------------------------------------------------------------------------------------
# Other people's lists


def test_other_bullets_numbering_and_bold_titles() -> None:
    records = read(
        "### Methods\n\n* **BitFit: Simple Fine-tuning,** ACL 2022. ![](https://img.shields.io/badge/BitFit-blue)\n\n"
        "  *Elad Ben Zaken, Yoav Goldberg*. [[pdf](https://arxiv.org/abs/2106.10199)], [[Project](https://github.com/x/BitFit)]\n\n"
        "+ [Paper Two](https://arxiv.org/abs/2104.08691) - a note\n"
        "1) `Paper Three` NeurIPS 2021\n"
    )
    assert [(r.title, r.venue, r.year, r.arxiv_id) for r in records] == [
        ("BitFit: Simple Fine-tuning", "ACL", 2022, "2106.10199"),
        ("Paper Two", None, 2021, "2104.08691"),
        ("Paper Three", "NeurIPS", 2021, None),
    ]
    assert records[0].authors == ("Elad Ben Zaken", "Yoav Goldberg")
    assert records[0].urls[1] == ("project", "https://github.com/x/BitFit")
    assert records[0].tags == ("BitFit",)
    assert records[1].notes == "a note"


def test_table_rows_with_links_are_records() -> None:
    records = read(
        "## Milestone Papers\n\n| Date | keywords | Paper |\n|:---:|:---:|---|\n"
        "| 2017-06 | Transformers | [Attention Is All You Need](https://arxiv.org/pdf/1706.03762.pdf) |\n"
        "| 2018-10 | BERT | [BERT](https://aclanthology.org/N19-1423.pdf) |\n| 2019 | nothing linked | |\n"
    )
    assert [(r.title, r.year, r.arxiv_id, r.acl_id) for r in records] == [
        ("Attention Is All You Need", 2017, "1706.03762", None),
        ("BERT", 2018, None, "N19-1423"),
    ]
    assert records[0].notes == "Date: 2017-06\nkeywords: Transformers"


def test_code_blocks_and_html_do_not_break_reading() -> None:
    records = read(
        "<p align='center'><img src='x.png'/></p>\n\n```\n- `Not A Title`\n```\n\n"
        "- `Real Title` 2020\n  ```python\n  x = 1\n  ```\n"
    )
    assert [r.title for r in records] == ["Real Title"]
    assert "x = 1" in records[0].notes


def test_a_paper_cited_in_a_note_does_not_become_the_record_id() -> None:
    record = only(
        "- [The Chinese Book for LLMs](http://aibox.ruc.edu.cn/zws/index.htm) - based on "
        "[*A Survey of Large Language Models*](https://arxiv.org/abs/2303.18223).\n"
    )
    assert record.arxiv_id is None
    assert ("pdf", "https://arxiv.org/abs/2303.18223") in record.urls


@pytest.mark.parametrize(
    "text", ["", "\n\n", "#", "- ", "[", "| a |", "<details>", "```", "**", "1、", "> x"]
)
def test_fragments_never_crash(text: str) -> None:
    assert read(text) == []


# --------------------------------------------------------------------------------------------
# The bundled list


@pytest.fixture(scope="module")
def curated() -> list[Record]:
    return read_markdown_list(CURATED.read_text(encoding="utf-8"))


def test_curated_list_lora(curated: list[Record]) -> None:
    lora = by_title(curated, "LoRA:")
    assert lora.arxiv_id == "2106.09685"
    assert lora.authors == (
        "Edward J. Hu", "Yelong Shen", "Phillip Wallis", "Zeyuan Allen-Zhu",
        "Yuanzhi Li", "Shean Wang", "Lu Wang", "Weizhu Chen",
    )  # fmt: skip
    assert lora.year == 2021
    assert lora.tags == ("LoRA",)
    assert lora.section == ("Papers", "PEFT (Parameter Efficient Fine-Tuning)")
    assert {"RoBERTa", "DeBERTa", "GPT2 M/L", "GPT3 175B"} <= set(lora.models)
    assert {"GLUE", "E2E NLG", "WebNLG", "DART", "WikiSQL", "MNLI-m", "SAMSum"} <= set(lora.tasks)
    assert "做了Low-data Setting的情况" in lora.notes


def test_curated_list_peft_items(curated: list[Record]) -> None:
    adalora = by_title(curated, "Adaptive Budget Allocation")
    assert (adalora.venue, adalora.year, adalora.todo) == ("ICLR", 2023, True)
    prefix = by_title(curated, "Prefix-Tuning")
    assert (prefix.acl_id, prefix.venue, prefix.year) == ("2021.acl-long.353", "ACL", 2021)
    v2 = by_title(curated, "P-Tuning v2")
    assert v2.arxiv_id == "2110.07602"
    assert "PrefixTuning" in prefix.tags and "PrefixTuning" in v2.tags
    assert {"NER", "Extractive QA", "SRL (Semantic Role Labeling)"} <= set(v2.tasks)
    assert {"CoNLL03", "OntoNotes 5.0", "CoNLL04", "SQuAD 1.1"} <= set(v2.datasets)
    ppt = by_title(curated, "PPT:")
    assert {"SST-2", "SST-5", "YahooAns", "RACE-m", "LCQMC"} <= set(ppt.datasets)
    assert ppt.models == ("T5-XXL (11B)", "mT5-XXL", "CPM-2")
    assert "GHT2-medium" in by_title(curated, "GPT Understands, Too").models


def test_curated_list_adapter_family(curated: list[Record]) -> None:
    members = [r for r in curated if "Adapter家族" in r.tags]
    assert [r.tags[0] for r in members] == ["AdapterH", "AdapterL", "AdapterP", "AdapterD"]
    assert all(
        r.section == ("Papers", "PEFT (Parameter Efficient Fine-Tuning)", "Adapter家族") for r in members
    )
    assert members[2].acl_id == "2021.eacl-main.39"
    assert not any(r.title.startswith("Adapter家族") for r in curated)


def test_curated_list_authors(curated: list[Record]) -> None:
    assert by_title(curated, "Self-Instruct").authors[:3] == (
        "Yizhong Wang",
        "Yeganeh Kordi",
        "Swaroop Mishra",
    )
    assert by_title(curated, "Instruction Tuning with GPT-4").authors == (
        "Baolin Peng", "Chunyuan Li", "Pengcheng He", "Michel Galley", "Jianfeng Gao",
    )  # fmt: skip
    helm = by_title(curated, "Holistic Evaluation")
    assert helm.authors_truncated and helm.authors[0] == "P Liang"
    assert by_title(curated, "PandaLM").authors[0] == "Yidong Wang"
    assert "Dániel Simig" in by_title(curated, "Opt-iml").authors


def test_curated_list_years_and_versions(curated: list[Record]) -> None:
    assert by_title(curated, "Opt-iml").year == 2022
    llama = by_title(curated, "LLaMA:")
    assert (llama.arxiv_id, llama.arxiv_version, llama.title) == (
        "2302.13971", 1, "LLaMA: Open and Efficient Foundation Language Models",
    )  # fmt: skip
    assert all(r.year is None or 1900 <= r.year <= 2100 for r in curated)


def test_curated_list_title_only_records(curated: list[Record]) -> None:
    unified = [r for r in curated if r.section[-1:] == ("PEFT统一框架",)]
    assert len(unified) == 5
    assert not any(r.identified for r in unified)
    assert unified[0].title == "Towards a Unified View of Parameter-Efficient Transfer Learning"
    flash = by_title(curated, "Flash Attention")
    assert (flash.authors, flash.year, flash.section[-1]) == (("Dao",), 2022, "硬件层面")
    assert by_title(curated, "Decoupling Knowledge").todo


def test_curated_list_kinds_and_count(curated: list[Record]) -> None:
    assert all(r.kind in KINDS for r in curated)
    assert all(r.key is None for r in curated)
    assert len(curated) == 54
    assert Counter(r.kind for r in curated) == {
        "paper": 36, "article": 5, "dataset": 5, "model": 3, "project": 3, "demo": 1, "tool": 1,
    }  # fmt: skip
    assert by_title(curated, "peft").kind == "tool"
    assert by_title(curated, "Vicuna, Koala").kind == "demo"
    assert by_title(curated, "Dolly 2.0 Training Data").kind == "dataset"
    assert by_title(curated, "Free Dolly").datasets == ("databricks-dolly-15k",)


def test_curated_list_every_arxiv_and_acl_link_is_kept(curated: list[Record]) -> None:
    text = CURATED.read_text(encoding="utf-8")
    links = [u for u in re.findall(r"\]\((\S+?)\)", text) if parse_arxiv(u) or parse_acl(u)]
    kept = {url for r in curated for _, url in r.urls}
    assert links and set(links) <= kept
