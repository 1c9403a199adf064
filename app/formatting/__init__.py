"""Response formatter, in two parts that share nothing.

- :mod:`app.formatting.markdown`: the browser's. Markdown to safe HTML for the chat page
  (``to_html``, the templates' ``markdown`` filter in app/web/chat.py).
- :mod:`app.formatting.wire`: the API's. Normalised results, stream deltas and model lists as
  OpenAI Chat Completions and Anthropic Messages JSON and server-sent events (app/api).

Both sit at the base of the import order: they import nothing of Parlor's.
"""
