"""llmref and arXiv, against a real HTTP server on 127.0.0.1 that answers like arXiv's API."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmref import metadata
from llmref.cli.app import app
from llmref.errors import UsageError
from llmref.sources.arxiv import LOOPBACK_INTERVAL

from .arxiv_server import ArxivServer, Failure, arxiv_server_fixture, html_page, rate_limited, slow, truncated  # noqa: F401
from .conftest import runner_for


@pytest.fixture
def api(arxiv_server: ArxivServer, monkeypatch: pytest.MonkeyPatch) -> ArxivServer:
    monkeypatch.setenv("LLMREF_ARXIV_API_URL", arxiv_server.url)
    monkeypatch.setenv("LLMREF_ARXIV_TIMEOUT", "1")
    return arxiv_server


def record(run, ref: str) -> dict:
    result = run("show", ref, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def all_records(run) -> list[dict]:
    return json.loads(run("list", "--json").stdout)


@pytest.mark.parametrize(
    ("ref", "arxiv_id"),
    [
        ("arxiv:2106.09685", "2106.09685"),
        ("arXiv:2106.09685", "2106.09685"),
        ("2106.09685", "2106.09685"),
        ("2106.09685v2", "2106.09685"),
        ("https://arxiv.org/abs/2106.09685v2", "2106.09685"),
        ("https://arxiv.org/pdf/2106.09685.pdf", "2106.09685"),
        ("https://arxiv.org/pdf/2106.09685v1", "2106.09685"),
        ("http://export.arxiv.org/abs/2106.09685", "2106.09685"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("cs/0112017v1", "cs/0112017"),
        ("math.GT/0309136", "math/0309136"),
        ("10.48550/arXiv.2106.09685", "2106.09685"),
    ],
)
def test_every_pasted_form_names_the_paper(ref: str, arxiv_id: str) -> None:
    assert metadata.arxiv_ids([ref]) == [(ref, arxiv_id)]


def test_malformed_refs_are_rejected_before_any_request(api: ArxivServer, seeded) -> None:
    result = seeded("add", "2106.09685", "lora", "2106.096855")
    assert result.exit_code == 2
    assert "'lora', '2106.096855'" in result.stderr and "Accepted forms" in result.stderr
    assert api.requests == []


def test_one_paper_written_several_ways_is_asked_for_once(api: ArxivServer, seeded) -> None:
    result = seeded(
        "add", "2106.09685", "arXiv:2106.09685v1", "https://arxiv.org/pdf/2106.09685.pdf", "--json"
    )
    assert [o["status"] for o in json.loads(result.stdout)] == ["updated"]
    assert [r.id_list for r in api.requests] == [["2106.09685"]]


def test_no_refs_at_all_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        metadata.arxiv_ids([])


def test_refs_from_lines_skip_blanks_and_comments() -> None:
    lines = ["# reading list", "", "2106.09685  # LoRA", "  2303.10512", "#2101.00190", "1706.03762\t# tab"]
    assert metadata.refs_from_lines(lines) == ["2106.09685", "2303.10512", "1706.03762"]


def test_a_file_with_a_byte_order_mark_is_read(api: ArxivServer, seeded, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_bytes("\ufeff2106.09685\r\n".encode())
    result = seeded("add", "--from-file", str(ids), "--json")
    assert result.exit_code == 0, result.output


def test_adding_lora_fills_in_the_curated_record(api: ArxivServer, seeded) -> None:
    before = record(seeded, "hu2021lora")
    result = seeded("add", "arxiv:2106.09685")
    assert result.exit_code == 0, result.output
    assert "1 updated" in result.stderr
    after = record(seeded, "hu2021lora")
    assert after["key"] == "hu2021lora"
    assert after["tags"] == before["tags"] == ["LoRA"]
    assert after["notes"] == before["notes"] and after["section"] == before["section"]
    assert after["models"] == before["models"] and after["tasks"] == before["tasks"]
    assert len(after["authors"]) == 8 and after["authors"][0] == "Edward J. Hu"
    assert after["abstract"]
    assert (after["published"], after["arxiv_version"], after["primary_category"]) == (
        "2021-06-17",
        2,
        "cs.CL",
    )
    assert len(all_records(seeded)) == 54
    assert len(api.requests) == 1
    assert api.requests[0].id_list == ["2106.09685"]
    assert api.requests[0].headers["user-agent"].startswith("llmref/")


@pytest.mark.parametrize(
    "ref", ["2106.09685v1", "https://arxiv.org/pdf/2106.09685.pdf", "10.48550/arXiv.2106.09685"]
)
def test_adding_a_paper_again_in_another_form_never_duplicates(api: ArxivServer, seeded, ref: str) -> None:
    assert seeded("add", "2106.09685").exit_code == 0
    again = seeded("add", ref, "--json")
    assert again.exit_code == 0
    assert [o["status"] for o in json.loads(again.stdout)] == ["unchanged"]
    assert len(all_records(seeded)) == 54


def test_a_title_only_record_is_matched_by_title(api: ArxivServer, seeded) -> None:
    result = seeded("add", "2110.04366", "--json")
    assert json.loads(result.stdout)[0]["status"] == "updated"
    towards = record(seeded, "2110.04366")
    assert towards["key"] == "towards"
    assert towards["section"] == ["Papers", "PEFT (Parameter Efficient Fine-Tuning)", "PEFT统一框架"]
    assert towards["authors"][0] == "Junxian He"


def test_a_new_paper_gets_a_key_and_what_the_user_asked_for(api: ArxivServer, seeded) -> None:
    result = seeded(
        "add", "1706.03762", "--tag", "Transformer", "--note", "The one that started it.",
        "--section", "Papers > Architectures", "--model", "Transformer", "--task", "WMT14",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    paper = record(seeded, "1706.03762")
    assert paper["key"] == "vaswani2017attention"
    assert paper["tags"] == ["Transformer"] and paper["notes"] == "The one that started it."
    assert paper["section"] == ["Papers", "Architectures"]
    assert (paper["models"], paper["tasks"]) == (["Transformer"], ["WMT14"])
    assert paper["urls"] == {
        "abs": "https://arxiv.org/abs/1706.03762",
        "pdf": "https://arxiv.org/pdf/1706.03762",
    }
    assert paper["venue"] == "arXiv" and paper["year"] == 2017


def test_curated_fields_are_merged_never_replaced(api: ArxivServer, seeded) -> None:
    assert seeded("add", "2106.09685", "--tag", "PEFT", "--section", "Elsewhere").exit_code == 0
    lora = record(seeded, "hu2021lora")
    assert lora["tags"] == ["LoRA", "PEFT"]
    assert lora["section"] == ["Papers", "PEFT (Parameter Efficient Fine-Tuning)"]


def test_150_ids_take_two_requests(api: ArxivServer, seeded, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("# a big reading list\n" + "\n".join(f"2301.{10000 + i}" for i in range(150)) + "\n")
    result = seeded("add", "--from-file", str(ids), "--json")
    assert result.exit_code == 0, result.output
    assert [o["status"] for o in json.loads(result.stdout)] == ["added"] * 150
    assert [len(r.id_list) for r in api.requests] == [100, 50]
    assert api.requests[1].time - api.requests[0].time >= LOOPBACK_INTERVAL * 0.95
    assert len(all_records(seeded)) == 54 + 150


def test_refs_from_stdin(api: ArxivServer, seeded) -> None:
    result = seeded("add", "--from-file", "-", "--json", input="2106.09685\n\n# done\n")
    assert [o["status"] for o in json.loads(result.stdout)] == ["updated"]


def test_an_unknown_id_is_reported_and_the_rest_added(api: ArxivServer, seeded) -> None:
    result = seeded("add", "2301.11000", "1706.03762")
    assert result.exit_code == 1
    assert "not found" in result.stdout and "1 added, 1 not found" in result.stderr
    assert record(seeded, "1706.03762")["key"] == "vaswani2017attention"


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_server_that_is_down_changes_nothing(seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMREF_ARXIV_API_URL", f"http://127.0.0.1:{unused_port()}/api/query")
    before = all_records(seeded)
    result = seeded("add", "2106.09685", "1706.03762")
    assert result.exit_code == 5
    assert (
        result.stderr.startswith("Error: Could not get an answer from arXiv")
        and "connection refused" in result.stderr
    )
    assert "Traceback" not in result.output
    assert all_records(seeded) == before


@pytest.mark.parametrize(
    ("failures", "requests"),
    [
        ((rate_limited(1),), 2),
        ((truncated(),), 2),
        ((html_page(),), 2),
        ((slow(3),), 2),
        ((Failure(500), Failure(503)), 3),
    ],
)
def test_passing_faults_are_retried(api: ArxivServer, seeded, failures: tuple, requests: int) -> None:
    api.set_failures(*failures)
    result = seeded("add", "2106.09685", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["status"] == "updated"
    assert len(api.requests) == requests


def test_retry_after_is_honoured(api: ArxivServer, seeded) -> None:
    api.set_failures(rate_limited(1))
    assert seeded("add", "2106.09685").exit_code == 0
    assert api.requests[1].time - api.requests[0].time >= 0.95


_UNREADABLE_DATE = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom"
      xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">
  <opensearch:totalResults>1</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>
  <entry>
    <id>http://arxiv.org/abs/2106.09685v2</id>
    <updated>notadate</updated>
    <published>notadate</published>
    <title>LoRA: Low-Rank Adaptation of Large Language Models</title>
    <summary>An abstract.</summary>
    <author><name>Edward J. Hu</name></author>
    <link href="http://arxiv.org/abs/2106.09685v2" rel="alternate" type="text/html"/>
    <arxiv:primary_category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
</feed>"""


