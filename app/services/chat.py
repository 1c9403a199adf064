"""Chat: a user's conversations and messages — reading them, sending, editing, branches,
comparing models, reply options and the reply placeholders (streamed by chat_stream).

Messages form a tree (services/chat_tree.py): an edit or a regeneration is a sibling of what
it redoes, nothing is deleted, and the conversation remembers the leaf of the branch it shows;
the model sees only that branch. Every lookup is scoped to the owner: another user's id reads
exactly like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import commit_keeping_loaded, db
from app.models import Conversation, Message, MessageStatus, User
from app.models.columns import public_id
from app.repositories import conversations as repo
from app.repositories.pages import Page
from app.services import attachments as attachment_files
from app.services import model_reasoning, reply_leases
from app.services.chat_tree import Tree
from app.services.keys import KeyOwner
from app.services.vendors import vendor_manager
from app.vendors import ChatMessage, ChatRequest, ModelInfo, Reasoning, UnknownModelError
from app.vendors import errors as vendor_errors

MAX_MESSAGE_CHARS = 100_000
MAX_SYSTEM_PROMPT_CHARS = 20_000
MAX_TITLE_CHARS = 200
NEW_TITLE = "New chat"
SEARCH_LIMIT = 30  # hits on the search page
MAX_SEARCH_RESULTS = 500  # the furthest the paged (API) search reaches
COMPARE_MODELS = (2, 3)  # how many models a comparison asks, at least and at most
EFFORTS = ("minimal", "low", "medium", "high", "xhigh")  # reasoning effort (README)
MAX_TEMPERATURE = 2.0
MAX_REPLY_TOKENS = 1_000_000

USER_FACING_ERRORS = [
    (vendor_errors.VendorRateLimited, "The model's vendor is rate limiting requests. "
                                      "Try again in a moment."),
    (vendor_errors.VendorTimeout, "The model took too long to answer."),
    (vendor_errors.VendorAuthError, "The vendor refused Parlor's key; ask an admin to check it."),
    (vendor_errors.VendorModelNotFound, "The vendor does not offer this model."),
    (vendor_errors.VendorBadRequest, "The vendor refused this request."),
    (vendor_errors.VendorUnavailable, "The model's vendor is unavailable right now."),
]


class ChatError(ValueError):
    """A chat request that breaks a rule; the message is shown to the user."""

    status = 400  # what the REST API answers


class ReplyInProgress(ChatError):
    """A reply of the branch shown is still being written: nothing new until it ends."""

    status = 409


def describe_error(exc: Exception) -> str:
    """A short message for the chat page; never the upstream body or a secret."""
    if isinstance(exc, UnknownModelError):
        return str(exc)
    for cls, text in USER_FACING_ERRORS:
        if isinstance(exc, cls):
            return text
    return "The reply failed."


def conversation_of(user: User, conversation_id: str) -> Conversation | None:
    """The user's conversation with this id, or None (also for another user's id)."""
    return repo.owned(conversation_id, user.id)


def recent_conversations(user: User, *, limit: int, offset: int = 0) -> list[Conversation]:
    """The user's conversations, most recently updated first."""
    return repo.recent(user.id, limit=limit, offset=offset)


def conversations_page(user: User, number: int, per_page: int,
                       order_by: str) -> Page[Conversation]:
    """One page of the user's conversations in ``order_by`` (``-`` first for descending)."""
    return repo.page_of(user.id, page=number, per_page=per_page, order_by=order_by)


def search(user: User, query: str, limit: int = SEARCH_LIMIT) -> list[tuple[Conversation, str]]:
    """The user's conversations matching ``query``, newest first, with a matching text; then
    those with a file of a matching name."""
    hits = repo.search(user.id, query, limit=limit)
    seen = {conversation.id for conversation, _ in hits}
    for conversation, name in attachment_files.search_names(user, query, limit):
        if conversation.id not in seen:
            seen.add(conversation.id)
            hits.append((conversation, f"Attachment: {name}"))
    return hits[:limit]


