"""The fake arXiv server itself, tested over real HTTP: its feeds are Atom that arxiv 4.0.2 parses, and its
failures look the way the tests that use it expect."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from urllib.parse import urlencode

import arxiv
import pytest

from .arxiv_server import (
    ATOM_CONTENT_TYPE,
    PAPERS,
    ArxivServer,
    Failure,
    arxiv_server_fixture,  # noqa: F401 - registers the fixture `arxiv_server`
    html_page,
    lookup,
    parse_id,
    rate_limited,
    slow,
    truncated,
    unavailable,
)

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
# Proxy variables in CI must not capture loopback traffic.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(server: ArxivServer, timeout: float = 5, **params: str) -> tuple[int, dict[str, str], bytes]:
    query = {"search_query": "", "id_list": "", "start": "0", "max_results": "100", **params}
    try:
        with OPENER.open(f"{server.url}?{urlencode(query)}", timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def feed_ids(body: bytes) -> list[str]:
    root = ET.fromstring(body)
    return [entry.findtext("atom:id", namespaces=NS) for entry in root.iterfind("atom:entry", NS)]


def total_results(body: bytes) -> int:
    return int(ET.fromstring(body).findtext("opensearch:totalResults", namespaces=NS))


def client_for(server: ArxivServer, num_retries: int = 0) -> arxiv.Client:
    client = arxiv.Client(page_size=100, delay_seconds=0, num_retries=num_retries)
    client.query_url_format = server.url + "?{}"
    client._session.trust_env = False  # private, see libraries.md §8: ignore proxy variables
    return client


# -- data ----------------------------------------------------------------------------------------------------


def test_every_paper_is_well_formed_data():
    for arxiv_id, paper in PAPERS.items():
        assert parse_id(arxiv_id) == (arxiv_id, None)
        assert paper.arxiv_id == arxiv_id
        assert paper.categories[0] == paper.primary_category
        assert paper.versions >= 1 and paper.authors and paper.title and paper.summary
        published = datetime.fromisoformat(paper.published.replace("Z", "+00:00"))
        updated = datetime.fromisoformat(paper.updated.replace("Z", "+00:00"))
        assert published <= updated
        assert (paper.versions == 1) == (published == updated)


# -- current format ------------------------------------------------------------------------------------------


def test_current_format_feed_parses_with_the_arxiv_package(arxiv_server):
    # 1111.2011 is an old-format record; mixed with a new one, the feed is in the current format.
    search = arxiv.Search(id_list=["2106.09685", "1111.2011"])
    lora, bethe = client_for(arxiv_server).results(search)

    paper = PAPERS["2106.09685"]
    assert lora.entry_id == "http://arxiv.org/abs/2106.09685v2"
    assert lora.get_short_id() == "2106.09685v2"
    assert lora.title == paper.title
    assert [a.name for a in lora.authors] == list(paper.authors)
    assert len(lora.authors) == 8
    assert lora.summary == paper.summary
    assert lora.primary_category == "cs.CL"
    assert lora.categories == ["cs.CL", "cs.AI", "cs.LG"]
    assert lora.comment == paper.comment
    assert lora.journal_ref is None and lora.doi is None
    assert lora.pdf_url == "https://arxiv.org/pdf/2106.09685v2"
    assert lora.published.isoformat() == "2021-06-17T17:37:18+00:00"
    assert lora.updated.isoformat() == "2021-10-16T18:40:34+00:00"

    assert bethe.doi == "10.1103/PhysRevB.85.115117"
    assert bethe.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert bethe.primary_category == "cond-mat.str-el"
    assert any(link.title == "doi" and link.href.startswith("https://doi.org/") for link in bethe.links)


def test_current_format_declares_namespaces_once_on_the_feed(arxiv_server):
    status, headers, body = fetch(arxiv_server, id_list="2106.09685")
    assert status == 200
    assert headers["Content-Type"] == ATOM_CONTENT_TYPE
    text = body.decode()
    assert '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv=' in text
    assert text.count("xmlns:arxiv=") == 1
    assert '<arxiv:primary_category term="cs.CL"/>' in text
    assert 'rel="self"' not in text


def test_versioned_id_returns_that_version(arxiv_server):
    first, latest = client_for(arxiv_server).results(arxiv.Search(id_list=["2106.09685v1", "2106.09685"]))
    assert first.entry_id.endswith("2106.09685v1")
    assert first.updated == first.published
    assert latest.entry_id.endswith("2106.09685v2")
    assert first.title == latest.title


def test_affiliations_are_served(arxiv_server):
    (result,) = client_for(arxiv_server).results(arxiv.Search(id_list=["hep-ex/0406020v1"]))
    assert result.authors[0].name == "Alessia Tricomi"
    assert result.authors[0].affiliation == ["for the ATLAS and CMS Collaborations"]


# -- old format ----------------------------------------------------------------------------------------------


def test_old_format_has_the_legacy_layout(arxiv_server):
    status, _, body = fetch(arxiv_server, id_list="hep-th/9901001,cs/0112017", max_results="10")
    assert status == 200
    text = body.decode()
    assert text.startswith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
    )
    assert 'rel="self"' in text
    assert '<title type="html">ArXiv Query: ' in text
    assert '<arxiv:comment xmlns:arxiv="http://arxiv.org/schemas/atom">' in text
    assert 'scheme="http://arxiv.org/schemas/atom"/>' in text
    assert 'href="http://dx.doi.org/' in text and 'href="http://arxiv.org/abs/hep-th/9901001v2"' in text
    titles = [title.text for title in ET.fromstring(body).iterfind("atom:entry/atom:title", NS)]
    assert "\n  " in titles[0]  # hard-wrapped, continuation lines indented


def test_old_format_parses_and_the_client_collapses_only_the_title(arxiv_server):
    results = list(client_for(arxiv_server).results(arxiv.Search(id_list=["hep-th/9901001", "1111.2011v2"])))
    assert [r.get_short_id() for r in results] == ["hep-th/9901001v2", "1111.2011v2"]
    for result, paper in zip(results, (PAPERS["hep-th/9901001"], PAPERS["1111.2011"]), strict=True):
        assert result.title == paper.title
        # arxiv.py leaves the summary as sent (leading spaces, newlines): llmref must normalise it itself.
        assert result.summary.startswith("  ") and "\n" in result.summary
        assert " ".join(result.summary.split()) == paper.summary
        assert result.primary_category == paper.primary_category
        assert result.doi == paper.doi and result.journal_ref == paper.journal_ref


# -- missing and malformed ids -------------------------------------------------------------------------------


def test_unknown_ids_are_left_out(arxiv_server):
    status, _, body = fetch(arxiv_server, id_list="0000.0000,2301.11500,2106.09685,2106.09685v9")
    assert status == 200
    assert feed_ids(body) == ["http://arxiv.org/abs/2106.09685v2"]
    assert total_results(body) == 1


def test_unknown_id_gives_an_empty_feed_and_no_results(arxiv_server):
    status, _, body = fetch(arxiv_server, id_list="2301.11000")
    assert status == 200 and total_results(body) == 0 and feed_ids(body) == []
    assert list(client_for(arxiv_server).results(arxiv.Search(id_list=["2301.11000"]))) == []


def test_malformed_id_gives_400_and_the_error_feed(arxiv_server):
    status, headers, body = fetch(arxiv_server, id_list="2106.09685,abc")
    assert status == 400
    assert headers["Content-Type"] == ATOM_CONTENT_TYPE
    root = ET.fromstring(body)
    assert root.findtext("opensearch:totalResults", namespaces=NS) == "1"
    (entry,) = root.iterfind("atom:entry", NS)
    assert (
        entry.findtext("atom:id", namespaces=NS) == "https://arxiv.org/api/errors#incorrect_id_format_for_abc"
    )
    assert entry.findtext("atom:title", namespaces=NS) == "Error"
    assert entry.findtext("atom:summary", namespaces=NS) == "incorrect id format for abc"
    assert entry.find("atom:published", NS) is None

    with pytest.raises(arxiv.HTTPError) as caught:
        list(client_for(arxiv_server).results(arxiv.Search(id_list=["2106.096855"])))
    assert caught.value.status == 400


# -- paging and bulk ids -------------------------------------------------------------------------------------


SYNTHETIC_IDS = [f"2301.{n}" for n in range(10000, 10150)]


def test_id_list_is_paged_at_max_results(arxiv_server):
    ids = ",".join(SYNTHETIC_IDS)
    status, _, body = fetch(arxiv_server, id_list=ids, max_results="100")
    assert status == 200
    assert total_results(body) == 150
    assert len(feed_ids(body)) == 100
    _, _, second = fetch(arxiv_server, id_list=ids, start="100", max_results="100")
    assert feed_ids(second)[0] == "http://arxiv.org/abs/2301.10100v1" and len(feed_ids(second)) == 50
    assert ET.fromstring(second).findtext("opensearch:startIndex", namespaces=NS) == "100"


def test_the_arxiv_client_fetches_150_ids_in_two_pages(arxiv_server):
    results = list(client_for(arxiv_server).results(arxiv.Search(id_list=SYNTHETIC_IDS, max_results=None)))
    assert [r.get_short_id() for r in results] == [f"{i}v1" for i in SYNTHETIC_IDS]
    assert results[7].title == "Synthetic study number 10007 of low-rank adapters"
    assert [a.name for a in results[7].authors] == ["Ada Lovelace", "Alan Turing"]
    assert [(r.params["start"], r.params["max_results"]) for r in arxiv_server.requests] == [
        ("0", "100"),
        ("100", "100"),
    ]
    assert lookup("2301.10007").title == results[7].title
    assert lookup("2301.11007") is None


# -- search --------------------------------------------------------------------------------------------------


def search_ids(server: ArxivServer, query: str, **options: object) -> list[str]:
    results = client_for(server).results(arxiv.Search(query=query, **options))
    return [r.get_short_id() for r in results]


def test_title_search_finds_the_paper(arxiv_server):
    query = 'ti:"Towards a Unified View of Parameter-Efficient Transfer Learning"'
    assert search_ids(arxiv_server, query) == ["2110.04366v3"]
    assert arxiv_server.requests[-1].params["search_query"] == query  # '+' and %22 decoded
    assert search_ids(arxiv_server, 'ti:"unified VIEW"') == ["2110.04366v3"]


def test_search_combines_terms_with_and(arxiv_server):
    assert search_ids(arxiv_server, "au:Liang AND cat:cs.CL") == ["2101.00190v1", "2211.09110v2"]
    assert search_ids(arxiv_server, 'au:"Percy Liang" AND all:benchmark') == ["2211.09110v2"]
    assert search_ids(arxiv_server, 'all:"low-rank" AND cat:cs.CL') == ["2106.09685v2", "2303.10512v1"]


def test_search_sorts_by_submitted_date(arxiv_server):
    query = "submittedDate:[202101010000 TO 202112312359] AND cat:cs.CL"
    ascending = ["2101.00190v1", "2104.08691v2", "2106.09685v2", "2110.04366v3", "2110.07602v3"]
    options = {"sort_by": arxiv.SortCriterion.SubmittedDate}
    assert search_ids(arxiv_server, query, sort_order=arxiv.SortOrder.Ascending, **options) == ascending
    assert (
        search_ids(arxiv_server, query, sort_order=arxiv.SortOrder.Descending, **options) == ascending[::-1]
    )


def test_search_without_matches_is_an_empty_feed(arxiv_server):
    status, headers, body = fetch(arxiv_server, search_query='ti:"no such paper anywhere"')
    assert status == 200 and headers["Content-Type"] == ATOM_CONTENT_TYPE
    assert total_results(body) == 0


def test_unsupported_query_syntax_fails_loudly(arxiv_server):
    status, _, body = fetch(arxiv_server, search_query="ti:lora OR ti:adapter")
    assert status == 501
    assert b"cannot parse" in body


# -- failures ------------------------------------------------------------------------------------------------


def test_failures_are_served_in_order_then_normal_service_resumes(arxiv_server):
    arxiv_server.set_failures(unavailable(retry_after=2), Failure(status=502), rate_limited(3))
    answers = [fetch(arxiv_server, id_list="2106.09685") for _ in range(4)]
    assert [status for status, _, _ in answers] == [503, 502, 429, 200]
    assert answers[0][1]["Retry-After"] == "2"
    assert answers[1][2] == b"502 Bad Gateway\n"
    assert answers[3][1]["Content-Type"] == ATOM_CONTENT_TYPE
    assert arxiv_server.pending_failures == 0
    assert len(arxiv_server.requests) == 4  # failed requests are recorded too


def test_the_arxiv_client_retries_through_a_failure(arxiv_server):
    arxiv_server.set_failures(unavailable())
    (result,) = client_for(arxiv_server, num_retries=1).results(arxiv.Search(id_list=["2106.09685"]))
    assert result.get_short_id() == "2106.09685v2"
    assert len(arxiv_server.requests) == 2


def test_rate_limited_sends_429_with_retry_after(arxiv_server):
    arxiv_server.set_failures(rate_limited(7))
    status, headers, body = fetch(arxiv_server, id_list="2106.09685")
    assert status == 429
    assert headers["Retry-After"] == "7"
    assert body == b"Rate exceeded."


def test_html_page_is_a_200_that_is_not_atom(arxiv_server):
    arxiv_server.set_failures(html_page())
    status, headers, body = fetch(arxiv_server, id_list="2106.09685")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b"<feed" not in body and b"<html" in body
    # What arxiv.py does with it: no results and no error (libraries.md §1).
    arxiv_server.set_failures(html_page())
    assert list(client_for(arxiv_server).results(arxiv.Search(id_list=["2106.09685"]))) == []


def test_slow_answers_late_but_normally(arxiv_server):
    arxiv_server.set_failures(slow(0.4))
    started = time.monotonic()
    status, headers, body = fetch(arxiv_server, id_list="2106.09685")
    assert time.monotonic() - started >= 0.4
    assert status == 200 and headers["Content-Type"] == ATOM_CONTENT_TYPE
    assert feed_ids(body) == ["http://arxiv.org/abs/2106.09685v2"]


def test_slow_answer_trips_a_client_timeout_and_does_not_block_stop():
    server = ArxivServer()
    try:
        server.set_failures(slow(30))
        with pytest.raises((TimeoutError, urllib.error.URLError)):
            fetch(server, timeout=0.2, id_list="2106.09685")
    finally:
        started = time.monotonic()
        server.stop()
    assert time.monotonic() - started < 2


def test_truncated_answer_is_cut_in_half(arxiv_server):
    _, _, full = fetch(arxiv_server, id_list="2106.09685")
    arxiv_server.set_failures(truncated())
    status, headers, body = fetch(arxiv_server, id_list="2106.09685")
    assert status == 200
    assert int(headers["Content-Length"]) == len(body) == len(full) // 2
    assert full.startswith(body)
    with pytest.raises(ET.ParseError):
        ET.fromstring(body)


# -- recording -----------------------------------------------------------------------------------------------


def test_requests_are_recorded_with_params_and_headers(arxiv_server):
    before = time.monotonic()
    list(client_for(arxiv_server).results(arxiv.Search(id_list=["2106.09685", "hep-th/9901001"])))
    (seen,) = arxiv_server.requests
    assert before <= seen.time <= time.monotonic()
    assert seen.method == "GET" and seen.path == "/api/query"
    assert seen.id_list == ["2106.09685", "hep-th/9901001"]
    assert seen.params == {
        "search_query": "",
        "id_list": "2106.09685,hep-th/9901001",
        "sortBy": "relevance",
        "sortOrder": "descending",
        "start": "0",
        "max_results": "100",
    }
    assert seen.headers["user-agent"].startswith("arxiv.py/")
    assert "Host" not in seen.headers and "host" in seen.headers


def test_post_form_is_answered_like_get(arxiv_server):
    data = urlencode({"id_list": "2106.09685", "max_results": "10"}).encode()
    with OPENER.open(arxiv_server.url, data=data, timeout=5) as response:
        body = response.read()
    assert feed_ids(body) == ["http://arxiv.org/abs/2106.09685v2"]
    assert arxiv_server.requests[0].method == "POST"
    assert arxiv_server.requests[0].id_list == ["2106.09685"]


def test_empty_id_list_is_an_empty_list(arxiv_server):
    fetch(arxiv_server, search_query="cat:cs.CL")
    assert arxiv_server.requests[0].id_list == []


def test_concurrent_requests_each_take_one_failure(arxiv_server):
    arxiv_server.set_failures(*[unavailable()] * 5)
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda _: fetch(arxiv_server, id_list="2106.09685")[0], range(20)))
    assert sorted(statuses) == [200] * 15 + [503] * 5
    assert len(arxiv_server.requests) == 20