def test_an_entry_that_cannot_be_read_ends_in_one_clean_error(api: ArxivServer, seeded) -> None:
    api.set_failures(Failure(200, body=_UNREADABLE_DATE, content_type="application/atom+xml"))
    before = all_records(seeded)
    result = seeded("add", "2106.09685")
    assert result.exit_code == 5
    assert (
        result.stderr.startswith("Error: arXiv sent an entry that cannot be read")
        and "Hint: " in result.stderr
    )
    assert all_records(seeded) == before


@pytest.mark.parametrize(
    ("failure", "says"),
    [
        (Failure(500), "HTTP 500"),
        (html_page(), "HTML page"),
        (truncated(), "cut off"),
        (rate_limited(1), "HTTP 429"),
    ],
)
def test_lasting_faults_end_in_one_clean_error_and_no_change(
    api: ArxivServer, seeded, failure: Failure, says: str
) -> None:
    api.set_failures(*[failure] * 4)
    before = all_records(seeded)
    result = seeded("add", "2106.09685")
    assert result.exit_code == 5
    assert result.stderr.startswith("Error: ") and says in result.stderr and "Hint: " in result.stderr
    assert len(api.requests) == 4
    assert all_records(seeded) == before


def test_the_error_feed_of_a_bad_request_is_not_retried(api: ArxivServer, seeded) -> None:
    api.set_failures(
        Failure(400, body="<feed><entry><summary>incorrect id format for 2106.09685</summary></entry></feed>")
    )
    result = seeded("add", "2106.09685")
    assert result.exit_code == 5
    assert "incorrect id format" in result.stderr
    assert len(api.requests) == 1


