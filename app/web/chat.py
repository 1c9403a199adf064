"""The chat pages: conversation list, a conversation, sending a message."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.formatting import to_html
from app.repositories import conversations as repo
from app.services import chat
from app.web.forms import MessageForm, NewChatForm

bp = Blueprint("chat", __name__)


@bp.before_request
@login_required
def require_chat_permission():
    if not current_user.role.can("chat"):
        abort(403)


@bp.app_template_filter("markdown")
def markdown_filter(text: str) -> str:
    return to_html(text)


def _model_choices() -> list[tuple[str, str]]:
    return [(m.id, f"{m.id}  ({m.vendor})") for m in chat.available_models(current_user)]


def _sidebar() -> list:
    return repo.recent(current_user.id, limit=50)


@bp.get("/")
def index():
    form = NewChatForm()
    form.model.choices = _model_choices()
    return render_template("chat/index.html", form=form, conversations=_sidebar())


@bp.post("/c")
def create():
    form = NewChatForm()
    form.model.choices = _model_choices()
    if not form.validate_on_submit():
        return render_template("chat/index.html", form=form, conversations=_sidebar()), 400
    try:
        conversation = chat.start_conversation(current_user, form.model.data,
                                               form.system_prompt.data or "")
        chat.send_message(current_user, conversation, form.message.data)
    except chat.ChatError as exc:
        form.message.errors = [str(exc)]
        return render_template("chat/index.html", form=form, conversations=_sidebar()), 400
    return redirect(url_for("chat.show", conversation_id=conversation.id))


def _owned_or_404(conversation_id: str):
    conversation = repo.owned(conversation_id, current_user.id)
    if conversation is None:
        abort(404)
    return conversation


@bp.get("/c/<conversation_id>")
def show(conversation_id: str):
    conversation = _owned_or_404(conversation_id)
    return render_template(
        "chat/conversation.html",
        conversation=conversation,
        messages=repo.messages(conversation.id),
        form=MessageForm(),
        conversations=_sidebar(),
    )


@bp.post("/c/<conversation_id>/messages")
def send(conversation_id: str):
    conversation = _owned_or_404(conversation_id)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            chat.send_message(current_user, conversation, form.message.data)
        except chat.ChatError as exc:
            form.message.errors = [str(exc)]
    if form.errors:
        return render_template(
            "chat/conversation.html", conversation=conversation,
            messages=repo.messages(conversation.id), form=form, conversations=_sidebar(),
        ), 400
    return redirect(url_for("chat.show", conversation_id=conversation.id, _anchor="composer"))


@bp.post("/c/<conversation_id>/delete")
def delete(conversation_id: str):
    conversation = _owned_or_404(conversation_id)
    chat.delete_conversation(conversation)
    flash("Conversation deleted.")
    return redirect(url_for("chat.index"))
