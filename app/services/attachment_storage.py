"""Where attachment bytes live: in the database (default: every instance shares them, on
SQLite as on PostgreSQL) or in a folder (``PARLOR_ATTACHMENTS_DIR``).

A file's path is built from server values only (owner id and SHA-256), never from its name.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

from flask import current_app

from app.models.attachments import Attachment
from app.repositories import attachments as repo


class AttachmentStore(Protocol):
    def put(self, attachment: Attachment, data: bytes) -> None:
        """Keep ``data`` for ``attachment`` (not committed: the caller commits)."""

    def get(self, attachment: Attachment) -> bytes:
        """The stored bytes."""

    def discard(self, attachment: Attachment) -> None:
        """Forget the bytes of an attachment whose row is being deleted."""


# Files larger than this are read from the database in pieces of this size.
READ_PIECE = 1024 * 1024


class DatabaseStore:
    def put(self, attachment: Attachment, data: bytes) -> None:
        attachment.data = data

    def get(self, attachment: Attachment) -> bytes:
        """The stored bytes; a large file read in pieces into one buffer (a ``bytearray``),
        so reading it holds the file once, not the driver's copies of a whole row value."""
        size = attachment.size or 0
        if size <= READ_PIECE:
            return repo.with_data(attachment.id) or b""
        out, filled = bytearray(size), 0
        for piece in repo.data_pieces(attachment.id, size, READ_PIECE):
            out[filled:filled + len(piece)] = piece
            filled += len(piece)
        del out[filled:]  # shorter than its row said (or gone meanwhile)
        return out

    def discard(self, attachment: Attachment) -> None:
        """The bytes go with the row."""


class FileStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()

    def path(self, attachment: Attachment) -> Path:
        if len(attachment.sha256) != 64 or not attachment.sha256.isalnum():
            raise ValueError("not a SHA-256 hex digest")
        return self.root / str(int(attachment.user_id)) / attachment.sha256[:2] / attachment.sha256

    def put(self, attachment: Attachment, data: bytes) -> None:
        target = self.path(attachment)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if target.exists():
            return  # content-addressed: the same bytes are already there
        # Written whole to a temporary file, then renamed: a reader never sees part of it.
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, attachment: Attachment) -> bytes:
        return self.path(attachment).read_bytes()

    def discard(self, attachment: Attachment) -> None:
        self.path(attachment).unlink(missing_ok=True)

    def forget_user(self, user_id: int) -> None:
        shutil.rmtree(self.root / str(int(user_id)), ignore_errors=True)


def store() -> AttachmentStore:
    """The configured store."""
    folder = current_app.config.get("PARLOR_ATTACHMENTS_DIR")
    return FileStore(folder) if folder else DatabaseStore()
