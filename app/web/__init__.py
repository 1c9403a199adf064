"""The browser audience: sign-in, settings and the chat pages (session, HTML and htmx)."""

from app.web import access, auth, chat, library, settings, stream

BLUEPRINTS = [auth.bp, chat.bp, stream.bp, library.bp, settings.bp]

# The send limit opts in here, after chat's own access hook (an anonymous or chat-less
# request is refused before it is counted).
chat.bp.before_request(access.limit_chat_sends)
