"""The layering rule for views (README, layout): web/, admin/ and api/ call services, never the
repositories or the database session; only their error handlers roll a failed request back."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
VIEW_PACKAGES = ("web", "admin", "api")


def _view_modules():
    for package in VIEW_PACKAGES:
        for path in sorted((APP / package).rglob("*.py")):
            name = path.relative_to(APP).as_posix()
            yield name, ast.parse(path.read_text(), filename=str(path))


def _runtime_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:`` (annotations only, never run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            continue
        yield node
        yield from _runtime_nodes(node)


def _imported_modules(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return []


def test_views_import_no_repository_module():
    offenders = [f"{name}: {module}" for name, tree in _view_modules()
                 for node in _runtime_nodes(tree) for module in _imported_modules(node)
                 if module == "app.repositories" or module.startswith("app.repositories.")]
    assert offenders == []


def test_views_run_no_session_work_outside_their_error_handlers():
    offenders = [f"{name}:{node.lineno}" for name, tree in _view_modules()
                 if not name.endswith("errors.py")
                 for node in _runtime_nodes(tree)
                 if isinstance(node, ast.Attribute) and node.attr == "session"
                 and getattr(node.value, "id", "") == "db"]
    assert offenders == []


def test_the_rule_check_sees_a_repository_import_and_a_session_query():
    tree = ast.parse("from app.repositories import accounts as repo\n"
                     "import app.repositories.usage\n"
                     "db.session.scalar(q)\n")
    modules = [m for node in _runtime_nodes(tree) for m in _imported_modules(node)]
    assert "app.repositories.accounts" in modules and "app.repositories.usage" in modules
    assert any(isinstance(n, ast.Attribute) and n.attr == "session"
               for n in _runtime_nodes(tree))