def search_page(user: User, query: str, number: int,
                per_page: int) -> tuple[list[tuple[Conversation, str]], bool]:
    """One page of search hits (conversation, matching text) and whether more follow."""
    start = (number - 1) * per_page
    wanted = min(start + per_page + 1, MAX_SEARCH_RESULTS)
    hits = search(user, query, limit=wanted) if start < wanted else []
    return hits[start:start + per_page], len(hits) > start + per_page


def messages(conversation: Conversation) -> list[Message]:
    """The conversation's messages, oldest first."""
    return repo.messages(conversation.id)


def messages_to_show(conversation: Conversation) -> list:
    """The branch shown, as light rows of what the chat page shows, each with its version
    number among its siblings (``version``, ``versions``, ``previous_id``, ``next_id``)."""
    reply_leases.sweep_if_due()  # replies whose writer died read as interrupted
    return Tree(repo.messages_to_show(conversation.id)).shown(conversation.current_leaf_id)


def branch_view(conversation: Conversation) -> tuple[list, list]:
    """What the chat page shows: the branch (as :func:`messages_to_show`) and, when it ends
    at a prompt sent to several models, their replies to pick from (else empty); one query."""
    reply_leases.sweep_if_due()  # replies whose writer died read as interrupted
    tree = Tree(repo.messages_to_show(conversation.id))
    leaf = conversation.current_leaf_id
    return tree.shown(leaf), tree.choices(leaf)


def branch_ids(conversation: Conversation) -> list[str]:
    """The ids of the branch shown, first message to current leaf."""
    reply_leases.sweep_if_due()  # replies whose writer died read as interrupted
    return [row.id for row in _tree(conversation).path(conversation.current_leaf_id)]


def shown_path(conversation: Conversation) -> list[Message]:
    """The messages of the branch shown, oldest first (ORM objects)."""
    ids = [row.id for row in _tree(conversation).path(conversation.current_leaf_id)]
    found = repo.messages_by_id(conversation.id, ids)
    return [found[i] for i in ids if i in found]


def message(conversation: Conversation, message_id: str) -> Message | None:
    """The message with this id if it belongs to ``conversation``."""
    return repo.message_in(conversation.id, message_id)


def load_for_stream(*objects) -> None:
    """Load ``objects`` afresh: a streamed response runs after this request's session has
    closed, and must not find them expired by the commit that stored the message."""
    for obj in objects:
        db.session.refresh(obj)


def available_models(user: User) -> list[ModelInfo]:
    return vendor_manager().models(user.role.name)


def _check_model(user: User, model: str) -> None:
    try:
        vendor_manager().routes_for(model, user.role.name)
    except UnknownModelError as exc:
        raise ChatError(str(exc)) from None


def reasoning_control(user: User, model: str) -> str | None:
    """The reasoning option ``model`` takes (model_reasoning.EFFORT or BUDGET); None for a
    model that takes none or that the user may not use."""
    try:
        _check_model(user, model)
    except ChatError:
        return None
    return model_reasoning.control(model)


def _check_system_prompt(system_prompt: str) -> str:
    if len(system_prompt) > MAX_SYSTEM_PROMPT_CHARS:
        raise ChatError(f"The system prompt is limited to {MAX_SYSTEM_PROMPT_CHARS} characters.")
    return system_prompt.strip()


