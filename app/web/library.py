"""The conversation list: paging, search, rename, delete and export."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.services import chat, chat_export
from app.web.access import owned_conversation_or_404, require_chat_permission
from app.web.chat import sidebar
from app.web.forms import RenameForm

bp = Blueprint("library", __name__)
bp.before_request(require_chat_permission)
MAX_QUERY = 200


@bp.get("/conversations")
def page():
    number = request.args.get("page", 1, type=int) or 1
    listing = sidebar(max(number, 1))
    if request.htmx:
        return render_template("chat/_conversation_items.html", **listing)
    return render_template("chat/library.html", **listing, query="", results=None)


@bp.get("/search")
def search():
    query = (request.args.get("q") or "").strip()[:MAX_QUERY]
    results = chat.search(current_user, query) if query else None
    if request.htmx:
        if results is None:
            return render_template("chat/_conversation_items.html", **sidebar())
        return render_template("chat/_search_results.html", results=results, query=query)
    return render_template("chat/library.html", **sidebar(), query=query, results=results)


@bp.post("/c/<conversation_id>/rename")
def rename(conversation_id: str):
    conversation = owned_conversation_or_404(conversation_id)
    form = RenameForm()
    try:
        if not form.validate_on_submit():
            raise chat.ChatError("Give the conversation a title of at most 200 characters.")
        chat.rename(conversation, form.title.data)
    except chat.ChatError as exc:
        flash(str(exc))
    return redirect(url_for("chat.show", conversation_id=conversation.id))


@bp.post("/c/<conversation_id>/delete")
def delete(conversation_id: str):
    conversation = owned_conversation_or_404(conversation_id)
    chat.delete_conversation(conversation)
    flash("Conversation deleted.")
    return redirect(url_for("chat.index"))


@bp.get("/c/<conversation_id>/export.<any(md, json):extension>")
def export(conversation_id: str, extension: str):
    conversation = owned_conversation_or_404(conversation_id)
    if extension == "md":  # the branch shown, as it reads
        body = chat_export.to_markdown(conversation, chat.shown_path(conversation))
        mimetype = "text/markdown"
    else:  # the whole tree: every version, each message with its parent
        body = chat_export.to_json(conversation, chat.messages(conversation),
                                   embed_attachments=request.args.get("attachments") != "list")
        mimetype = "application/json"
    name = chat_export.filename(conversation, extension)
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
