"""Vendor secrets at rest: MultiFernet, the first key encrypts and every key decrypts."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app


class SecretBox:
    def __init__(self, keys: list[str]):
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    def encrypt(self, secret: str) -> bytes:
        return self._fernet.encrypt(secret.encode())

    def decrypt(self, token: bytes) -> str:
        return self._fernet.decrypt(token).decode()

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt ``token`` with the newest key."""
        return self._fernet.rotate(token)


def mask(secret: str | None) -> str:
    """A recognisable but useless form of a secret, such as ``sk-…abcd``."""
    if not secret:
        return ""
    head = secret[:3] if len(secret) > 12 else ""
    return f"{head}…{secret[-4:]}"


def init_app(app: Flask) -> None:
    app.extensions["parlor.secret_box"] = SecretBox(app.config["PARLOR_ENCRYPTION_KEYS"])


def secret_box() -> SecretBox:
    return current_app.extensions["parlor.secret_box"]


__all__ = ["InvalidToken", "SecretBox", "init_app", "mask", "secret_box"]