def test_a_very_long_retry_after_is_not_waited_for(api: ArxivServer, seeded) -> None:
    api.set_failures(rate_limited(3600))
    result = seeded("add", "2106.09685")
    assert result.exit_code == 5 and "3600" in result.stderr
    assert len(api.requests) == 1


def test_old_format_entries_are_normalised(api: ArxivServer, seeded) -> None:
    result = seeded("add", "hep-th/9901001", "--json")
    assert result.exit_code == 0, result.output
    paper = record(seeded, "hep-th/9901001")
    assert "\n" not in paper["title"] and "  " not in paper["title"]
    assert paper["abstract"] == " ".join(paper["abstract"].split())


def test_refresh_shows_field_changes_and_dry_run_writes_nothing(api: ArxivServer, seeded) -> None:
    # The curated list gives HELM's authors as "Liang P, Bommasani R, Lee T, et al.".
    before = record(seeded, "liang2023holistic")
    assert before["authors_truncated"]
    dry = seeded("refresh", "liang2023holistic", "--dry-run")
    assert dry.exit_code == 0, dry.output
    lines = dry.stdout.splitlines()
    assert lines[0] == "liang2023holistic"
    assert any(line.startswith("  authors: P Liang, R Bommasani, T Lee → Percy Liang") for line in lines)
    assert any(line.startswith("  abstract: — → ") for line in lines)
    assert "1 record would change" in dry.stderr
    assert record(seeded, "liang2023holistic") == before
    done = seeded("refresh", "liang2023holistic", "--json")
    changed = json.loads(done.stdout)["changed"][0]
    assert changed["key"] == "liang2023holistic"
    assert changed["fields"]["authors_truncated"] == {"before": True, "after": False}
    after = record(seeded, "liang2023holistic")
    assert len(after["authors"]) > 3 and not after["authors_truncated"]
    assert after["year"] == 2023  # the list's year stays; arXiv's v1 is from 2022


