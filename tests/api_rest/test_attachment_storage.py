"""The attachment stores on every backend: the database (SQLite and PostgreSQL, where every
instance shares it) and a folder (PARLOR_ATTACHMENTS_DIR)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from tests.conftest import bearer
from tests.fakes import files


@pytest.fixture(params=["database", "folder"])
def store(request, tmp_path) -> dict:
    return {} if request.param == "database" else {"PARLOR_ATTACHMENTS_DIR": tmp_path / "files"}


@pytest.fixture
def app(make_app, backend_url, store):
    return make_app(database_url=backend_url, **store)


def test_a_file_round_trips_deduplicates_and_goes_with_its_conversation(
        app, client, make_key, store):
    alice = bearer(make_key("alice@example.com"))
    image = files.png()
    sent = client.post("/api/v1/attachments", headers=alice,
                       data={"file": (io.BytesIO(image), "cat.png")},
                       content_type="multipart/form-data").get_json()["data"]
    again = client.post("/api/v1/attachments", headers=alice,
                        data={"file": (io.BytesIO(image), "cat.png")},
                        content_type="multipart/form-data").get_json()["data"]
    assert again["id"] == sent["id"]
    stored = client.get(f"/api/v1/attachments/{sent['id']}/content", headers=alice).data
    assert stored.startswith(b"\x89PNG") and len(stored) == sent["size"]
    folder = store.get("PARLOR_ATTACHMENTS_DIR")
    if folder:
        assert [p.name for p in Path(folder).rglob("*") if p.is_file()] == [
            hashlib.sha256(stored).hexdigest()]

    conversation = client.post("/api/v1/conversations", headers=alice,
                               json={"model": "mock/echo"}).get_json()["data"]["id"]
    reply = client.post(f"/api/v1/conversations/{conversation}/messages", headers=alice,
                        json={"attachments": [sent["id"]]}).get_json()["data"]["reply"]
    assert "image cat.png" in reply["content"]
    assert client.delete(f"/api/v1/conversations/{conversation}",
                         headers=alice).status_code == 204
    assert client.get(f"/api/v1/attachments/{sent['id']}", headers=alice).status_code == 404
    if folder:
        assert not [p for p in Path(folder).rglob("*") if p.is_file()]