def _check_text(text: str, files_attached: bool = False) -> str:
    text = (text or "").strip()
    if not text and not files_attached:
        raise ChatError("Type a message first.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ChatError(f"Messages are limited to {MAX_MESSAGE_CHARS} characters.")
    return text


def _check_options(options: dict) -> dict:
    """Reply options as stored: known keys with valid values, unset ones left out."""
    unknown = set(options) - {"temperature", "max_tokens", "reasoning_effort"}
    if unknown:
        raise ChatError(f"Unknown option: {', '.join(sorted(unknown))}.")
    checked: dict = {}
    temperature = options.get("temperature")
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, int | float) \
                or not 0 <= temperature <= MAX_TEMPERATURE:
            raise ChatError(f"Temperature goes from 0 to {MAX_TEMPERATURE:g}.")
        checked["temperature"] = float(temperature)
    max_tokens = options.get("max_tokens")
    if max_tokens is not None:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) \
                or not 1 <= max_tokens <= MAX_REPLY_TOKENS:
            raise ChatError(f"Max tokens is a whole number from 1 to {MAX_REPLY_TOKENS:,}.")
        checked["max_tokens"] = max_tokens
    effort = options.get("reasoning_effort")
    if effort:
        if effort not in EFFORTS:
            raise ChatError(f"Reasoning effort is one of {', '.join(EFFORTS)}.")
        checked["reasoning_effort"] = effort
    return checked


def _tree(conversation: Conversation) -> Tree:
    return Tree(repo.tree_rows(conversation.id))


def _check_idle(tree: Tree, conversation: Conversation) -> None:
    open_ids = [row.id for row in tree.path(conversation.current_leaf_id) + tree.choices(
        conversation.current_leaf_id) if row.status in repo.OPEN_STATUSES]
    if reply_leases.still_open(open_ids):  # a reply whose writer died does not count
        raise ReplyInProgress("A reply is still being written: wait for it or stop it first.")


def start_conversation(user: User, model: str, system_prompt: str = "",
                       options: dict | None = None) -> Conversation:
    _check_model(user, model)
    conversation = Conversation(user_id=user.id, model=model, title=NEW_TITLE,
                                system_prompt=_check_system_prompt(system_prompt or ""),
                                options=_check_options(options or {}))
    repo.add(conversation)
    db.session.commit()
    return conversation


def configure(user: User, conversation: Conversation, *, model: str | None = None,
              system_prompt: str | None = None, options: dict | None = None) -> None:
    """Switch the conversation's model, system prompt or reply options (temperature,
    max_tokens, reasoning_effort; None or absent: the model's default) for the next replies
    (not committed)."""
    if model and model != conversation.model:
        _check_model(user, model)
        conversation.model = model
    if system_prompt is not None:
        conversation.system_prompt = _check_system_prompt(system_prompt)
    if options is not None:
        conversation.options = _check_options(options)


def update_conversation(user: User, conversation: Conversation, *, title: str | None = None,
                        model: str | None = None, system_prompt: str | None = None,
                        options: dict | None = None,
                        current_leaf_id: str | None = None) -> None:
    """Rename and reconfigure a conversation, or show another branch, at once; on a refusal
    nothing changes."""
    try:
        configure(user, conversation, model=model, system_prompt=system_prompt,
                  options=options)
        if current_leaf_id is not None:
            _show_branch(conversation, current_leaf_id)
        if title is not None:
            rename(conversation, title)  # commits
        else:
            db.session.commit()
    except ChatError:
        db.session.rollback()
        raise


def send_message(user: User, conversation: Conversation, text: str,
                 attachment_ids: list[str] | None = None) -> tuple[Message, Message]:
    """Store the user's message (with the user's attachments of these ids) at the end of the
    branch shown and a pending reply; the reply is generated by its stream."""
    message, reply, _files = _send(user, conversation, text, attachment_ids,
                                   _tree(conversation), None)
    return message, reply


@dataclass(frozen=True)
class Claimed:
    """A message sent by the request that writes its reply now (:func:`send_and_claim`)."""

    message: Message
    reply: Message
    request: ChatRequest  # what the vendor is asked for the reply


