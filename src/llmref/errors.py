"""llmref's own errors: a message, a hint that says what to do next, and an exit code.

The CLI turns these (and only these) into ``Error: …`` / ``Hint: …`` lines on stderr; any other
exception reaching the top is a bug.
"""

from __future__ import annotations


class LlmrefError(Exception):
    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(LlmrefError):
    """The user asked for something that cannot be done as written (bad filter, bad query…)."""

    exit_code = 2


class NotFoundError(LlmrefError):
    """A key or identifier that the library does not hold."""

    exit_code = 3


class StoreError(LlmrefError):
    """The database cannot be used: newer schema, not a llmref database, unwritable location."""

    exit_code = 4


class SourceError(LlmrefError):
    """A metadata source (arXiv…) could not be reached or gave an unusable answer."""

    exit_code = 5
