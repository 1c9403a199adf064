"""Stored Responses API answers: kept for the key's owner, read back, deleted, continued.

A stored response holds its own request's input items and its output; continuing from one
(``previous_response_id``) follows the chain back and replays every turn in order, so each
row stays the size of one turn however long the conversation grows. A response deleted from
the middle of a chain takes its turn and every earlier one out of later continuations.
"""

from __future__ import annotations

from app.extensions import db
from app.models import StoredResponse
from app.repositories import responses as repo

MAX_CHAIN = 10_000  # turns followed back at most (a guard; ids are never reused)


def save(*, user_id: int, api_key_id: int | None, input_items: list[dict],
         response: dict) -> None:
    """Keep ``response`` (the object as answered) and the input items it answered."""
    repo.add(StoredResponse(id=response["id"], user_id=user_id, api_key_id=api_key_id,
                            model=response["model"],
                            previous_response_id=response.get("previous_response_id"),
                            input_items=input_items, body=response))
    db.session.commit()


def get(user_id: int, response_id: str) -> dict | None:
    """The user's stored response object, or None (unknown id, or another user's)."""
    stored = repo.get(user_id, response_id)
    return stored.body if stored is not None else None


def input_items(user_id: int, response_id: str) -> list[dict] | None:
    """The input items the user's stored response answered (its own request's), or None."""
    stored = repo.get(user_id, response_id)
    return list(stored.input_items) if stored is not None else None


def delete(user_id: int, response_id: str) -> bool:
    """Delete the user's stored response; False when there was none to delete."""
    removed = repo.remove(user_id, response_id)
    db.session.commit()
    return removed


def conversation(user_id: int, response_id: str) -> list[dict] | None:
    """Every turn up to and including ``response_id`` as input items (each turn's input,
    then its output), oldest first; None when the user has no such response."""
    stored = repo.get(user_id, response_id)
    if stored is None:
        return None
    chain = [stored]
    while stored.previous_response_id and len(chain) < MAX_CHAIN:
        stored = repo.get(user_id, stored.previous_response_id)
        if stored is None:  # deleted: the conversation starts after it
            break
        chain.append(stored)
    return [item for turn in reversed(chain)
            for item in [*turn.input_items, *turn.body.get("output", [])]]
