"""Attachments: uploading (checked, deduplicated, within the size limit and the owner's
quota), reading them back for their owner, and turning them into the content parts each
model takes.

Every lookup is scoped to the owner: another user's id reads exactly like a missing one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import BinaryIO
from urllib.parse import quote

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import User
from app.models.attachments import Attachment
from app.repositories import attachments as repo
from app.services.attachment_content import ContentError, check, safe_name
from app.services.attachment_content import thumbnail as make_thumbnail
from app.services.attachment_storage import FileStore, store
from app.services.vendors import vendor_manager
from app.vendors import ChatMessage, UnknownModelError
from app.vendors.types import Blob, Part

MAX_PER_MESSAGE = 10
THUMBNAIL_PIXELS = 320  # the longer side of a thumbnail in the chat (twice its CSS size)
UNSENT_KEPT = timedelta(days=1)  # how long an upload no message carries is kept
SAFE_INLINE = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
IMAGES, PDF = "images", "pdf"
# Capabilities of models Parlor knows, when the admin has not marked the route (vendor kind,
# upstream model pattern, capabilities).
_OPENAI_VISION = re.compile(r"(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-5|o[134](-|$))")
KNOWN_MODELS = [
    ("mock", re.compile(r".*"), {IMAGES, PDF}),
    ("anthropic", re.compile(r"claude-"), {IMAGES, PDF}),
    ("openai", _OPENAI_VISION, {IMAGES, PDF}),
    ("openai", re.compile(r"gpt-4-turbo|gpt-4-vision"), {IMAGES}),
    ("azure", _OPENAI_VISION, {IMAGES}),  # a deployment named after its model
    ("gemini", re.compile(r"gemini-(1\.5|2|3)"), {IMAGES, PDF}),
    ("bedrock", re.compile(r"([a-z]+\.)?(anthropic\.claude-|amazon\.nova-(lite|pro|premier))"),
     {IMAGES, PDF}),
]


class AttachmentError(ValueError):
    """An upload or a use of attachments that breaks a rule; ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def mib(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MiB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KiB"


def upload_limit() -> int:
    """The request body an upload may send: one file at its limit plus the form around it."""
    return current_app.config["PARLOR_ATTACHMENT_MAX_BYTES"] + 64 * 1024


def upload(user: User, stream: BinaryIO, filename: str | None,
           claimed_type: str | None = None) -> Attachment:
    """Store an uploaded file for ``user`` (the same content again gives the same attachment).

    Refused with AttachmentError, storing nothing: over the size limit (413), over the
    owner's quota (413), a type Parlor does not take or a file that is not what it claims."""
    limit = current_app.config["PARLOR_ATTACHMENT_MAX_BYTES"]
    raw = stream.read(limit + 1)
    name = safe_name(filename)
    if len(raw) > limit:
        raise AttachmentError(f"{name} is larger than the limit of {mib(limit)} a file.", 413)
    try:
        checked = _off_the_loop(check, raw, name, claimed_type)
    except ContentError as exc:
        raise AttachmentError(str(exc)) from None
    del raw  # an image's original (EXIF and all) is not kept
    digest = hashlib.sha256(checked.data).hexdigest()
    existing = repo.by_sha256(user.id, digest)
    if existing is not None:
        return existing
    quota = current_app.config["PARLOR_ATTACHMENT_QUOTA_BYTES"]
    _forget_unsent(user)
    used = repo.bytes_used(user.id)
    if used + len(checked.data) > quota:
        raise AttachmentError(
            f"{name} would take your stored files past your quota of {mib(quota)} "
            f"({mib(used)} used); delete conversations with files you no longer need.", 413)
    attachment = Attachment(user_id=user.id, sha256=digest, name=name,
                            media_type=checked.media_type, size=len(checked.data),
                            text=checked.text)
    repo.add(attachment)
    db.session.flush()
    storage = store()
    try:
        storage.put(attachment, checked.data)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        twin = repo.by_sha256(user.id, digest)  # the same file, uploaded at the same moment
        if twin is not None and isinstance(exc, IntegrityError):
            return twin
        if twin is None:
            storage.discard(attachment)
        raise
    return attachment


def _forget_unsent(user: User) -> None:
    """Delete the user's uploads that were never sent and are older than UNSENT_KEPT (a
    composer closed with files in it): they would count against the quota for ever."""
    stale = repo.unsent_before(user.id, datetime.now(UTC) - UNSENT_KEPT)
    if stale:
        storage = store()
        repo.remove(stale)
        db.session.commit()
        for attachment in stale:
            storage.discard(attachment)


def _off_the_loop(work, *args):
    """Run CPU-heavy work (decoding and re-encoding an image: a second or more for a large
    one) on a real thread in a gevent worker, so the worker's other requests and streams keep
    moving meanwhile; directly elsewhere."""
    from gevent import monkey

    if not monkey.is_module_patched("threading"):
        return work(*args)
    import gevent

    return gevent.get_hub().threadpool.apply(work, args)


def owned(user: User, attachment_id: str) -> Attachment | None:
    return repo.owned(attachment_id, user.id)


def content(attachment: Attachment) -> bytes:
    return store().get(attachment)


def thumbnail(attachment: Attachment) -> tuple[bytes, dict[str, str]]:
    """A small version of an image attachment and its headers (as :func:`download_headers`)."""
    small, media_type = _off_the_loop(make_thumbnail, content(attachment), THUMBNAIL_PIXELS)
    headers = download_headers(attachment) | {"Content-Type": media_type}
    return small, headers


def download_headers(attachment: Attachment) -> dict[str, str]:
    """How an attachment is served: re-encoded raster images inline (thumbnails), everything
    else as a download with a type no browser renders as a page; never sniffed, and sandboxed
    should a browser open it anyway."""
    inline = attachment.media_type in SAFE_INLINE
    served_type = attachment.media_type if inline or attachment.media_type == "application/pdf" \
        else "text/plain; charset=utf-8"
    fallback = re.sub(r'[^A-Za-z0-9._ -]', "_", attachment.name) or "file"
    disposition = (f'{"inline" if inline else "attachment"}; filename="{fallback}"; '
                   f"filename*=UTF-8''{quote(attachment.name, safe='')}")
    return {"Content-Type": served_type, "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=86400"}


def owned_list(user: User, attachment_ids: list[str]) -> list[Attachment]:
    """The user's attachments among these ids, in their order (others' and unknown ones left
    out)."""
    found = {a.id: a for a in repo.owned_many(list(attachment_ids)[:MAX_PER_MESSAGE], user.id)}
    return [found[i] for i in dict.fromkeys(attachment_ids) if i in found]


def for_sending(user: User, attachment_ids: Iterable[str]) -> list[Attachment]:
    """The user's attachments with these ids, in the order given; an unknown id (or
    another user's) is refused naming it."""
    wanted = list(dict.fromkeys(str(a) for a in attachment_ids))
    if len(wanted) > MAX_PER_MESSAGE:
        raise AttachmentError(f"A message takes at most {MAX_PER_MESSAGE} files.")
    found = {a.id: a for a in repo.owned_many(wanted, user.id)}
    missing = [a for a in wanted if a not in found]
    if missing:
        raise AttachmentError(f"There is no attachment {missing[0]!r}; upload it first.", 404)
    return [found[a] for a in wanted]


def attach(message_id: str, attachments: list[Attachment]) -> None:
    """Link a stored message to its attachments (not committed)."""
    repo.link(message_id, [a.id for a in attachments])


def of_messages(message_ids: list[str]) -> dict[str, list[Attachment]]:
    return repo.of_messages(message_ids)


def of_conversation(conversation_id: str) -> dict[str, list[Attachment]]:
    """The attachments of a conversation's messages, by message id."""
    return repo.of_conversation(conversation_id)


def search_names(user: User, query: str, limit: int) -> list[tuple]:
    """(conversation, file name) of the user's conversations with a file named like
    ``query``, newest first."""
    query = " ".join((query or "").split())
    return repo.conversations_with_name(user.id, query, limit) if query else []


def forget_files_of(user_id: int) -> None:
    """Remove a deleted user's attachment folder (the folder store; the database store's
    bytes went with the rows)."""
    storage = store()
    if isinstance(storage, FileStore):
        storage.forget_user(user_id)


def forget_conversation(conversation_id: str) -> None:
    """Before a conversation is deleted: delete the attachments no other conversation uses."""
    unused = repo.used_only_by(conversation_id)
    storage = store()
    for attachment in unused:
        storage.discard(attachment)
    repo.remove(unused)


# -- models and content parts ---------------------------------------------------------------


def capabilities(model: str) -> set[str]:
    """What the model's first route takes: marked by the admin, else known-model defaults."""
    try:
        route = vendor_manager().routes_for(model, None)[0]
    except (UnknownModelError, IndexError):
        return set()
    found = set(route.capabilities) & {IMAGES, PDF}
    kind = route.credential.kind.removesuffix("-compatible")
    for vendor_kind, pattern, given in KNOWN_MODELS:
        if vendor_kind == kind and pattern.match(route.upstream_model):
            found |= given
    return found


def check_model_takes(user: User, model: str, attachments: list[Attachment]) -> None:
    """Refuse images for a model that takes none, naming the models that do."""
    images = [a for a in attachments if a.media_type.startswith("image/")]
    if not images or IMAGES in capabilities(model):
        return
    able = [m.id for m in vendor_manager().models(user.role.name)
            if not m.embeddings and IMAGES in capabilities(m.id)]
    which = f" Models that do: {', '.join(able[:12])}." if able else \
        " None of the models open to you takes images."
    raise AttachmentError(f"{model} does not take images ({images[0].name}).{which}")


def with_parts(message: ChatMessage, attachments: list[Attachment] | None,
               model_capabilities: set[str]) -> ChatMessage:
    """``message`` with its attachments as content parts, in the shape the model takes."""
    if not attachments:
        return message
    parts = [_part(a, model_capabilities) for a in attachments]
    if message.content:
        parts.append(Part(type="text", text=message.content))
    return ChatMessage(role=message.role, content=message.content, parts=tuple(parts))


def _part(attachment: Attachment, model_capabilities: set[str]) -> Part:
    if attachment.media_type.startswith("image/") and IMAGES not in model_capabilities:
        # sent earlier to a model that takes images; this one gets its name alone
        return Part(type="text", text=f"(Image {attachment.name}: not shown to this model.)")
    # The stored bytes themselves (one copy): adapters base64-encode them as they are sent.
    if attachment.media_type.startswith("image/"):
        return Part(type="image", media_type=attachment.media_type, name=attachment.name,
                    blob=Blob(content(attachment), attachment.sha256))
    if attachment.media_type == "application/pdf" and PDF in model_capabilities:
        return Part(type="document", media_type="application/pdf", name=attachment.name,
                    blob=Blob(content(attachment), attachment.sha256))
    text = repo.text_of(attachment.id) or ""
    label = " (text of the PDF)" if attachment.media_type == "application/pdf" else ""
    return Part(type="text", text=f"File {attachment.name}{label}:\n\n{text}")
