"""The house rules the code keeps (docs/architecture.md): small modules and short functions
everywhere (core/, app_pages/, bench/, tests/), and a core/ that never imports Streamlit.
import-linter checks the direction of imports itself."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
CODE_FOLDERS = ("core", "app_pages", "bench", "tests")


def python_files(*folders: str) -> list[Path]:
    files = [REPO / "app.py"] if "app_pages" in folders else []
    for folder in folders:
        files += sorted((REPO / folder).rglob("*.py"))
    return files


def long_functions(path: Path, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """`name (N lines)` for each function in `path` longer than `limit` lines, counted from
    its first decorator to its last line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            lines = node.end_lineno - first + 1
            if lines > limit:
                found.append(f"{node.name} ({lines} lines)")
    return found


def test_long_functions_are_found(tmp_path):
    path = tmp_path / "sample.py"
    path.write_text("@decorator\ndef f():\n" + "    x = 1\n" * 60 + "def g():\n    pass\n")
    assert long_functions(path) == ["f (62 lines)"]
    assert long_functions(path, limit=62) == []


def test_no_function_is_longer_than_sixty_lines():
    offenders = {
        str(path.relative_to(REPO)): found
        for path in python_files(*CODE_FOLDERS)
        if (found := long_functions(path))
    }
    assert offenders == {}, f"split these into named steps of at most {MAX_FUNCTION_LINES} lines"


def test_no_module_is_longer_than_four_hundred_lines():
    long_modules = {
        str(path.relative_to(REPO)): count
        for path in python_files(*CODE_FOLDERS)
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long_modules == {}, f"split these modules by concern: {long_modules}"


def test_core_holds_packages_and_no_loose_modules():
    loose = [p.name for p in (REPO / "core").glob("*.py") if p.name != "__init__.py"]
    assert loose == []
    packages = [p for p in (REPO / "core").iterdir() if (p / "__init__.py").exists()]
    for package in packages:
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
        assert doc and "Imports" in doc, f"{package.name}/__init__.py: say what it may import"


def test_core_never_imports_streamlit():
    for path in python_files("core"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] == "streamlit" for n in names), path
