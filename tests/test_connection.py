"""A malformed base URL is a one-line usage error (exit 2), never a traceback."""

from __future__ import annotations

import pytest

from odailies_tui.cli import main
from odailies_tui.connection import UsageError, check_base_url


@pytest.mark.parametrize("bad", ["http://[::1", "127.0.0.1:8799/api/v2", "ftp://x/api/v2", ""])
def test_bad_base_urls_are_refused(bad: str) -> None:
    with pytest.raises(UsageError, match="must look like"):
        check_base_url(bad)


def test_good_base_url_is_kept_without_trailing_slash() -> None:
    assert check_base_url("http://127.0.0.1:8799/api/v2/") == "http://127.0.0.1:8799/api/v2"


def test_cli_says_what_to_fix(odailies_env, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ODAILIES_TOKEN", "tok-123456")
    code = main(["status", "--project", "demo", "--base-url", "http://[::1"])
    err = capsys.readouterr().err
    assert code == 2 and "must look like" in err and "Traceback" not in err
