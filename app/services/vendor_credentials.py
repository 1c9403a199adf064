"""Vendor credentials kept in the database: encrypted keys, checked base URLs, masked views.

Credentials from the environment are listed beside them, read-only. After every change the
vendor catalog is invalidated so the next request routes with it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import current_app

from app.extensions import db
from app.models import VendorCredential
from app.repositories import vendors as repo
from app.services import audit, vendor_fields
from app.services.actor import Actor
from app.services.encryption import mask, secret_box
from app.services.vendors import environment_credentials, invalidate_catalog
from app.vendors import HANDLERS, KINDS, STORABLE_KINDS, Credential

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Cloud metadata services: instance credentials live behind these addresses.
METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"),
                      ipaddress.ip_address("fd00:ec2::254")}
LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


class CredentialError(ValueError):
    """A credential change that breaks a rule; ``field`` names the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class VendorView:
    """What the admin screens may show of a credential: never the key, only its mask."""

    name: str
    kind: str
    base_url: str | None
    key_mask: str
    enabled: bool
    read_only: bool
    id: int | None = None
    updated_at: datetime | None = None
    # The kind's other declared fields: plain values as they are, secret ones as masks.
    settings: dict = field(default_factory=dict)
    secret_masks: dict = field(default_factory=dict)


def listing() -> list[VendorView]:
    """Environment vendors (read-only) first, then the stored ones."""
    env = environment_credentials(current_app.config)
    views = [VendorView(name=c.name, kind=c.kind, base_url=c.base_url, key_mask=mask(c.api_key),
                        enabled=True, read_only=True) for c in env.values()]
    box = secret_box()
    views += [VendorView(name=row.name, kind=row.kind, base_url=row.base_url,
                         key_mask=_stored_mask(row), enabled=row.enabled,
                         read_only=False, id=row.id, updated_at=row.updated_at,
                         settings=dict(row.settings or {}),
                         secret_masks=vendor_fields.masks(row, box))
              for row in repo.all_credentials() if not row.from_environment]
    return views


def ensure_environment_credentials() -> list[str]:
    """Give each environment vendor without one a stand-in row (no key: that stays in the
    environment), so model routes can reference it; the names added. Run by ``flask
    bootstrap``, which ``make run`` runs at every start (the environment changes only then)."""
    known = {row.name for row in repo.all_credentials()}
    added = [credential for credential in environment_credentials(current_app.config).values()
             if credential.name not in known]
    for credential in added:
        repo.add(VendorCredential(name=credential.name, kind=credential.kind,
                                  base_url=credential.base_url, from_environment=True))
    if added:
        db.session.commit()
    return [credential.name for credential in added]


def route_targets() -> list[VendorCredential]:
    """Every vendor a model route may point at: the stored ones and the environment vendors'
    stand-ins (see :func:`ensure_environment_credentials`)."""
    return repo.all_credentials()


def find(credential_id: int) -> VendorCredential | None:
    """The stored vendor with this id, or None."""
    return repo.credential_by_id(credential_id)


def find_named(name: str) -> VendorCredential | None:
    """The stored vendor (or environment stand-in) named ``name``, or None."""
    return repo.credential_by_name(name)


def _editable(row: VendorCredential) -> None:
    if row.from_environment:
        raise CredentialError(f"{row.name!r} is configured from the environment; change it "
                              "there.")


