"""Vendor credentials (encrypted) and the model routes that point public names at them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import Role
from app.models.columns import UTCDateTime, utcnow

# The capabilities a route can be marked with (the admin Models screen, the REST API).
ROUTE_CAPABILITIES = ("embeddings", "images", "pdf", "reasoning")

model_route_roles = Table(
    "model_route_roles",
    db.metadata,
    Column("route_id", ForeignKey("model_routes.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


class VendorCredential(db.Model):
    __tablename__ = "vendor_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    base_url: Mapped[str | None] = mapped_column(String(500))
    encrypted_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The last characters of the secret, for the mask ``sk-…abcd``; never the secret itself.
    secret_hint: Mapped[str] = mapped_column(String(16), default="")
    # The kind's declared fields beyond the key and base URL (app.vendors.registry): the plain
    # ones as JSON, the secret ones as one encrypted JSON object (never shown back).
    settings: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    encrypted_settings: Mapped[bytes | None] = mapped_column(LargeBinary)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # A stand-in for a vendor configured by environment variables, so model routes can point
    # at it: no secret, not editable, the environment's credential is what calls go through.
    from_environment: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    routes: Mapped[list[ModelRoute]] = relationship(
        back_populates="credential", cascade="all, delete-orphan", passive_deletes=True
    )


class ModelRoute(db.Model):
    __tablename__ = "model_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_name: Mapped[str] = mapped_column(String(200), index=True)
    credential_id: Mapped[int] = mapped_column(
        ForeignKey("vendor_credentials.id", ondelete="CASCADE"), index=True
    )
    upstream_model: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Price in the vendor's currency (USD) per million tokens.
    input_price: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=0)
    output_price: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=0)
    # Prompt-cache reads and writes per million tokens; None charges them at input_price.
    cache_read_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    cache_write_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    # Routes that share a fallback group are tried in priority order when one fails.
    fallback_group: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # What the upstream model does besides chat (ROUTE_CAPABILITIES): "embeddings"; takes
    # "images", takes "pdf" documents (known models have these by default: services/attachments);
    # takes a "reasoning" effort or thinking budget (services/model_reasoning).
    capabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Several routes of one public name at one priority are deployments the calls are spread
    # over: by weight (``weighted``), or to the ``least_busy`` / ``lowest_latency`` one.
    weight: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    strategy: Mapped[str] = mapped_column(String(16), default="weighted",
                                          server_default="weighted")
    # The response cache (app/vendors/response_cache.py): seconds an answer is kept (None: not
    # cached), and whether every caller shares the answers (else each user has their own).
    response_cache_ttl: Mapped[int | None] = mapped_column(Integer)
    response_cache_shared: Mapped[bool] = mapped_column(Boolean, default=False,
                                                        server_default=false())
    # Probed every PARLOR_HEALTH_CHECK_INTERVAL seconds (app/vendors/health_checks.py).
    health_check: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    credential: Mapped[VendorCredential] = relationship(back_populates="routes")
    # No roles means every role may use the route.
    roles: Mapped[list[Role]] = relationship(secondary=model_route_roles)
