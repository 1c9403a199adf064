"""The chat pages: a new chat, a conversation, sending, comparing models, regenerating,
editing and switching between versions (branches)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from app.formatting.markdown import to_html
from app.services import chat, model_reasoning
from app.web.access import (
    htmx_error,
    owned_conversation_or_404,
    owned_message_or_404,
    require_chat_permission,
)
from app.web.forms import EFFORT_CHOICES, EditMessageForm, MessageForm, NewChatForm, RenameForm

bp = Blueprint("chat", __name__)
bp.before_request(require_chat_permission)
SIDEBAR_PAGE = 30
MESSAGE_ID = "__message_id__"


BUDGET_CHOICES = [("", "Model default"), *((value, model_reasoning.budget_label(value))
                                             for value, _ in EFFORT_CHOICES if value)]


def reasoning_option(model: str | None) -> dict:
    """What the Options panel's reasoning control is for ``model``: a reasoning effort, a
    thinking budget, or none (``reasoning_control`` None) for a model that takes neither."""
    control = chat.reasoning_control(current_user, model) if model else None
    return {"reasoning_control": control,
            "reasoning_choices": BUDGET_CHOICES if control == model_reasoning.BUDGET
            else EFFORT_CHOICES}


def _picked(form) -> str | None:
    """The model the Model select shows: the form's, else the first offered."""
    if form.model.data:
        return form.model.data
    return next((value for group in form.model.choices.values() for value, _ in group), None)


@bp.app_template_global()
def message_url(endpoint: str, conversation_id: str, message_id: str) -> str:
    """``url_for`` of a per-message action, built once per page and endpoint: a conversation
    of a thousand messages would otherwise spend most of its time building URLs."""
    built = g.setdefault("message_urls", {})
    key = (endpoint, conversation_id)
    if key not in built:
        built[key] = url_for(endpoint, conversation_id=conversation_id, message_id=MESSAGE_ID)
    return built[key].replace(MESSAGE_ID, message_id)  # ids are URL-safe (public_id)


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
    return render_template("chat/index.html", form=form, **reasoning_option(_picked(form)),
                           **sidebar()), status


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
    conversation = None
    try:
        conversation = chat.start_conversation(current_user, form.model.data,
                                               form.system_prompt.data or "",
                                               form.options())
        _send(conversation, form)
    except chat.ChatError as exc:
        if conversation is not None:  # no empty conversation is left behind
            chat.discard_changes()
            chat.delete_conversation(conversation)
        form.message.errors = [str(exc)]
        return _new_chat_page(form, 400)
    return redirect(url_for("chat.show", conversation_id=conversation.id))


def _send(conversation, form) -> None:
    """Send the composer's message: to the conversation's model, or with **Compare** to the
    models ticked (the **Model** picked first when fewer than two are)."""
    if request.form.get("intent") == "compare":
        models = list(form.compare_models.data or [])
        if len(models) < 2:
            models.insert(0, form.model.data or conversation.model)
        chat.compare(current_user, conversation, form.message.data or "", models,
                     request.form.getlist("attachments"))
    else:
        chat.send_message(current_user, conversation, form.message.data or "",
                          request.form.getlist("attachments"))


def _conversation_page(conversation, form: MessageForm | None = None, status: int = 200):
    options = conversation.options or {}
    form = form or MessageForm(model=conversation.model, system_prompt=conversation.system_prompt,
                               temperature=options.get("temperature"),
                               max_tokens=options.get("max_tokens"),
                               reasoning_effort=options.get("reasoning_effort") or "")
    form.model.choices = model_choices()
    messages, choices = chat.branch_view(conversation)
    return render_template(
        "chat/conversation.html", conversation=conversation,
        messages=messages, choices=choices, form=form,
        edit_form=EditMessageForm(), rename_form=RenameForm(title=conversation.title),
        **reasoning_option(_picked(form)), **sidebar(),
    ), status


def _messages(conversation):
    """The message list: the fragment for htmx, the whole page otherwise."""
    if request.htmx:
        messages, choices = chat.branch_view(conversation)
        return render_template("chat/_messages.html", conversation=conversation,
                               messages=messages, choices=choices,
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


@bp.get("/options/reasoning")
def reasoning_control():
    """The Options panel's reasoning control for the model picked, swapped in when the Model
    select changes; the value chosen so far is kept."""
    effort = request.args.get("reasoning_effort", "")
    if effort not in dict(EFFORT_CHOICES):
        effort = ""
    return render_template("chat/_reasoning_option.html", reasoning_effort=effort,
                           **reasoning_option(request.args.get("model", "")))


@bp.get("/c/<conversation_id>")
def show(conversation_id: str):
    return _conversation_page(owned_conversation_or_404(conversation_id))


@bp.post("/c/<conversation_id>/messages")
def send(conversation_id: str):
    conversation = owned_conversation_or_404(conversation_id)
    form = MessageForm()
    form.model.choices = model_choices()
    if not form.validate_on_submit():
        return _refused(conversation, form.first_error() or "Type a message.", form)
    try:
        chat.configure(current_user, conversation, model=form.model.data,
                       system_prompt=form.system_prompt.data
                       if form.system_prompt.raw_data else None,
                       options=form.options())
        _send(conversation, form)
    except chat.ChatError as exc:
        chat.discard_changes()
        return _refused(conversation, str(exc), form)
    return _messages(conversation)


@bp.post("/c/<conversation_id>/regenerate")
@bp.post("/c/<conversation_id>/messages/<message_id>/regenerate")
def regenerate(conversation_id: str, message_id: str | None = None):
    """A new version of a reply (default: the last one shown); the old one stays a branch."""
    return _branch_action(chat.regenerate, conversation_id, message_id)


@bp.post("/c/<conversation_id>/messages/<message_id>/show")
def show_version(conversation_id: str, message_id: str):
    """**Previous version** / **Next version**: show the branch of another version."""
    return _branch_action(chat.show_version, conversation_id, message_id)


@bp.post("/c/<conversation_id>/messages/<message_id>/use")
def use_reply(conversation_id: str, message_id: str):
    """**Use this reply**: continue from one of the replies compared."""
    return _branch_action(chat.use_reply, conversation_id, message_id)


def _branch_action(action, conversation_id: str, message_id: str | None):
    """``action(conversation, message_id)`` on the user's own conversation and message (404
    otherwise), answered with the message list, or the refusal inline."""
    conversation = owned_conversation_or_404(conversation_id)
    if message_id is not None:
        owned_message_or_404(conversation, message_id)
    try:
        action(conversation, message_id)
    except chat.ChatError as exc:
        return _refused(conversation, str(exc))
    return _messages(conversation)


@bp.get("/c/<conversation_id>/messages/<message_id>/edit")
def edit_form(conversation_id: str, message_id: str):
    """The Edit form of one of the user's messages (fetched when its Edit opens)."""
    conversation = owned_conversation_or_404(conversation_id)
    message = owned_message_or_404(conversation, message_id)
    if message.role != "user":
        abort(404)
    return render_template("chat/_edit_form.html", conversation=conversation, message=message)


@bp.post("/c/<conversation_id>/messages/<message_id>/edit")
def edit(conversation_id: str, message_id: str):
    conversation = owned_conversation_or_404(conversation_id)
    owned_message_or_404(conversation, message_id)
    form = EditMessageForm()
    if not form.validate_on_submit():
        return _refused(conversation, "Type a message.")
    try:
        chat.edit_message(conversation, message_id, form.message.data)
    except chat.ChatError as exc:
        return _refused(conversation, str(exc))
    return _messages(conversation)
