"""The browser audience: sign-in, settings and the chat pages (session, HTML and htmx)."""

from app.web import access, attachments, auth, chat, library, oidc, settings, stream

BLUEPRINTS = [auth.bp, oidc.bp, chat.bp, stream.bp, library.bp, settings.bp, attachments.bp]

# The send limit opts in here, after chat's own access hook (an anonymous or chat-less
# request is refused before it is counted).
chat.bp.before_request(access.limit_chat_sends)
stream.bp.before_request(access.limit_chat_sends)  # Continue counts as a send
attachments.bp.before_request(access.limit_chat_sends)  # so does an upload (Pillow's work)
