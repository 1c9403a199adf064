"""The chat pages: a new chat, a conversation, sending, regenerating and editing."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.formatting.markdown import to_html
from app.services import chat
from app.web.access import (
    htmx_error,
    owned_conversation_or_404,
    owned_message_or_404,
    require_chat_permission,
)
from app.web.forms import EditMessageForm, MessageForm, NewChatForm, RenameForm

bp = Blueprint("chat", __name__)
bp.before_request(require_chat_permission)
SIDEBAR_PAGE = 30


@bp.app_template_filter("markdown")
def markdown_filter(text: str) -> str:
    return to_html(text)


def model_choices() -> dict[str, list[tuple[str, str]]]:
    """The models the user's role may use, grouped by vendor (an <optgroup> each)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for m in chat.available_models(current_user):
        plain = m.id == f"{m.vendor}/{m.upstream_model}"
        groups.setdefault(m.vendor, []).append(
            (m.id, m.id if plain else f"{m.id} ({m.upstream_model})"))
    return groups


def sidebar(page: int = 1) -> dict:
    rows = chat.recent_conversations(current_user, limit=SIDEBAR_PAGE + 1,
                                     offset=(page - 1) * SIDEBAR_PAGE)
    return {"conversations": rows[:SIDEBAR_PAGE],
            "next_page": page + 1 if len(rows) > SIDEBAR_PAGE else None}


def _new_chat_page(form: NewChatForm, status: int = 200):
    return render_template("chat/index.html", form=form, **sidebar()), status


@bp.get("/")
def index():
    form = NewChatForm()
    form.model.choices = model_choices()
    offered = {value for group in form.model.choices.values() for value, _ in group}
    default = current_app.config.get("PARLOR_DEFAULT_MODEL")
    if default in offered:
        form.model.data = default
    return _new_chat_page(form)


@bp.post("/c")
def create():
    form = NewChatForm()
    form.model.choices = model_choices()
    if not form.validate_on_submit():
        return _new_chat_page(form, 400)
    try:
        conversation = chat.start_conversation(current_user, form.model.data,
                                               form.system_prompt.data or "")
        chat.send_message(current_user, conversation, form.message.data)
    except chat.ChatError as exc:
        form.message.errors = [str(exc)]
        return _new_chat_page(form, 400)
    return redirect(url_for("chat.show", conversation_id=conversation.id))


def _conversation_page(conversation, form: MessageForm | None = None, status: int = 200):
    form = form or MessageForm(model=conversation.model, system_prompt=conversation.system_prompt)
    form.model.choices = model_choices()
    return render_template(
        "chat/conversation.html", conversation=conversation,
        messages=chat.messages_to_show(conversation), form=form,
        edit_form=EditMessageForm(), rename_form=RenameForm(title=conversation.title),
        **sidebar(),
    ), status


def _messages(conversation):
    """The message list: the fragment for htmx, the whole page otherwise."""
    if request.htmx:
        return render_template("chat/_messages.html", conversation=conversation,
                               messages=chat.messages_to_show(conversation),
                               edit_form=EditMessageForm())
    return redirect(url_for("chat.show", conversation_id=conversation.id, _anchor="composer"))


def _refused(conversation, message: str, form: MessageForm | None = None):
    if request.htmx:
        return htmx_error(message)
    if form is not None:
        form.message.errors = [message]
        return _conversation_page(conversation, form, 400)
    flash(message)
    return redirect(url_for("chat.show", conversation_id=conversation.id))


@bp.get("/c/<conversation_id>")
def show(conversation_id: str):
    return _conversation_page(owned_conversation_or_404(conversation_id))


@bp.post("/c/<conversation_id>/messages")
def send(conversation_id: str):
    conversation = owned_conversation_or_404(conversation_id)
    form = MessageForm()
    form.model.choices = model_choices()
    if not form.validate_on_submit():
        error = next(iter(form.message.errors or form.system_prompt.errors), "Type a message.")
        return _refused(conversation, error, form)
    try:
        chat.configure(current_user, conversation, model=form.model.data,
                       system_prompt=form.system_prompt.data
                       if form.system_prompt.raw_data else None)
        chat.send_message(current_user, conversation, form.message.data)
    except chat.ChatError as exc:
        chat.discard_changes()
        return _refused(conversation, str(exc), form)
    return _messages(conversation)


@bp.post("/c/<conversation_id>/regenerate")
def regenerate(conversation_id: str):
    conversation = owned_conversation_or_404(conversation_id)
    try:
        chat.regenerate(conversation)
    except chat.ChatError as exc:
        return _refused(conversation, str(exc))
    return _messages(conversation)


@bp.post("/c/<conversation_id>/messages/<message_id>/edit")
def edit(conversation_id: str, message_id: str):
    conversation = owned_conversation_or_404(conversation_id)
    owned_message_or_404(conversation, message_id)
    form = EditMessageForm()
    if not form.validate_on_submit():
        return _refused(conversation, "Type a message.")
    try:
        chat.edit_last_message(conversation, message_id, form.message.data)
    except chat.ChatError as exc:
        return _refused(conversation, str(exc))
    return _messages(conversation)