def test_refresh_all_fetches_every_arxiv_record_in_one_request(api: ArxivServer, seeded) -> None:
    result = seeded("refresh", "--all", "--json")
    with_arxiv = [r for r in all_records(seeded) if r["arxiv_id"]]
    assert len(api.requests) == 1
    assert sorted(api.requests[0].id_list) == sorted(r["arxiv_id"] for r in with_arxiv)
    data = json.loads(result.stdout)
    assert "hu2021lora" in [c["key"] for c in data["changed"]]
    # The fixture server knows only some of the list's papers; the rest are reported.
    assert result.exit_code == 1 and data["problems"]
    again = json.loads(seeded("refresh", "hu2021lora", "--json").stdout)
    assert again["changed"] == []


def test_refresh_needs_keys_or_all(seeded) -> None:
    result = seeded("refresh")
    assert result.exit_code == 2 and "--all" in result.stderr


def test_resolve_links_an_exact_title_and_lists_the_rest(api: ArxivServer, seeded) -> None:
    result = seeded("resolve", "towards", "unipelt", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [o["key"] for o in data["linked"]] == ["towards"]
    assert [o["key"] for o in data["unresolved"]] == ["unipelt"]
    assert record(seeded, "towards")["arxiv_id"] == "2110.04366"
    assert all(r.params["search_query"].startswith("ti:") for r in api.requests)


def test_resolve_dry_run_writes_nothing(api: ArxivServer, seeded) -> None:
    assert seeded("resolve", "towards", "--dry-run").exit_code == 0
    assert record(seeded, "towards")["arxiv_id"] is None


def test_a_dry_run_on_a_missing_library_creates_none(api: ArxivServer, tmp_path: Path) -> None:
    # It shows what resolving the library a first run creates would link, and writes nothing.
    missing = tmp_path / "new" / "llmref.db"
    result = runner_for(missing)("resolve", "towards", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert [o["key"] for o in json.loads(result.stdout)["linked"]] == ["towards"]
    assert not missing.parent.exists()


def test_discover_marks_what_the_library_has_and_adds_picks(api: ArxivServer, seeded) -> None:
    shown = seeded("discover", "low-rank", "--json")
    assert shown.exit_code == 0, shown.output
    results = json.loads(shown.stdout)["results"]
    lora = next(r for r in results if r["arxiv_id"] == "2106.09685")
    assert lora["in_library"] == "hu2021lora"
    picked = seeded("discover", "attention", "--pick", "1", "--tag", "Classic", "--json")
    assert picked.exit_code == 0, picked.output
    assert [o["status"] for o in json.loads(picked.stdout)["added"]] == ["added"]
    assert record(seeded, "1706.03762")["tags"] == ["Classic"]


def test_discover_with_a_pick_out_of_range_shows_results_and_adds_nothing(api: ArxivServer, seeded) -> None:
    result = seeded("discover", "attention", "--pick", "9")
    assert result.exit_code == 2
    assert "1706.03762" in result.stdout and "nothing was added" in result.stderr
    assert seeded("show", "1706.03762").exit_code == 3


def test_discover_query_building() -> None:
    query = metadata.discovery_query("prefix tuning", author="Li", category="cs.CL", since=2021)
    assert (
        query
        == 'all:"prefix tuning" AND au:Li AND cat:cs.CL AND submittedDate:[202101010000 TO 299912312359]'
    )
    with pytest.raises(UsageError):
        metadata.discovery_query("")


def test_concurrent_llmref_processes_share_the_spacing(api: ArxivServer, tmp_path: Path, monkeypatch) -> None:
    # A spacing well above the time a process takes to start, so only the shared throttle can
    # explain the gaps; and one connection at a time: each request starts after the last ended.
    monkeypatch.setenv("LLMREF_ARXIV_INTERVAL", "0.8")
    api.set_failures(slow(0.5))
    db = tmp_path / "loop.db"
    assert CliRunner().invoke(app, ["--db", str(db), "init", "--empty"]).exit_code == 0
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "llmref", "--db", str(db), "add", arxiv_id], stderr=subprocess.PIPE
        )
        for arxiv_id in ("2106.09685", "2303.10512", "1706.03762")
    ]
    for proc in procs:
        assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    times = sorted(r.time for r in api.requests)
    assert len(times) == 3
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps[0] >= 0.5 + 0.8 * 0.95  # the slow first answer, then the spacing
    assert gaps[1] >= 0.8 * 0.95