def send_and_claim(user: User | KeyOwner, conversation: Conversation, text: str,
                   attachment_ids: list[str] | None, lease_until: datetime) -> Claimed:
    """:func:`send_message` for the request that writes the reply now: the reply is stored
    already claimed (``streaming`` under a lease until ``lease_until``: no other request can
    start its writer), in the same commit; the objects stay loaded after it, and the vendor
    request is built from the rows read to send. Nothing is read back."""
    tree = Tree(repo.messages_to_show(conversation.id))
    message, reply, files = _send(user, conversation, text, attachment_ids, tree, lease_until)
    return Claimed(message, reply, reply_request(conversation, reply, rows=[*tree.rows, message,
                                                                            reply],
                                                 known_files={message.id: files}))


def _send(user, conversation: Conversation, text: str, attachment_ids: list[str] | None,
          tree: Tree, lease_until: datetime | None) -> tuple[Message, Message, list]:
    files = _files_for(user, [conversation.model], attachment_ids)
    text = _check_text(text, files_attached=bool(files))
    _check_idle(tree, conversation)
    if tree.choices(conversation.current_leaf_id):
        raise ChatError("Pick the reply to continue from first (Use this reply).")
    leaf = tree.leaf(conversation.current_leaf_id)
    seq = max((row.seq for row in tree.rows), default=0) + 1
    claimed = lease_until is not None
    message = _user_message(conversation, text, parent_id=leaf.id if leaf else None, seq=seq,
                            add=not claimed)
    placeholder = _placeholder(conversation, message.id, seq=seq + 1, lease_until=lease_until,
                               add=not claimed)
    if claimed:  # the hot path (a REST send): one plain INSERT, no unit of work for them
        repo.insert_messages([message, placeholder])
    _attach(conversation, message, files)
    _commit_sent(lease_until)  # the user's words are safe before the vendor is called
    return message, placeholder, files


def _commit_sent(lease_until: datetime | None) -> None:
    """Commit a new reply (and its prompt): a reply claimed for the request that writes it now
    keeps the objects loaded, for the answer and the vendor request to be made from them."""
    if lease_until is None:
        db.session.commit()
    else:
        commit_keeping_loaded()


def _files_for(user: User, models: list[str], attachment_ids: list[str] | None) -> list:
    """The user's attachments to send, each checked against every model that will get them."""
    if not attachment_ids:
        return []
    try:
        files = attachment_files.for_sending(user, attachment_ids)
        for model in models:
            attachment_files.check_model_takes(user, model, files)
    except attachment_files.AttachmentError as exc:
        refusal = ChatError(str(exc))
        refusal.status = exc.status  # 404: an attachment id that is not the user's
        raise refusal from None
    return files


def _attach(conversation: Conversation, message: Message, files: list) -> None:
    if files and message in db.session:
        db.session.flush()  # the message row first: its links refer to it
    attachment_files.attach(message.id, files)
    set_committed_value(message, "attachments", list(files))  # known: no query to read them
    if files and not message.content and conversation.title in ("", NEW_TITLE):
        conversation.title = _title_from(", ".join(f.name for f in files))


def compare(user: User, conversation: Conversation, text: str,
            models: list[str], attachment_ids: list[str] | None = None
            ) -> tuple[Message, list[Message]]:
    """Send one message to two or three models at once: a pending reply from each, side by
    side, until the user picks one (:func:`use_reply`); the others stay as branches."""
    models = list(dict.fromkeys(m for m in models if m))
    files = _files_for(user, models, attachment_ids)
    text = _check_text(text, files_attached=bool(files))
    low, high = COMPARE_MODELS
    if not low <= len(models) <= high:
        raise ChatError(f"Pick {low} or {high} different models to compare.")
    for model in models:
        _check_model(user, model)
    tree = _tree(conversation)
    _check_idle(tree, conversation)
    if tree.choices(conversation.current_leaf_id):
        raise ChatError("Pick the reply to continue from first (Use this reply).")
    leaf = tree.leaf(conversation.current_leaf_id)
    message = _user_message(conversation, text, parent_id=leaf.id if leaf else None)
    _attach(conversation, message, files)
    replies = [_placeholder(conversation, message.id, model=model) for model in models]
    conversation.current_leaf_id = message.id  # the branch ends at the choice
    db.session.commit()
    return message, replies


