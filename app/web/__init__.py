"""The browser audience: sign-in and the chat pages (session, HTML and htmx)."""

from app.web import auth, chat

BLUEPRINTS = [auth.bp, chat.bp]
