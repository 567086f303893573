"""arXiv's query API, through the ``arxiv`` package, made polite and offline-safe.

The package is used for building queries and parsing Atom, but it sets no timeout, ignores
``Retry-After``, spaces requests only within one client and cannot tell an HTML throttle page
from an empty result. So requests go through a ``requests.Session`` of ours that applies a
timeout and our User-Agent, waits on a machine-wide :class:`Throttle`, and rejects bodies that
are not a complete Atom feed; retries (with ``Retry-After``) happen here, around the package.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .. import __version__
from ..errors import SourceError
from ..ids import parse_arxiv
from ..models import arxiv_pages
from .throttle import Throttle

if TYPE_CHECKING:
    import arxiv
    import requests

URL_ENV = "LLMREF_ARXIV_API_URL"
DEFAULT_URL = "https://export.arxiv.org/api/query"
TIMEOUT_ENV = "LLMREF_ARXIV_TIMEOUT"
#: Only for a server on this machine (a test server, a local mirror): its request spacing.
INTERVAL_ENV = "LLMREF_ARXIV_INTERVAL"
#: arXiv's terms of use: no more than one request every three seconds.
INTERVAL = 3.0
#: A server on this machine is ours (tests, mirrors): the spacing can be short.
LOOPBACK_INTERVAL = 0.2
#: The API's largest page, and so the most ids one request can ask for.
BATCH = 100
RETRIES = 3
#: The longest Retry-After llmref waits for; past it the user is better told to try later.
MAX_RETRY_AFTER = 60.0
USER_AGENT = f"llmref/{__version__} (reference manager for LLM papers; arxiv.py)"


@dataclass(frozen=True)
class ArxivEntry:
    """One paper as the API describes its latest version."""

    arxiv_id: str
    version: int | None
    title: str
    abstract: str
    authors: tuple[str, ...]
    published: str
    updated: str
    primary_category: str | None
    categories: tuple[str, ...]
    comment: str | None
    journal_ref: str | None
    doi: str | None

    @property
    def abs_url(self) -> str:
        return arxiv_pages(self.arxiv_id)[0][1]

    @property
    def pdf_url(self) -> str:
        return arxiv_pages(self.arxiv_id)[1][1]


class _Retry(Exception):
    """A failure worth another try; ``wait`` is what the server asked for, if anything."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


class ArxivSource:
    def __init__(
        self,
        url: str | None = None,
        *,
        timeout: float | None = None,
        retries: int = RETRIES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = _checked_url(url or os.environ.get(URL_ENV) or DEFAULT_URL)
        loopback = _is_loopback(self.url)
        self.interval = _seconds(INTERVAL_ENV, LOOPBACK_INTERVAL, zero_ok=True) if loopback else INTERVAL
        self.retries = retries
        self._sleep = sleep
        read_timeout = timeout or _seconds(TIMEOUT_ENV, 30.0)
        self._throttle = Throttle("arxiv", self.interval)
        self._session = _session((min(5.0, read_timeout), read_timeout), self._throttle, loopback)
        self._client = _client(self.url, self._session)

    # -- what llmref asks ----------------------------------------------------------------------

    def fetch(
        self, ids: Sequence[str], progress: Callable[[int, int], None] | None = None
    ) -> dict[str, ArxivEntry]:
        """The latest metadata of each id (without version) arXiv knows, in ⌈len/100⌉ requests."""
        import arxiv

        found: dict[str, ArxivEntry] = {}
        for start in range(0, len(ids), BATCH):
            batch = list(ids[start : start + BATCH])
            search = arxiv.Search(id_list=batch, max_results=len(batch))
            for entry in self._run(search):
                found[entry.arxiv_id] = entry
            if progress:
                progress(start + len(batch), len(ids))
        return found

    def search(self, query: str, *, max_results: int = 10, by_date: bool = False) -> list[ArxivEntry]:
        """Entries matching an API ``search_query`` (``ti:"…" AND au:…``), best or newest first."""
        import arxiv

        search = arxiv.Search(
            query=query,
            max_results=min(max_results, BATCH),
            sort_by=arxiv.SortCriterion.SubmittedDate if by_date else arxiv.SortCriterion.Relevance,
        )
        return list(self._run(search))

    # -- how ------------------------------------------------------------------------------------

    def _run(self, search: arxiv.Search) -> list[ArxivEntry]:
        import arxiv
        import requests

        last_reason = ""
        for attempt in range(self.retries + 1):
            try:
                return [_entry(r) for r in self._client.results(search)]
            except arxiv.HTTPError as exc:
                retry = self._judge_status(exc.status)
            except _Retry as exc:
                retry = exc
            except requests.exceptions.Timeout:
                retry = _Retry(f"no answer within {self._session.timeout[1]:g} s")
            except (
                requests.exceptions.InvalidURL,
                requests.exceptions.InvalidSchema,
                requests.exceptions.MissingSchema,
            ) as exc:
                raise SourceError(f"Cannot send a request to {self.url}: {exc}.", _CHECK_URL) from exc
            except requests.exceptions.ConnectionError as exc:
                retry = _Retry(_connection_reason(exc))
            except (requests.exceptions.RequestException, arxiv.UnexpectedEmptyPageError) as exc:
                retry = _Retry(type(exc).__name__)
            except ValueError as exc:  # a date or number in the feed that cannot be read
                raise SourceError(f"arXiv sent an entry that cannot be read ({exc}).", _LATER) from exc
            last_reason = retry.reason
            if attempt < self.retries:
                if retry.wait is not None:
                    # Every llmref process waits for it, not only this one.
                    self._throttle.defer(retry.wait)
                else:
                    # Backoff on top of the spacing: 1, 2, 4 s more for arXiv itself.
                    self._sleep(self.interval / 3 * 2**attempt)
        raise SourceError(f"Could not get an answer from arXiv at {self.url}: {last_reason}.", _LATER)

    def _judge_status(self, status: int) -> _Retry:
        response = self._session.last_response
        if status == 400:
            raise SourceError(
                f"arXiv rejected the request ({_error_text(response)}).",
                "Check the identifiers; nothing was changed.",
            )
        if status == 404:
            raise SourceError(f"{self.url} answered HTTP 404: there is no query API there.", _CHECK_URL)
        if status not in (429, 500, 502, 503, 504):
            raise SourceError(f"arXiv answered HTTP {status}.", _LATER)
        wait = _retry_after(response)
        if wait is not None and wait > MAX_RETRY_AFTER:
            raise SourceError(f"arXiv asks to wait {wait:.0f} s before the next request.", _LATER)
        return _Retry(f"HTTP {status}", wait)


_LATER = "Try again later; nothing was changed."


_CHECK_URL = f"Check {URL_ENV} (default {DEFAULT_URL}); nothing was changed."


def _session(timeout: tuple[float, float], throttle: Throttle, loopback: bool) -> requests.Session:
    import requests

    class Session(requests.Session):
        def __init__(self) -> None:
            super().__init__()
            self.timeout = timeout
            self.last_response: requests.Response | None = None
            # Proxy settings must not capture a server on this machine.
            self.trust_env = not loopback

        def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
            kwargs.setdefault("timeout", self.timeout)
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "user-agent": USER_AGENT}
            with throttle.slot():
                response = super().request(method, url, *args, **kwargs)
                response.content  # noqa: B018 - read the body while holding the slot
            self.last_response = response
            if response.status_code == 200:
                _check_feed(response)
            return response

    return Session()