def use_reply(conversation: Conversation, reply_id: str) -> None:
    """Continue the conversation from this reply (one of a comparison, or any version)."""
    tree = _tree(conversation)
    row = tree.by_id.get(reply_id)
    if row is None or row.role != "assistant":
        raise ChatError("There is no such reply in this conversation.")
    conversation.current_leaf_id = tree.newest_leaf(reply_id)
    db.session.commit()


def show_version(conversation: Conversation, message_id: str) -> None:
    """Show the branch of this version of a message (down to the newest message under it)."""
    try:
        _show_branch(conversation, message_id)
    except ChatError:
        db.session.rollback()
        raise
    db.session.commit()


def _show_branch(conversation: Conversation, message_id: str) -> None:
    tree = _tree(conversation)
    if message_id not in tree.by_id:
        raise ChatError("There is no such message in this conversation.")
    conversation.current_leaf_id = tree.newest_leaf(message_id)


def regenerate(conversation: Conversation, message_id: str | None = None, *,
               user: User | None = None, model: str | None = None,
               lease_until: datetime | None = None) -> Message:
    """A new pending reply beside ``message_id`` (default: the last reply shown), from
    ``model`` (one ``user`` may use; default: the conversation's); the reply it redoes stays
    as another version. ``lease_until``: claimed, as by :func:`send_message`."""
    if model:
        _check_model(user, model)
    tree = _tree(conversation)
    _check_idle(tree, conversation)
    path = tree.path(conversation.current_leaf_id)
    if message_id is None:
        target = path[-1] if path and path[-1].role == "assistant" else None
    else:
        target = tree.by_id.get(message_id)
    if target is None or target.role != "assistant" or tree.parent_of[target.id] is None:
        raise ChatError("There is no reply to regenerate.")
    placeholder = _placeholder(conversation, tree.parent_of[target.id], model=model,
                               lease_until=lease_until)
    _commit_sent(lease_until)
    return placeholder


def edit_message(conversation: Conversation, message_id: str, text: str, *,
                 lease_until: datetime | None = None) -> Message:
    """Send a changed version of one of the user's messages (any one, not only the last): a
    sibling of it with a new pending reply; the original and what followed it stay.
    ``lease_until``: the reply is claimed, as by :func:`send_message`."""
    text = _check_text(text)
    tree = _tree(conversation)
    _check_idle(tree, conversation)
    original = tree.by_id.get(message_id)
    if original is None or original.role != "user":
        raise ChatError("Only your own messages can be edited.")
    message = _user_message(conversation, text, parent_id=tree.parent_of[original.id])
    _attach(conversation, message, attachment_files.of_messages([original.id]).get(original.id, []))
    placeholder = _placeholder(conversation, message.id, lease_until=lease_until)
    _commit_sent(lease_until)
    return placeholder


def _user_message(conversation: Conversation, text: str, parent_id: str | None,
                  seq: int | None = None, *, add: bool = True) -> Message:
    """The user's message, every column set (``add``: to the session; else the caller
    inserts it: ``repo.insert_messages``)."""
    message = Message(id=public_id(), conversation_id=conversation.id,
                      seq=seq or repo.next_seq(conversation.id), parent_id=parent_id,
                      role="user", content=text, thinking="", status=MessageStatus.COMPLETE,
                      model=None, error=None, input_tokens=0, output_tokens=0,
                      latency_ms=None, lease_expires_at=None, created_at=datetime.now(UTC))
    if add:
        repo.add(message)
    if conversation.title == NEW_TITLE:
        conversation.title = _title_from(text)
    return message