def test_a_retry_after_holds_back_other_processes_too(api: ArxivServer, seeded, tmp_path: Path) -> None:
    from llmref.sources.arxiv import ArxivSource

    api.set_failures(rate_limited(1))
    ArxivSource().fetch(["2106.09685"])
    # A fresh source, as another process would have: it must still respect the deadline.
    start = time.monotonic()
    ArxivSource().fetch(["2303.10512"])
    assert api.requests[-1].time - api.requests[0].time >= 0.95
    assert time.monotonic() - start < 5


def test_a_corrupt_or_future_state_file_does_not_stall(api: ArxivServer, isolated: Path) -> None:
    from llmref.sources.arxiv import ArxivSource

    state = isolated / ".local" / "state" / "llmref"
    state.mkdir(parents=True)
    (state / "arxiv.state").write_text(f"{time.time() + 3600} garbage")
    start = time.monotonic()
    ArxivSource().fetch(["2106.09685"])
    assert time.monotonic() - start < 3


def test_an_unusable_state_folder_is_a_clean_error(
    api: ArxivServer, seeded, tmp_path: Path, monkeypatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    result = seeded("add", "2106.09685")
    assert result.exit_code == 5 and result.stderr.startswith("Error: Cannot use")


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("LLMREF_ARXIV_TIMEOUT", "abc", "not a number of seconds"),
        ("LLMREF_ARXIV_TIMEOUT", "0", "not a number of seconds"),
        ("LLMREF_ARXIV_API_URL", "127.0.0.1:9/api", "not an http(s) URL"),
        ("LLMREF_ARXIV_API_URL", "http://[::1/api", "not a URL"),
    ],
)
def test_bad_settings_are_clean_errors(seeded, monkeypatch, name: str, value: str, says: str) -> None:
    monkeypatch.setenv(name, value)
    result = seeded("add", "2106.09685")
    assert result.exit_code == 5 and says in result.stderr and "Hint:" in result.stderr


