"""Session listeners (the usage rollup, the access generation) are added by ``create_app``, on
Parlor's own sessions, never as a side effect of importing a module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.extensions import db
from app.repositories import usage as usage_ledger
from app.services import access_cache

PROJECT = Path(__file__).resolve().parent.parent
LISTENERS = [(usage_ledger, "after_flush", "_roll_up_new_records"),
             (access_cache, "after_flush", "_note_changes"),
             (access_cache, "after_commit", "_after_commit"),
             (access_cache, "after_rollback", "_after_rollback")]


def test_importing_every_module_adds_no_session_listener():
    check = (
        "import app, app.repositories.usage as u, app.services.access_cache as a\n"
        "from sqlalchemy import event\n"
        "from sqlalchemy.orm import Session\n"
        "from app.extensions import db\n"
        f"found = [(m, e, f) for m, e, f in {[(m.__name__, e, f) for m, e, f in LISTENERS]}\n"
        "         for target in (Session, db.session)\n"
        "         if event.contains(target, e, getattr(u if m.endswith('usage') else a, f))]\n"
        "print(found)\n"
    )
    result = subprocess.run([sys.executable, "-c", check], cwd=PROJECT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_create_app_adds_each_listener_once(make_app):
    make_app()
    app = make_app()  # a second app in the same process adds nothing twice
    with app.app_context():
        for module, name, function in LISTENERS:
            listener = getattr(module, function)
            registered = list(getattr(db.session().dispatch, name))
            assert registered.count(listener) == 1, function