def _placeholder(conversation: Conversation, parent_id: str, model: str | None = None, *,
                 seq: int | None = None, lease_until: datetime | None = None,
                 add: bool = True) -> Message:
    """A pending reply at the end of the branch (``streaming`` under a lease ending at
    ``lease_until``, when given: claimed by the request that will write it); ``add`` as
    :func:`_user_message` takes it."""
    now = datetime.now(UTC)
    placeholder = Message(
        id=public_id(), conversation_id=conversation.id,
        seq=seq or repo.next_seq(conversation.id), parent_id=parent_id, role="assistant",
        model=model or conversation.model, content="", thinking="",
        status=MessageStatus.STREAMING if lease_until else MessageStatus.PENDING,
        error=None, input_tokens=0, output_tokens=0, latency_ms=None,
        lease_expires_at=lease_until, created_at=now)
    if add:
        repo.add(placeholder)
    set_committed_value(placeholder, "attachments", [])  # a reply carries none
    conversation.current_leaf_id = placeholder.id
    conversation.updated_at = now
    return placeholder


def stop(conversation: Conversation, message_id: str) -> bool:
    """Ask the stream of an unfinished reply to stop; False when it has already ended."""
    stopped = repo.stop_reply(message_id) if repo.message_in(conversation.id, message_id) else False
    db.session.commit()
    return stopped


def history(conversation: Conversation, reply: Message, rows: list | None = None,
            known_files: dict[str, list] | None = None) -> list[ChatMessage]:
    """The conversation as the model sees it for ``reply``: the system prompt, then the kept
    turns of the branch that leads to it (never another branch's). ``rows``: the
    conversation's messages with their text, when already read; ``known_files``: the
    attachments of messages already known, by id (the others' are read)."""
    turns = [ChatMessage(role="system", content=conversation.system_prompt)] \
        if conversation.system_prompt else []
    tree = Tree(rows if rows is not None else repo.messages_to_show(conversation.id))
    parent_id = tree.parent_of.get(reply.id)
    if parent_id is None:
        return turns
    path = tree.path(parent_id)
    known = known_files or {}
    files = attachment_files.of_messages(
        [m.id for m in path if m.role == "user" and m.id not in known])
    files.update((message_id, found) for message_id, found in known.items() if found)
    takes = attachment_files.capabilities(reply.model or conversation.model)
    for message in path:
        if message.status == MessageStatus.ERROR or not (message.content or message.id in files):
            continue
        turns.append(attachment_files.with_parts(
            ChatMessage(role=message.role, content=message.content), files.get(message.id),
            takes))
    return turns


def reply_request(conversation: Conversation, reply: Message, rows: list | None = None,
                  known_files: dict[str, list] | None = None) -> ChatRequest:
    """What the vendor is asked for ``reply``: its branch, with the conversation's options
    (the reasoning effort only for a model that takes one); ``rows`` and ``known_files`` as
    :func:`history` takes them."""
    options = conversation.options or {}
    model = reply.model or conversation.model
    effort = options.get("reasoning_effort") if model_reasoning.control(model) else None
    return ChatRequest(model=model,
                       messages=tuple(history(conversation, reply, rows, known_files)),
                       temperature=options.get("temperature"),
                       max_tokens=options.get("max_tokens"),
                       reasoning=Reasoning(effort=effort) if effort else None)


def rename(conversation: Conversation, title: str) -> None:
    title = " ".join((title or "").split())
    if not title:
        raise ChatError("Give the conversation a title.")
    conversation.title = title[:MAX_TITLE_CHARS]
    conversation.title_renamed = True  # an automatic title never overwrites it
    db.session.commit()


def _title_from(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 60 else line[:57].rstrip() + "…"


def delete_conversation(conversation: Conversation) -> None:
    attachment_files.forget_conversation(conversation.id)  # what only it used
    repo.delete(conversation)
    db.session.commit()


def discard_changes() -> None:
    """Forget uncommitted changes of a refused request."""
    db.session.rollback()
