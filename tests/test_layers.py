"""The layers stay apart: api/ knows no widgets, core/ imports no Textual, ui/ does no HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "odailies_tui"


def imports_of(folder: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path.name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.append((path.name, node.module))
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("api", ("textual", "rich", "odailies_tui.ui", "odailies_tui.core")),
        ("core", ("textual", "odailies_tui.ui")),
        ("ui", ("httpx", "json", "odailies_tui.sim")),
    ],
)
def test_layer_does_not_import(folder: str, forbidden: tuple[str, ...]) -> None:
    bad = [(file, module) for file, module in imports_of(folder)
           if any(module == f or module.startswith(f + ".") for f in forbidden)]
    assert bad == [], f"{folder}/ imports what its layer may not: {bad}"


def test_styles_ship_with_the_package() -> None:
    from odailies_tui.ui.app import stylesheet

    assert Path(stylesheet()).is_file()


def test_every_subpackage_is_in_the_wheel() -> None:
    """pyproject lists packages by hand (styles/ is mapped in): none may be forgotten."""
    import tomllib

    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(pyproject["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(PACKAGE.parent).parts)
               for p in PACKAGE.rglob("__init__.py")}
    assert on_disk - listed == set()
