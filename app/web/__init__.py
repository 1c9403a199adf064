"""The browser audience: sign-in, settings and the chat pages (session, HTML and htmx)."""

from app.web import auth, chat, library, settings, stream

BLUEPRINTS = [auth.bp, chat.bp, stream.bp, library.bp, settings.bp]
