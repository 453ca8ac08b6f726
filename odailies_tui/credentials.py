"""Tokens in the OS keyring (service ``odailies-tui``, user = project id), with an env override.

Every keyring call (choosing the backend included: a Secret Service lookup may hang on DBus or
on an unlock prompt nobody sees) runs in a daemon worker thread with a time limit, so neither the
CLI nor the TUI's event loop can freeze on it. Outcomes are typed:

* a :class:`~odailies_tui.api.redact.Secret` — the stored token;
* ``None`` — the keyring works and holds no token for that project ("absent");
* :class:`KeyringUnavailable` raised — no usable backend, DBus error, locked, timed out.
  Locked is not absent: a token that could not be read must never be offered for overwrite.

Tokens are never written to a file by this module. A plain-file backend (``keyrings.alt``) is
used only when the user chose it explicitly (``PYTHON_KEYRING_BACKEND`` or keyring's config file);
found merely installed, it counts as "no usable keyring".
"""

from __future__ import annotations

import asyncio
import os
import textwrap
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from odailies_tui.api.redact import Secret, redact

SERVICE = "odailies-tui"
ENV_TOKEN = "ODAILIES_TOKEN"

#: seconds any single keyring call may take before it counts as "unavailable (timed out)"
DEFAULT_TIMEOUT = 3.0
_timeout = DEFAULT_TIMEOUT

T = TypeVar("T")


class KeyringUnavailable(Exception):
    """The keyring cannot be used right now; ``reason`` says why in a few words."""

    def __init__(self, reason: str) -> None:
        self.reason = redact(reason)
        super().__init__(self.reason)

    def __str__(self) -> str:
        return f"keyring unavailable ({self.reason})"


def set_timeout(seconds: float) -> None:
    """Change the time limit of every keyring call (tests use a small one)."""
    global _timeout
    _timeout = float(seconds)


def get_timeout() -> float:
    """The current time limit of a keyring call, in seconds."""
    return _timeout


# -- the worker thread ----------------------------------------------------------------------

