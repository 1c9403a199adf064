"""Users, roles and the users' API keys to Parlor."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.columns import UTCDateTime, utcnow
from app.models.teams import Team

# Permissions a role may hold.
PERMISSIONS = ("chat", "api", "own_keys", "admin")


class Role(db.Model):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    rate_limit: Mapped[str | None] = mapped_column(String(64))
    monthly_token_budget: Mapped[int | None] = mapped_column(Integer)
    # US dollars a month (the usage ledger's cost); None: no dollar limit.
    monthly_cost_budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    # Public model names (or ``vendor/*``) the role may use; None: every model.
    allowed_models: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="role")

    def can(self, permission: str) -> bool:
        return permission in (self.permissions or [])


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"), index=True)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change or disable: every older session and remember cookie stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Tokens a month, set by an admin; overrides the role's budget. None: the role's.
    monthly_token_budget: Mapped[int | None] = mapped_column(Integer)
    # US dollars a month, set by an admin; overrides the role's. None: the role's.
    monthly_cost_budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    # The one team the user belongs to (their calls count towards its budgets); None: none.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"),
                                                index=True)

    role: Mapped[Role] = relationship(back_populates="users", lazy="joined")
    team: Mapped[Team | None] = relationship()
    api_keys: Mapped[list[ApiKey]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses disabled users
        return self.is_enabled

    @property
    def is_admin(self) -> bool:
        return self.role.can("admin")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class ApiKey(db.Model):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Overrides the owner's role limit for calls made with this key (such as "600/minute").
    rate_limit: Mapped[str | None] = mapped_column(String(64))
    # Tokens a month spent through this key, on top of the owner's budget. None: no cap.
    monthly_token_budget: Mapped[int | None] = mapped_column(Integer)
    # US dollars a month spent through this key, on top of the owner's. None: no cap.
    monthly_cost_budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    # A team's service key: its calls count towards the team (not the owner's team).
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"),
                                                index=True)
    # Seconds this key's answers are kept in the response cache on routes that keep none
    # themselves (None: only the routes decide).
    response_cache_ttl: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="api_keys")
    team: Mapped[Team | None] = relationship()