@pytest.mark.parametrize("value", ["inf", "nan", "-1"])
def test_a_spacing_that_is_no_number_of_seconds_is_a_clean_error(
    api: ArxivServer, seeded, monkeypatch, value: str
) -> None:
    monkeypatch.setenv("LLMREF_ARXIV_INTERVAL", value)
    result = seeded("add", "2106.09685")
    assert result.exit_code == 5 and "LLMREF_ARXIV_INTERVAL" in result.stderr and "Hint:" in result.stderr
    assert api.requests == []


def test_a_wrong_path_is_not_retried_and_names_the_setting(api: ArxivServer, seeded, monkeypatch) -> None:
    monkeypatch.setenv("LLMREF_ARXIV_API_URL", api.url.replace("/api/query", "/nothing-here"))
    result = seeded("add", "2106.09685")
    assert result.exit_code == 5 and "404" in result.stderr and "LLMREF_ARXIV_API_URL" in result.stderr
    assert len(api.requests) == 1


def test_refresh_keeps_an_edit_made_while_arxiv_was_answering(
    api: ArxivServer, seeded, tmp_path: Path
) -> None:
    import threading

    api.set_failures(slow(1.5))
    results = {}
    worker = threading.Thread(target=lambda: results.update(r=seeded("refresh", "liang2023holistic")))
    worker.start()
    time.sleep(0.5)
    assert seeded("tag", "liang2023holistic", "+ReadLater").exit_code == 0
    worker.join(timeout=30)
    assert results["r"].exit_code == 0, results["r"].output
    helm = record(seeded, "liang2023holistic")
    assert helm["tags"] == ["ReadLater"] and not helm["authors_truncated"]


def test_a_clash_fails_one_record_and_the_rest_are_refreshed(api: ArxivServer, seeded) -> None:
    from llmref.models import Record
    from llmref.store.library import Library

    db = Path(json.loads(seeded("stats", "--json").stdout)["path"])
    with Library.open(db) as lib:
        # arXiv gives 1111.2011 a DOI that another record already holds.
        lib.insert(Record(title="Holder of the DOI", doi="10.1103/PhysRevB.85.115117"))
        lib.insert(Record(title="Stale copy", arxiv_id="1111.2011"))
    for dry_run in (["--dry-run"], []):
        data = json.loads(seeded("refresh", "--all", "--json", *dry_run).stdout)
        assert any("already belongs" in (p["reason"] or "") for p in data["problems"])
        assert "hu2021lora" in [c["key"] for c in data["changed"]]
    assert record(seeded, "hu2021lora")["published"] == "2021-06-17"
    assert record(seeded, "1111.2011")["doi"] is None


def test_tex_in_arxiv_metadata_is_decoded_like_the_snapshot_import() -> None:
    from datetime import UTC, datetime

    import arxiv

    from llmref.sources.arxiv import _entry

    result = arxiv.Result(
        entry_id="http://arxiv.org/abs/1204.5678v2",
        title="An $O(n \\log n)$ Sorting\n  Algorithm",
        summary="  We sort in $O(n \\log n)$.\n",
        authors=[arxiv.Result.Author("Bal\\'azs Szegedy")],
        published=datetime(2012, 4, 1, tzinfo=UTC),
        updated=datetime(2012, 5, 1, tzinfo=UTC),
        primary_category="cs.DS",
        categories=["cs.DS"],
    )
    entry = _entry(result)
    assert (entry.title, entry.abstract, entry.authors) == (
        "An O(n log n) Sorting Algorithm",
        "We sort in O(n log n).",
        ("Balázs Szegedy",),
    )
    assert (entry.arxiv_id, entry.version, entry.published) == ("1204.5678", 2, "2012-04-01")