def _client(url: str, session: requests.Session) -> arxiv.Client:
    import arxiv

    logging.getLogger("arxiv").setLevel(logging.ERROR)  # it warns on stderr about feeds we reject anyway
    client = arxiv.Client(page_size=BATCH, delay_seconds=0, num_retries=0)
    # The package fills the query in with str.format: braces in the URL must be doubled.
    client.query_url_format = url.replace("{", "{{").replace("}", "}}") + "?{}"
    # The package has no way to pass a session in; this attribute is its own (pinned arxiv 4.0.*).
    client._session = session
    return client


def _checked_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise SourceError(f"{url!r} is not a URL: {exc}.", _CHECK_URL) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"{url!r} is not an http(s) URL.", _CHECK_URL)
    return url


def _seconds(name: str, default: float, *, zero_ok: bool = False) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0 or (value == 0 and not zero_ok) or not math.isfinite(value):
        raise SourceError(
            f"{name}={raw!r} is not a number of seconds.", f"Set {name} to e.g. 30, or unset it."
        )
    return value


def _check_feed(response: requests.Response) -> None:
    body = response.content.strip()
    if b"<feed" not in body[:4096]:
        kind = "an HTML page" if b"<html" in body[:4096].lower() else "something that is not an Atom feed"
        raise _Retry(f"it sent {kind}")
    if not body.endswith(b"</feed>"):
        raise _Retry("the answer was cut off")


def _entry(result: arxiv.Result) -> ArxivEntry:
    from ..formats.latex import decode_tex

    parsed = parse_arxiv(result.entry_id)
    if parsed is None:
        raise SourceError(f"arXiv sent an entry with an unexpected id {result.entry_id!r}.", _LATER)
    categories = [result.primary_category, *(c for c in result.categories if c != result.primary_category)]
    return ArxivEntry(
        arxiv_id=parsed[0],
        version=parsed[1],
        # TeX decoded as the snapshot import decodes it, so a paper reads (and is found) the same
        # whichever way it came in: $O(n \log n)$ → O(n log n), Bal\'azs → Balázs.
        title=decode_tex(_squash(result.title)),
        abstract=decode_tex(_squash(result.summary)),
        authors=tuple(decode_tex(_squash(a.name)) for a in result.authors),
        published=result.published.date().isoformat(),
        updated=result.updated.date().isoformat(),
        primary_category=result.primary_category or None,
        categories=tuple(c for c in categories if c),
        comment=_squash(result.comment) or None,
        journal_ref=_squash(result.journal_ref) or None,
        doi=result.doi.lower() if result.doi else None,
    )


def _squash(text: str | None) -> str:
    return " ".join((text or "").split())


def _retry_after(response: requests.Response | None) -> float | None:
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _error_text(response: requests.Response | None) -> str:
    import re

    text = response.text if response is not None else ""
    match = re.search(r"<summary[^>]*>(.*?)</summary>", text, re.S)
    return " ".join(match.group(1).split()) if match else "HTTP 400"


def _connection_reason(exc: Exception) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "Temporary failure in name resolution" in text:
        return "the name does not resolve (offline?)"
    return "no connection"


def _is_loopback(url: str) -> bool:
    import ipaddress

    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
