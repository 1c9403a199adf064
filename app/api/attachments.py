"""``/api/v1/attachments``: upload a file (multipart, field ``file``), read its details and
download it. Another user's attachment id answers 404, exactly like a missing one.
"""

from __future__ import annotations

from flask import Response, request

from app.api import rest, rest_auth
from app.api.conversations import CHAT_PERMISSION
from app.api.errors import ApiError
from app.api.schemas.rest import AttachmentOut
from app.models.attachments import Attachment
from app.services import attachments

bp = rest.blueprint("rest_attachments", __name__)


@bp.before_app_request
def upload_body_limit():
    # Set before any hook reads the body (a session's CSRF check reads the form): an upload
    # may be as large as one file at its limit, where other /api/v1 bodies stay small.
    if request.endpoint == "rest_attachments.create":
        request.max_content_length = attachments.upload_limit()


@bp.before_request
def require_chat():
    rest_auth.require(CHAT_PERMISSION)


def owned_or_404(attachment_id: str) -> Attachment:
    found = attachments.owned(rest_auth.current().user, attachment_id)
    if found is None:
        raise ApiError(404, "There is no such attachment.")
    return found


@bp.post("/attachments")
def create():
    """Upload one file (multipart/form-data, field ``file``)."""
    if not (request.content_type or "").startswith("multipart/form-data"):
        raise ApiError(400, "Send the file as multipart/form-data in the field 'file'.")
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(400, "file: send the file in the multipart field 'file'.",
                       param="file")
    try:
        stored = attachments.upload(rest_auth.current().user, upload.stream, upload.filename,
                                    upload.mimetype)
    except attachments.AttachmentError as exc:
        raise ApiError(exc.status, str(exc), param="file") from None
    return rest.data(AttachmentOut.model_validate(stored), 201)


@bp.get("/attachments/<attachment_id>")
def show(attachment_id: str):
    """One of your attachments' details."""
    return rest.data(AttachmentOut.model_validate(owned_or_404(attachment_id)))


@bp.get("/attachments/<attachment_id>/content")
def content(attachment_id: str):
    """The file itself: images inline, everything else as a download."""
    found = owned_or_404(attachment_id)
    return Response(attachments.content(found), headers=attachments.download_headers(found))
