"""What the deploy tests do to a running Parlor, as a user and an API client would."""

from __future__ import annotations

import re

import openai
import requests

from tests.conftest import csrf_token

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "deploy-admin-password-1"
MODEL = "openai/fake-chat"


def _over_plain_http(session: requests.Session) -> None:
    # Production cookies are Secure (__Host-parlor): a TLS proxy would sit in front. The tests
    # talk plain HTTP on loopback, so the client is told to send them back anyway.
    for cookie in session.cookies:
        cookie.secure = False


def log_in(base_url: str, email: str = ADMIN_EMAIL,
           password: str = ADMIN_PASSWORD) -> requests.Session:
    """A browser-like session signed in through the login form; asserts the chat page shows."""
    session = requests.Session()
    session.headers["Referer"] = base_url + "/login"
    token = csrf_token(session.get(base_url + "/login", timeout=10).text)
    _over_plain_http(session)
    response = session.post(base_url + "/login", allow_redirects=False, timeout=10,
                            data={"csrf_token": token, "email": email, "password": password})
    assert response.status_code == 302, response.text[:500]
    _over_plain_http(session)
    page = session.get(base_url + "/", timeout=10)
    assert page.status_code == 200 and "New chat" in page.text, page.text[:500]
    return session


def key_from_output(output: str) -> str:
    """The API key ``flask keys create`` prints on its last line."""
    match = re.search(r"\bpk-[0-9a-f]{8}-\S+", output.strip().splitlines()[-1])
    assert match, output[-1000:]
    return match.group(0)


def streamed_reply(base_url: str, key: str, text: str) -> str:
    """A streamed chat completion through Parlor with the real OpenAI SDK; the text."""
    client = openai.OpenAI(base_url=base_url + "/v1", api_key=key, max_retries=0, timeout=30)
    stream = client.chat.completions.create(
        model=MODEL, stream=True, messages=[{"role": "user", "content": text}])
    pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    assert len(pieces) > 1, pieces  # streamed in several chunks, not one body
    return "".join(pieces)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def new_conversation(base_url: str, key: str, text: str) -> int:
    """A conversation with one exchange, through the REST API; its id."""
    created = requests.post(base_url + "/api/v1/conversations", headers=bearer(key), timeout=10,
                            json={"model": MODEL, "title": "Kept across restarts"})
    assert created.status_code == 201, created.text
    conversation = created.json()["data"]["id"]
    sent = requests.post(f"{base_url}/api/v1/conversations/{conversation}/messages",
                         headers=bearer(key), timeout=30,
                         json={"content": text, "stream": False})
    assert sent.status_code in (200, 201), sent.text
    return conversation


def conversation_texts(base_url: str, key: str, conversation: int) -> list[str]:
    response = requests.get(f"{base_url}/api/v1/conversations/{conversation}",
                            headers=bearer(key), timeout=10)
    assert response.status_code == 200, response.text
    return [message["content"] for message in response.json()["data"]["messages"]]
