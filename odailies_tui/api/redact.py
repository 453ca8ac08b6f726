"""Token redaction: the one place where secrets are scrubbed from text leaving ``api/``.

The o/DAILIES token is a URL path segment, so any URL, exception text or log line that mentions
a request can leak it. Every known token is registered here when a client is made; ``redact``
replaces each of them (raw and percent-encoded) by ``***``.
"""

from __future__ import annotations

import threading
from urllib.parse import quote

MASK = "***"

_lock = threading.Lock()
_known: set[str] = set()


class Secret:
    """A string that never shows itself: ``repr``/``str``/``format`` give ``***``.

    Keeping tokens inside a ``Secret`` keeps them out of Textual's crash report, which prints
    local variables, and out of any accidental f-string.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str | Secret) -> None:
        raw = value.reveal() if isinstance(value, Secret) else str(value)
        object.__setattr__(self, "_value", raw)
        register(raw)

    def reveal(self) -> str:
        """Return the real value (only for building a request)."""
        return self._value

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __reduce__(self) -> object:  # never pickle a secret by accident
        raise TypeError("Secret cannot be pickled")


def register(token: str) -> None:
    """Remember a token so that ``redact`` removes it from any text."""
    if token and len(token) >= 4:
        with _lock:
            _known.add(token)


def _forms(token: str) -> set[str]:
    return {token, quote(token, safe=""), quote(token, safe="/"), quote(quote(token, safe=""))}


def redact(text: object) -> str:
    """Return ``text`` as a string with every registered token replaced by ``***``."""
    out = str(text)
    with _lock:
        tokens = sorted(_known, key=len, reverse=True)
    for token in tokens:
        for form in sorted(_forms(token), key=len, reverse=True):
            if form in out:
                out = out.replace(form, MASK)
    return out
