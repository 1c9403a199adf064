"""A stored credential's declared fields beyond its key and base URL (``VendorKind.fields``):
checked against its kind, plain ones kept as JSON, secret ones as one encrypted JSON object,
and handed to the adapter as ``Credential.options``. Secrets are never shown back: masks only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from app.models import VendorCredential
from app.services.encryption import SecretBox, mask
from app.vendors import KINDS

MAX_VALUE = 1000


class FieldError(ValueError):
    """A declared field's value breaks a rule; ``field`` names it."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def secret_values(row: VendorCredential, box: SecretBox) -> dict[str, str]:
    """The row's secret fields, decrypted."""
    if not row.encrypted_settings:
        return {}
    return json.loads(box.decrypt(row.encrypted_settings))


def options(row: VendorCredential, box: SecretBox) -> tuple[tuple[str, str], ...]:
    """The row's declared fields as the credential's options (plain and secret, by name)."""
    kind = KINDS.get(row.kind)
    declared = {f.name for f in kind.extra_fields} if kind else set()
    values = {**(row.settings or {}), **secret_values(row, box)}
    return tuple(sorted((k, v) for k, v in values.items() if k in declared and v))


def masks(row: VendorCredential, box: SecretBox) -> dict[str, str]:
    """Each secret field that is set, as its mask (``…abcd`` or ``(set)``)."""
    return {name: mask(value) or "(set)" for name, value in secret_values(row, box).items()
            if value}


def store(row: VendorCredential, kind: str, values: Mapping[str, str | None] | None,
          box: SecretBox, *, replace: bool) -> None:
    """Check ``values`` against ``kind``'s declared fields and keep them on ``row``.

    ``replace``: the values are the whole set (a new credential, or a change of kind: fields
    the kind does not declare are dropped). Otherwise the values sent change and the rest stay;
    an empty secret keeps the stored one, an empty plain value (or None) clears it. A required
    field left without a value is refused.
    """
    declared = {f.name: f for f in KINDS[kind].extra_fields}
    values = dict(values or {})
    for name in values:
        if name not in declared:
            allowed = ", ".join(declared) or "none"
            raise FieldError(f"A {KINDS[kind].label} vendor has no field {name!r} "
                             f"(its fields: {allowed}).", name)
    plain = {} if replace else {k: v for k, v in (row.settings or {}).items() if k in declared}
    secret = {} if replace else {k: v for k, v in secret_values(row, box).items()
                                 if k in declared}
    for name, value in values.items():
        if value is not None and not isinstance(value, str):
            raise FieldError(f"{declared[name].label} must be text.", name)
        value = (value or "").strip()
        if len(value) > MAX_VALUE:
            raise FieldError(f"{declared[name].label} is too long.", name)
        target = secret if declared[name].secret else plain
        if value:
            target[name] = value
        elif not declared[name].secret:
            target.pop(name, None)
    for field in declared.values():
        if field.required and not (plain.get(field.name) or secret.get(field.name)):
            raise FieldError(f"A {KINDS[kind].label} vendor needs its {field.label}.", field.name)
    row.settings = plain
    row.encrypted_settings = box.encrypt(json.dumps(secret)) if secret else None
