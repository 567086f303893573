from __future__ import annotations

import pytest

from llmref.keys import assign_keys, base_key, family_name, is_valid_key, unique_key
from llmref.models import Record


@pytest.mark.parametrize(
    ("record", "key"),
    [
        (
            Record(
                title="LoRA: Low-Rank Adaptation of Large Language Models",
                authors=("Edward J. Hu",),
                year=2021,
            ),
            "hu2021lora",
        ),
        (
            Record(
                title="The Power of Scale for Parameter-Efficient Prompt Tuning",
                authors=("Brian Lester",),
                year=2021,
            ),
            "lester2021power",
        ),
        (
            Record(title="P-Tuning v2: Prompt Tuning Can Be Comparable", authors=("Xiao Liu",), year=2022),
            "liu2022ptuning",
        ),
        (Record(title="AdapterDrop", authors=("Andreas Rücklé",), year=2021), "ruckle2021adapterdrop"),
        (Record(title="Pythia", authors=("Oskar van der Wal",), year=2023), "vanderwal2023pythia"),
        (Record(title="Flash Attention", authors=("Dao",), year=2022), "dao2022flash"),
        (Record(title="ChatGLM: An Open Bilingual Dialogue Language Model", kind="model"), "chatglm"),
        (Record(title="A", year=2020), "ref2020"),
        (Record(title="实现ChatGPT的平替", authors=("张三",), year=2023), "chatgpt2023"),
        (Record(title="Towards a Unified View", authors=("Junxian He",)), "hetowards"),
    ],
)
def test_base_key(record: Record, key: str) -> None:
    assert base_key(record) == key


def test_family_name_keeps_particles() -> None:
    assert family_name("Oskar van der Wal") == "van der Wal"
    assert family_name("Edward J. Hu") == "Hu"


def test_unique_key_suffixes_only_the_newcomer() -> None:
    taken = {"hu2021lora", "hu2021lorab"}
    assert unique_key("hu2021lora", taken.__contains__) == "hu2021lorac"
    assert unique_key("li2021prefix", taken.__contains__) == "li2021prefix"


def test_assign_keys_keeps_given_keys_and_avoids_them() -> None:
    a = Record(title="LoRA", authors=("Edward Hu",), year=2021)
    b = Record(key="hu2021lora", title="Other", authors=("X Y",))
    out = assign_keys([a, b])
    assert [r.key for r in out] == ["hu2021lorab", "hu2021lora"]


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("hu2021lora", True),
        ("a:b-c.d_e+f", True),
        ("with space", False),
        ("", False),
        ("{x}", False),
        ("é", False),
    ],
)
def test_valid_keys(key: str, ok: bool) -> None:
    assert is_valid_key(key) is ok


def test_the_sql_numbers_suffixes_as_suffix_makes_them() -> None:
    import sqlite3

    from llmref.keys import suffix, suffix_number_sql

    conn = sqlite3.connect(":memory:")
    sql = f"SELECT {suffix_number_sql('?1', '?2')}"
    for n in range(1, 300):
        assert conn.execute(sql, ["wang2020deep" + suffix(n), "wang2020deep"]).fetchone()[0] == n
    assert conn.execute(sql, ["wang2020deepB", "wang2020deep"]).fetchone()[0] == 1
    for rest in ("", "a", "bb", "1", "0", "01", "2x", "learning"):
        assert conn.execute(sql, ["wang2020deep" + rest, "wang2020deep"]).fetchone()[0] is None


def test_suffixed_reads_a_key_back_as_base_and_suffix() -> None:
    from llmref.keys import suffix, suffixed

    for n in (1, 17, 25, 26, 27, 124):
        assert ("wang2020deep", n) in suffixed("wang2020deep" + suffix(n))
    assert suffixed("kim2023models") == [("kim2023model", 18)]
    assert suffixed("deep") == [("dee", 15)]
    assert suffixed("deep10") == [("deep", 34)]
    assert suffixed("deepa") == [] and suffixed("deep1") == [] and suffixed("deep01") == []
