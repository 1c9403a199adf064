"""The composer's uploads (a chip per file) and attachments served to their owner."""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, render_template, request
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from app.extensions import csrf
from app.services import attachments
from app.web.access import require_chat_permission

bp = Blueprint("attachments", __name__)
# The CSRF token is checked below, once the body limit of an upload is set: Flask-WTF's own
# check would read the form first, under the small limit of every other page.
csrf.exempt(bp)
bp.before_request(require_chat_permission)
UPLOAD = "attachments.upload"


@bp.before_app_request
def upload_body_limit():
    if request.endpoint == UPLOAD:
        request.max_content_length = attachments.upload_limit()


@bp.before_request
def check_csrf():
    if request.method == "POST":
        csrf.protect()


@bp.app_template_global()
def attachments_of(conversation_id: str) -> dict:
    """The conversation's attachments by message id (read once a request, for every message
    the page shows)."""
    cache = g.setdefault("parlor_attachments", {})
    if conversation_id not in cache:
        cache[conversation_id] = attachments.of_conversation(conversation_id)
    return cache[conversation_id]


@bp.app_template_global()
def pending_attachments() -> list:
    """The files a refused composer post carried (the page comes back with them attached)."""
    if request.method != "POST" or not current_user.is_authenticated:
        return []
    return attachments.owned_list(current_user, request.form.getlist("attachments"))


@bp.app_template_filter("file_size")
def file_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def _refused(message: str, status: int):
    return render_template("chat/_attachment_error.html", message=message), status


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc):
    limit = attachments.mib(request.max_content_length or 0)
    return _refused(f"The file is larger than the limit of {limit}.", 413)


@bp.post("/attachments")
def upload():
    """Store one file from the composer; answers its chip (with the hidden field that sends it)."""
    sent = request.files.get("file")
    if sent is None:
        return _refused("Choose a file to attach.", 400)
    try:
        stored = attachments.upload(current_user, sent.stream, sent.filename, sent.mimetype)
    except attachments.AttachmentError as exc:
        return _refused(str(exc), exc.status)
    return render_template("chat/_attachment_chip.html", attachment=stored), 201


@bp.get("/attachments/<attachment_id>")
def show(attachment_id: str):
    """The file, to its owner; ``?thumbnail`` gives an image's small version (the chat's)."""
    found = attachments.owned(current_user, attachment_id)
    if found is None:
        abort(404)
    if "thumbnail" in request.args and found.media_type in attachments.SAFE_INLINE:
        data, headers = attachments.thumbnail(found)
        return Response(data, headers=headers)
    return Response(attachments.content(found), headers=attachments.download_headers(found))