def check_base_url(url: str | None) -> str | None:
    """The cleaned base URL, or CredentialError: http(s) only, never a cloud-metadata or
    link-local address (also reached through a name that resolves to one)."""
    url = (url or "").strip()
    if not url:
        return None
    if len(url) > 500:
        raise CredentialError("The base URL is too long.", "base_url")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise CredentialError("The base URL must start with http:// or https://.", "base_url")
    if not parts.hostname or parts.username or parts.password:
        raise CredentialError("The base URL needs a host name, without user or password.",
                              "base_url")
    try:
        port = parts.port
        infos = socket.getaddrinfo(parts.hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (ValueError, OSError):
        raise CredentialError(f"The host {parts.hostname} does not resolve.", "base_url") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address in METADATA_ADDRESSES or any(address in net for net in LINK_LOCAL):
            raise CredentialError("That address is a cloud-metadata or link-local address; "
                                  "Parlor will not call it.", "base_url")
    return url.rstrip("/")


def add(actor: Actor, *, name: str, kind: str, base_url: str | None, api_key: str | None,
        enabled: bool = True, settings: Mapping[str, str | None] | None = None
        ) -> VendorCredential:
    """A new stored vendor; ``settings``: its kind's declared fields beyond the key and base
    URL (region, API version...), checked against the kind, secret ones encrypted."""
    name = _check_name(name)
    if repo.credential_by_name(name):
        raise CredentialError(f"A vendor named {name!r} already exists.", "name")
    kind = _check_kind(kind, base_url, api_key)
    row = VendorCredential(name=name, kind=kind, base_url=check_base_url(base_url),
                           enabled=enabled)
    _store_key(row, api_key)
    _store_settings(row, kind, settings, replace=True)
    _check_one_of(row, kind)
    repo.add(row)
    _record(actor, "vendor.created", row, kind=kind, base_url=row.base_url,
            settings=dict(row.settings))
    return _commit(row)


def update(actor: Actor, row: VendorCredential, *, name: str, kind: str,
           base_url: str | None, enabled: bool,
           settings: Mapping[str, str | None] | None = None) -> VendorCredential:
    """Change the vendor; ``settings`` changes the declared fields sent (an empty secret keeps
    the stored one); a change of kind drops the fields the new kind does not declare."""
    _editable(row)
    name = _check_name(name)
    other = repo.credential_by_name(name)
    if other is not None and other.id != row.id:
        raise CredentialError(f"A vendor named {name!r} already exists.", "name")
    takes_key = KINDS[kind].field("api_key") is not None if kind in KINDS else True
    kind = _check_kind(kind, base_url, "stored" if row.encrypted_secret and takes_key else None)
    if not takes_key:  # a kind without a key (AWS's signs with its own pair): none is kept
        row.encrypted_secret, row.secret_hint = None, ""
    before = {"name": row.name, "kind": row.kind, "base_url": row.base_url,
              "enabled": row.enabled, "settings": dict(row.settings or {})}
    _store_settings(row, kind, settings, replace=kind != row.kind)
    try:
        _check_one_of(row, kind)
    except CredentialError:
        db.session.rollback()  # the row's settings were changed above
        raise
    row.name, row.kind, row.base_url, row.enabled = name, kind, check_base_url(base_url), enabled
    after = {"name": row.name, "kind": row.kind, "base_url": row.base_url, "enabled": row.enabled,
             "settings": dict(row.settings)}
    changes = {k: {"before": before[k], "after": after[k]} for k in after if before[k] != after[k]}
    _record(actor, "vendor.updated", row, changes=changes)
    return _commit(row)


def rotate_key(actor: Actor, row: VendorCredential, api_key: str) -> VendorCredential:
    """Replace the stored key; the audit trail keeps only the new mask."""
    _editable(row)
    if not (api_key or "").strip():
        raise CredentialError("Enter the new API key.", "api_key")
    _store_key(row, api_key)
    _record(actor, "vendor.key_rotated", row, key=_stored_mask(row))
    return _commit(row)


def set_enabled(actor: Actor, row: VendorCredential, enabled: bool) -> VendorCredential:
    _editable(row)
    row.enabled = enabled
    _record(actor, "vendor.enabled" if enabled else "vendor.disabled", row)
    return _commit(row)


def delete(actor: Actor, row: VendorCredential) -> None:
    """Delete the credential and its model routes."""
    _editable(row)
    _record(actor, "vendor.deleted", row)
    repo.delete(row)
    db.session.commit()
    invalidate_catalog()


def list_models(name: str) -> list[str]:
    """Ask the vendor for its model list now (Test connection); raises VendorError."""
    credential = credential_for(name)
    handler = HANDLERS[credential.kind](credential)
    try:
        return handler.models()
    finally:
        handler.close()


def credential_for(name: str) -> Credential:
    """The decrypted credential named ``name`` (environment first), for a handler."""
    config = current_app.config
    env = environment_credentials(config)
    if name in env:
        return env[name]
    row = repo.credential_by_name(name)
    if row is None:
        raise CredentialError(f"There is no vendor named {name!r}.")
    check_base_url(row.base_url)  # again now: a name may resolve elsewhere than when saved
    box = secret_box()
    return Credential(
        name=row.name, kind=row.kind, base_url=row.base_url,
        api_key=box.decrypt(row.encrypted_secret) if row.encrypted_secret else None,
        options=vendor_fields.options(row, box),
        timeout=min(config["PARLOR_VENDOR_TIMEOUT"], 30.0),
        connect_timeout=config["PARLOR_VENDOR_CONNECT_TIMEOUT"],
    )


def reencrypt_all() -> int:
    """Re-encrypt every stored secret with the newest key; returns how many."""
    box = secret_box()
    rows = repo.credentials_with_secret()
    for row in rows:
        row.encrypted_secret = box.rotate(row.encrypted_secret)
    for row in repo.all_credentials():
        if row.encrypted_settings:
            row.encrypted_settings = box.rotate(row.encrypted_settings)
    db.session.commit()
    return len(rows)


def _check_name(name: str) -> str:
    name = (name or "").strip().lower()
    if not NAME.match(name):
        raise CredentialError("Use 1-64 lower-case letters, digits, '-' or '_'.", "name")
    if name in environment_credentials(current_app.config):
        raise CredentialError(f"{name!r} is configured from the environment.", "name")
    return name


def _check_kind(kind: str, base_url: str | None, api_key: str | None) -> str:
    """The kind, if a stored credential may be of it and has the fields it needs."""
    if kind not in STORABLE_KINDS:
        raise CredentialError(f"Choose one of: {', '.join(STORABLE_KINDS)}.", "kind")
    declared = KINDS[kind]
    if declared.needs_base_url and not (base_url or "").strip():
        raise CredentialError(f"An {declared.label} vendor needs its base URL.", "base_url")
    if declared.needs_api_key and not (api_key or "").strip():
        raise CredentialError("This vendor needs an API key.", "api_key")
    if declared.field("api_key") is None and (api_key or "").strip():
        raise CredentialError(f"A vendor of the kind {declared.label} takes no API key.",
                              "api_key")
    return kind


def _check_one_of(row: VendorCredential, kind: str) -> None:
    """A kind with several ways to authenticate (``VendorKind.one_of``) needs one complete."""
    declared = KINDS[kind]
    if not declared.one_of:
        return
    present = {"api_key"} if row.encrypted_secret else set()
    present |= {name for name, value in (row.settings or {}).items() if value}
    present |= set(vendor_fields.masks(row, secret_box()))
    if not any(set(group) <= present for group in declared.one_of):
        ways = " or ".join(", ".join(declared.field(n).label for n in group)
                           for group in declared.one_of)
        raise CredentialError(f"An {declared.label} vendor needs: {ways}.",
                              declared.one_of[0][0])


def _store_settings(row: VendorCredential, kind: str,
                    values: Mapping[str, str | None] | None, *, replace: bool) -> None:
    try:
        vendor_fields.store(row, kind, values, secret_box(), replace=replace)
    except vendor_fields.FieldError as exc:
        raise CredentialError(str(exc), exc.field) from None
    for declared in KINDS[kind].extra_fields:  # an address Parlor calls: checked as base URL
        if declared.input_type == "url" and (row.settings or {}).get(declared.name):
            try:
                row.settings = {**row.settings,
                                declared.name: check_base_url(row.settings[declared.name])}
            except CredentialError as exc:
                raise CredentialError(f"{declared.label}: {exc}", declared.name) from None


def _store_key(row: VendorCredential, api_key: str | None) -> None:
    api_key = (api_key or "").strip()
    if len(api_key) > 1000:
        raise CredentialError("That API key is too long.", "api_key")
    row.encrypted_secret = secret_box().encrypt(api_key) if api_key else None
    # Only a prefix-free tail: the mask shows it, so it must be harmless on its own.
    row.secret_hint = api_key[-4:] if len(api_key) > 12 else ""
    row.updated_at = datetime.now(UTC)


def _stored_mask(row: VendorCredential) -> str:
    if not row.encrypted_secret:
        return ""
    return f"…{row.secret_hint}" if row.secret_hint else "(set)"


def _commit(row: VendorCredential) -> VendorCredential:
    row.updated_at = datetime.now(UTC)
    db.session.commit()
    invalidate_catalog()
    return row


def _record(actor: Actor, action: str, row: VendorCredential, **detail) -> None:
    audit.record(action, actor_id=actor.user_id, ip=actor.ip, target=f"vendor:{row.name}",
                 **detail)