def _run_limited(fn: Callable[[], T], timeout: float | None) -> T:
    """Run ``fn`` in a daemon thread; raise KeyringUnavailable on time-out or failure."""
    limit = _timeout if timeout is None else timeout
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the caller, typed
            box["error"] = exc

    worker = threading.Thread(target=target, name="odailies-keyring", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise KeyringUnavailable(f"timed out after {limit:g} s")
    if "error" in box:
        raise _classify(box["error"]) from None
    return box["value"]


async def _arun_limited(fn: Callable[[], T], timeout: float | None) -> T:
    """Async twin of :func:`_run_limited`: awaits a daemon thread, never blocks the loop.

    (``asyncio.to_thread`` is not used: its executor threads are joined at interpreter exit,
    so a keyring call stuck for a minute would hold the app's exit for that minute.)
    """
    limit = _timeout if timeout is None else timeout
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(value: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def target() -> None:
        try:
            value, error = fn(), None
        except BaseException as exc:  # noqa: BLE001
            value, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, value, error)
        except RuntimeError:  # the loop closed while we were waiting on the keyring
            pass

    threading.Thread(target=target, name="odailies-keyring", daemon=True).start()
    try:
        return await asyncio.wait_for(future, limit)  # cancels the future on time-out
    except TimeoutError:
        raise KeyringUnavailable(f"timed out after {limit:g} s") from None
    except KeyringUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _classify(exc) from None


def _classify(exc: BaseException) -> KeyringUnavailable:
    """Turn whatever a backend raised into a KeyringUnavailable with a short reason."""
    if isinstance(exc, KeyringUnavailable):
        return exc
    try:
        from keyring import errors
    except ImportError:  # pragma: no cover - keyring is a dependency
        return KeyringUnavailable("the keyring package is not installed")
    name = type(exc).__name__
    text = " ".join(str(exc).split())
    if isinstance(exc, errors.NoKeyringError):
        return KeyringUnavailable("no keyring backend found")
    if isinstance(exc, errors.KeyringLocked) or "locked" in text.lower():
        return KeyringUnavailable("the keyring is locked")
    if "dbus" in (name + text).lower() or "secret service" in text.lower():
        return KeyringUnavailable(f"Secret Service / DBus error: {text[:160] or name}")
    return KeyringUnavailable(f"{name}: {text[:160]}" if text else name)


# -- the backend ----------------------------------------------------------------------------

def _explicitly_chosen() -> bool:
    """True when the user named a keyring backend (environment or keyring's config file)."""
    if os.environ.get("PYTHON_KEYRING_BACKEND", "").strip():
        return True
    try:
        import keyring.core

        return keyring.core.load_config() is not None
    except Exception:  # noqa: BLE001 - a broken config file is not a choice
        return False


def _is_plain_file(backend: Any) -> bool:
    """True for keyrings.alt's file backends (and a chainer made only of them)."""
    inner = getattr(backend, "backends", None)
    if type(backend).__name__ == "ChainerBackend" and inner is not None:
        real = [b for b in inner if type(b).__module__ != "keyring.backends.fail"]
        return bool(real) and all(_is_plain_file(b) for b in real)
    return type(backend).__module__.startswith("keyrings.alt")


def _backend() -> Any:
    """The keyring backend to use, or raise KeyringUnavailable (runs in the worker thread)."""
    import keyring

    backend = keyring.get_keyring()
    module = type(backend).__module__
    if module == "keyring.backends.fail":
        raise KeyringUnavailable("no keyring backend found")
    if _is_plain_file(backend) and not _explicitly_chosen():
        raise KeyringUnavailable(
            f"only a plain-file backend was found ({type(backend).__name__} from keyrings.alt), "
            "and it was not chosen explicitly")
    return backend


# -- sync API (CLI) -------------------------------------------------------------------------

def _get(project_id: str) -> Secret | None:
    value = _backend().get_password(SERVICE, project_id)
    return Secret(value) if value else None


def _set(project_id: str, token: str) -> None:
    backend = _backend()
    backend.set_password(SERVICE, project_id, token)
    if backend.get_password(SERVICE, project_id) != token:  # e.g. keyring's null backend
        raise KeyringUnavailable("the backend accepted the token but does not give it back")


def _delete(project_id: str) -> bool:
    backend = _backend()
    if backend.get_password(SERVICE, project_id) is None:
        return False
    backend.delete_password(SERVICE, project_id)
    return True


def _reveal(token: str | Secret) -> str:
    raw = token.reveal() if isinstance(token, Secret) else str(token)
    raw = raw.strip()
    if not raw:
        raise ValueError("empty token")
    Secret(raw)  # registers it for redaction
    return raw


def get_token(project_id: str, *, timeout: float | None = None) -> Secret | None:
    """The stored token of ``project_id``; ``None`` if absent; raises KeyringUnavailable."""
    return _run_limited(lambda: _get(project_id), timeout)


def set_token(project_id: str, token: str | Secret, *, timeout: float | None = None) -> None:
    """Store (or replace) the token of ``project_id``; raises KeyringUnavailable."""
    raw = _reveal(token)
    _run_limited(lambda: _set(project_id, raw), timeout)


def delete_token(project_id: str, *, timeout: float | None = None) -> bool:
    """Remove the token of ``project_id``; False if none was stored; raises KeyringUnavailable."""
    return _run_limited(lambda: _delete(project_id), timeout)


def env_token() -> Secret | None:
    """The ``ODAILIES_TOKEN`` override, if set and not blank."""
    value = os.environ.get(ENV_TOKEN, "").strip()
    return Secret(value) if value else None


def resolve_token(project_id: str, *, timeout: float | None = None) -> tuple[Secret | None, str]:
    """``(token, source)``: ``ODAILIES_TOKEN`` first, then the keyring.

    ``source`` is ``"env"``, ``"keyring"`` or ``""`` (absent). Raises KeyringUnavailable only
    when the environment gives nothing and the keyring cannot be read.
    """
    token = env_token()
    if token:
        return token, "env"
    token = get_token(project_id, timeout=timeout)
    return token, ("keyring" if token else "")


# -- async API (TUI) ------------------------------------------------------------------------

async def aget_token(project_id: str, *, timeout: float | None = None) -> Secret | None:
    """Async :func:`get_token`: the event loop keeps running while the keyring answers."""
    return await _arun_limited(lambda: _get(project_id), timeout)


async def aset_token(project_id: str, token: str | Secret, *,
                     timeout: float | None = None) -> None:
    """Async :func:`set_token`."""
    raw = _reveal(token)
    await _arun_limited(lambda: _set(project_id, raw), timeout)


async def adelete_token(project_id: str, *, timeout: float | None = None) -> bool:
    """Async :func:`delete_token`."""
    return await _arun_limited(lambda: _delete(project_id), timeout)


async def aresolve_token(project_id: str, *,
                         timeout: float | None = None) -> tuple[Secret | None, str]:
    """Async :func:`resolve_token`."""
    token = env_token()
    if token:
        return token, "env"
    token = await aget_token(project_id, timeout=timeout)
    return token, ("keyring" if token else "")


# -- the message ----------------------------------------------------------------------------

def unavailable_message(error: KeyringUnavailable | str, project_id: str | None = None) -> str:
    """One paragraph (several lines of at most 79 columns) naming the cause and the ways out."""
    reason = error.reason if isinstance(error, KeyringUnavailable) else redact(error)
    which = f" for project {project_id}" if project_id else ""
    parts = [
        (f"cannot use the OS keyring{which}: {reason}. The token is kept only in a keyring, "
         "never in a file of ours. Ways out:", "", ""),  # the CLI prefixes "odailies-tui: "
        (f"for this session, set {ENV_TOKEN} (e.g. `read -rs {ENV_TOKEN}; "
         f"export {ENV_TOKEN}`);", "  - ", "    "),
        ("unlock or start a Secret Service (e.g. `gnome-keyring-daemon --unlock`, or log in "
         "to a desktop session), or unlock the keychain;", "  - ", "    "),
        ("or choose a keyring backend you trust with PYTHON_KEYRING_BACKEND (e.g. "
         "keyrings.alt.file.PlaintextKeyring, which keeps secrets in a plain file), "
         "or install a keyring package you trust.", "  - ", "    "),
    ]
    return "\n".join(
        textwrap.fill(text, width=79 if first else 65, initial_indent=first, subsequent_indent=rest,
                      break_on_hyphens=False, break_long_words=False)
        for text, first, rest in parts)
