"""The browser audience: sign-in and the chat pages (session, HTML and htmx)."""
