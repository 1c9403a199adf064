"""Imports run one way (README, Layout): the base layers (``vendors/``, ``repositories/``,
``models/``) never import Flask's request context, a blueprint package or a service.

Read statically with ``ast`` (nothing is imported), so it costs milliseconds.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
REQUEST_CONTEXT = {"flask": {"request", "g", "session"}, "flask_login": {"current_user"}}
UPPER_LAYERS = ("app.web", "app.admin", "app.api", "app.services", "app.cli", "app.limits")
# The app-internal modules each base layer may import: itself, what lies below it, and the
# plain-Python helpers that import nothing of Parlor.
HELPERS = ("app.process_local",)
ALLOWED_INSIDE_APP = {
    "models": ("app.models", "app.extensions", *HELPERS),
    "repositories": ("app.repositories", "app.models", "app.extensions", *HELPERS),
    "vendors": ("app.vendors", *HELPERS),  # no Flask at all: importable on its own
}
# Known exceptions, each to be removed by the issue that names it (none left: the vendor
# manager reports to an observer the app injects, app/vendors/observer.py).
ALLOWED_EXCEPTIONS: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(tree: ast.Module, module: str, is_package: bool) -> list[tuple[str, str]]:
    """Every ``(imported module, name or "")`` in ``tree``, function-level imports included."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing module's package
                package = module.split(".") if is_package else module.split(".")[:-1]
                anchor = package[:len(package) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found += [(base, alias.name) for alias in node.names]
            found += [(f"{base}.{alias.name}", "") for alias in node.names]
    return found


def attribute_uses(tree: ast.Module, module_aliases: dict[str, str]) -> list[tuple[str, str]]:
    """``flask.request``-style uses through a plain ``import flask`` (or ``import flask as f``)."""
    return [(module_aliases[node.value.id], node.attr) for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id in module_aliases]


def _within(module: str, packages) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def violations(source: str, module: str, layer: str, *, is_package: bool = False) -> list[str]:
    """What ``source`` (the module ``module`` of base layer ``layer``) imports against the rule."""
    tree = ast.parse(source)
    aliases = {alias.asname or alias.name: alias.name for node in ast.walk(tree)
               if isinstance(node, ast.Import) for alias in node.names
               if alias.name in REQUEST_CONTEXT}
    found = []
    for imported, name in imports_of(tree, module, is_package) + attribute_uses(tree, aliases):
        if name in REQUEST_CONTEXT.get(imported, ()):
            found.append(f"{module} uses the request context: {imported}.{name}")
        elif name or not _within(imported, ("app",)) or (module, imported) in ALLOWED_EXCEPTIONS:
            continue
        elif _within(imported, UPPER_LAYERS):
            found.append(f"{module} imports an upper layer: {imported}")
        elif not _within(imported, ALLOWED_INSIDE_APP[layer]):
            found.append(f"{module} imports {imported}, outside what {layer}/ may import")
    return sorted(set(found))


def base_layer_modules():
    for layer in ALLOWED_INSIDE_APP:
        for path in sorted((APP / layer).rglob("*.py")):
            yield layer, path


def test_base_layers_import_no_request_context_blueprint_or_service():
    found = []
    for layer, path in base_layer_modules():
        found += violations(path.read_text(), module_name(path), layer,
                            is_package=path.name == "__init__.py")
    assert found == []


def test_the_helpers_import_nothing_of_parlor():
    for helper in HELPERS:
        path = APP.parent / (helper.replace(".", "/") + ".py")
        imported = imports_of(ast.parse(path.read_text()), helper, False)
        assert not [name for name, _ in imported if _within(name, ("app",))], helper


def test_each_allowed_exception_is_still_needed():
    """An exception that no module needs any more is taken off the list."""
    for module, imported in ALLOWED_EXCEPTIONS:
        path = APP.parent / (module.replace(".", "/") + ".py")
        tree = ast.parse(path.read_text())
        assert (imported, "") in imports_of(tree, module, False), f"drop {module} -> {imported}"


def test_the_check_catches_each_kind_of_breach():
    breaches = {
        "from flask import current_app, request": "request context: flask.request",
        "import flask\ndef f():\n    return flask.g.user": "request context: flask.g",
        "from flask_login import current_user": "request context: flask_login.current_user",
        "def f():\n    from app.services import keys": "upper layer: app.services",
        "from app.web.chat import bp": "upper layer: app.web.chat",
        "from ..api import errors": "upper layer: app.api",
        "import app.formatting": "outside what repositories/ may import",
    }
    for source, expected in breaches.items():
        found = violations(source, "app.repositories.example", "repositories")
        assert any(expected in line for line in found), (source, found)
    allowed = ("from flask import current_app\nfrom app.models import User\n"
               "from app.extensions import db\nfrom . import pages")
    assert violations(allowed, "app.repositories.example", "repositories") == []
