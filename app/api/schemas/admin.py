"""The admin resources' (``/api/v1/admin``) request and response schemas.

Requests are strict like every native REST body (unknown fields: 400). Responses name every
field they expose, so a key hash, a password hash or an encrypted vendor secret cannot leak:
a vendor key only ever appears as its mask (``…abcd``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from app.api.schemas.rest import PERMISSION, Day, KeyOut, Out, Query, RequestBody, UsageLine
from app.vendors import KINDS, STORABLE_KINDS

Email = Annotated[str, Field(min_length=3, max_length=255)]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
DisplayName = Annotated[str, Field(max_length=120)]
RoleName = Annotated[str, Field(min_length=1, max_length=64)]
VendorName = Annotated[str, Field(min_length=1, max_length=64)]
# JSON numbers (or numeric strings) for prices: strict mode would accept Decimal objects only.
Price = Annotated[Decimal, Field(strict=False, ge=0, description="USD per million tokens")]
CachePrice = Annotated[Decimal | None, Field(
    strict=False, ge=0, description="USD per million prompt-cache read (or write) tokens, "
                                    "charged instead of the input price; null: the input price")]
GROUP = Literal["day", "user", "key", "model", "source", "tag", "team"]
# Tokens a month, 0 to app.services.roles.MAX_BUDGET (what the database column holds).
TokenBudget = Annotated[int, Field(ge=0, le=2**31 - 1)]
# Seconds answers are kept in the response cache (app/vendors/response_cache.py).
CacheTTL = Annotated[int | None, Field(
    ge=1, le=7 * 24 * 3600,
    description="Keep answers in the response cache this many seconds (an identical request "
                "is then answered from it, `x-parlor-cache: hit`); null: do not cache")]
# US dollars a month, to the cent or finer (what Numeric(12, 4) holds).
CostBudget = Annotated[Decimal, Field(strict=False, ge=0, lt=10**8, decimal_places=4,
                                      description="US dollars a month")]


class PageQuery(Query):
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 25


# Users


class UserQuery(PageQuery):
    q: Annotated[str, Field(max_length=255)] = Field(
        "", description="A part of the e-mail or display name")


class AdminUserCreate(RequestBody):
    email: Email
    password: Password
    role: RoleName = "member"
    display_name: DisplayName = ""


class AdminUserUpdate(RequestBody):
    """Only the fields sent change; ``null`` gives the user their role's budget again."""

    display_name: DisplayName | None = None
    role: RoleName | None = None
    enabled: bool | None = Field(None, description="false ends their sessions and stops "
                                                   "their API keys")
    monthly_token_budget: TokenBudget | None = Field(
        None, description="Tokens a month, overriding the role's budget; null: the role's")
    monthly_cost_budget: CostBudget | None = Field(
        None, description="US dollars a month, overriding the role's; null: the role's")


class PasswordReset(RequestBody):
    password: Password
    revoke_keys: bool = Field(False, description="Also revoke every API key of the user")


class AdminUserOut(Out):
    id: int
    email: str
    display_name: str
    role: str
    enabled: bool
    created_at: datetime
    last_login_at: datetime | None
    monthly_token_budget: int | None = Field(
        None, description="The user's own budget, overriding the role's; null: the role's")
    monthly_cost_budget: float | None = Field(
        None, description="The user's own dollar budget, overriding the role's; null: the "
                          "role's")
    team_id: int | None = Field(None, description="The user's team; null: none")


# Roles


class RoleCreate(RequestBody):
    name: RoleName
    description: Annotated[str, Field(max_length=255)] = ""
    permissions: list[PERMISSION] = Field(default_factory=lambda: ["chat", "api", "own_keys"])
    allowed_models: list[str] | None = Field(
        None, description="Public model names or vendor/*; null: every model")
    rate_limit: Annotated[str, Field(max_length=64)] | None = Field(
        None, description="Like 60/minute or 1000 per day; null: the default")
    monthly_token_budget: Annotated[int, Field(ge=0)] | None = None
    monthly_cost_budget: CostBudget | None = None


class RoleUpdate(RequestBody):
    """Only the fields sent change; ``null`` clears allowed_models, rate_limit and budget."""

    name: RoleName | None = None
    description: Annotated[str, Field(max_length=255)] | None = None
    permissions: list[PERMISSION] | None = None
    allowed_models: list[str] | None = None
    rate_limit: Annotated[str, Field(max_length=64)] | None = None
    monthly_token_budget: Annotated[int, Field(ge=0)] | None = None
    monthly_cost_budget: CostBudget | None = None


class RoleOut(Out):
    id: int
    name: str
    description: str
    builtin: bool
    permissions: list[str]
    allowed_models: list[str] | None
    rate_limit: str | None
    monthly_token_budget: int | None
    monthly_cost_budget: float | None = None
    users: int
    created_at: datetime


# Teams


class TeamCreate(RequestBody):
    name: RoleName
    description: Annotated[str, Field(max_length=255)] = ""
    allowed_models: list[str] | None = Field(
        None, description="Public model names or vendor/* the team may use, on top of each "
                          "member's role; null: any the role allows")
    rate_limit: Annotated[str, Field(max_length=64)] | None = None
    monthly_token_budget: TokenBudget | None = Field(
        None, description="Tokens a month for the whole team; null: no limit")
    monthly_cost_budget: CostBudget | None = Field(
        None, description="US dollars a month for the whole team; null: no limit")


class TeamUpdate(RequestBody):
    """Only the fields sent change; ``null`` clears allowed_models, rate_limit and budgets."""

    name: RoleName | None = None
    description: Annotated[str, Field(max_length=255)] | None = None
    allowed_models: list[str] | None = None
    rate_limit: Annotated[str, Field(max_length=64)] | None = None
    monthly_token_budget: TokenBudget | None = None
    monthly_cost_budget: CostBudget | None = None


class TeamOut(Out):
    id: int
    name: str
    description: str
    allowed_models: list[str] | None
    rate_limit: str | None
    monthly_token_budget: int | None
    monthly_cost_budget: float | None
    members: int
    created_at: datetime


class TeamMemberAdd(RequestBody):
    user_id: int = Field(description="The user to put in the team (leaving any other)")


# Keys


class KeyQuery(PageQuery):
    owner: Annotated[str, Field(max_length=255)] = Field(
        "", description="A part of the owner's e-mail")


class AdminKeyCreate(RequestBody):
    user_id: int
    name: Annotated[str, Field(max_length=120)] = ""
    scopes: list[Annotated[str, Field(max_length=32)]] = Field(
        default_factory=list, description="Permission names the key is limited to (empty: all "
                                          "of the owner's role)")
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    rate_limit: Annotated[str, Field(max_length=64)] | None = Field(
        None, description="Overrides the role's limit for this key, such as 600/minute")
    monthly_token_budget: TokenBudget | None = Field(
        None, description="Caps the tokens spent through this key a month, on top of the "
                          "owner's budget; null: no cap of its own")


class AdminKeyUpdate(RequestBody):
    """Only the fields sent change."""

    monthly_token_budget: TokenBudget | None = Field(
        None, description="Tokens a month through this key; null: no cap of its own")
    monthly_cost_budget: CostBudget | None = Field(
        None, description="US dollars a month through this key; null: no cap of its own")
    team_id: int | None = Field(
        None, description="Make it a service key of this team (its calls count towards the "
                          "team, not the owner's); null: the owner's team again")
    response_cache_ttl: CacheTTL = Field(
        None, ge=1, le=7 * 24 * 3600,
        description="Keep the answers to this key's calls this many seconds in the response "
                    "cache, on routes that keep none themselves (each user's own answers); "
                    "null: as the routes say")


class AdminKeyOut(KeyOut):
    user_id: int
    owner: str = Field(description="The owner's e-mail")
    rate_limit: str | None = None
    monthly_token_budget: int | None = None
    monthly_cost_budget: float | None = None
    team_id: int | None = None
    response_cache_ttl: int | None = None


class AdminKeyCreated(AdminKeyOut):
    secret: str = Field(description="The full key: shown this once, never again")


# Vendors


def _settings_help() -> str:
    kinds = [KINDS[name] for name in STORABLE_KINDS if KINDS[name].extra_fields]
    return "The kind's declared fields beyond the key and base URL, by name: " + "; ".join(
        f"{kind.name}: " + ", ".join(
            f"{f.name}{' (secret)' if f.secret else ''}{' (required)' if f.required else ''}"
            for f in kind.extra_fields) for kind in kinds)


SETTINGS_HELP = _settings_help()
VendorSettings = dict[Annotated[str, Field(max_length=64)],
                      Annotated[str, Field(max_length=1000)] | None]


class VendorCreate(RequestBody):
    name: VendorName
    kind: Literal[STORABLE_KINDS]  # type: ignore[valid-type]  # the registry's kinds
    base_url: Annotated[str, Field(max_length=500)] | None = None
    api_key: Annotated[str, Field(max_length=1000)] | None = None
    enabled: bool = True
    settings: VendorSettings = Field(
        default_factory=dict, description=SETTINGS_HELP)


class VendorUpdate(RequestBody):
    name: VendorName | None = None
    base_url: Annotated[str, Field(max_length=500)] | None = None
    enabled: bool | None = None
    api_key: Annotated[str, Field(min_length=1, max_length=1000)] | None = Field(
        None, description="A new key replaces the stored one")
    settings: VendorSettings | None = Field(
        None, description="Only the fields sent change; an empty secret keeps the stored one, "
                          "an empty (or null) plain value clears it. " + SETTINGS_HELP)


class VendorOut(Out):
    id: int | None = Field(description="null for a vendor configured from the environment")
    name: str
    kind: str
    base_url: str | None
    key_mask: str = Field(description="Like …abcd; the key itself is never shown")
    enabled: bool
    read_only: bool = Field(description="true: configured from the environment")
    updated_at: datetime | None
    settings: dict[str, str] = Field(description="The kind's other declared fields (secret "
                                                 "ones are not here: see secret_masks)")
    secret_masks: dict[str, str] = Field(description="Each secret field that is set, masked")


class VendorModels(Out):
    name: str
    models: list[str]


# Model routes

RouteCapability = Literal["embeddings", "images", "pdf", "reasoning"]  # ROUTE_CAPABILITIES


Weight = Annotated[int, Field(ge=1, le=1000, description="Share of the name's calls among "
                                  "its deployments of the same priority (`weighted`)")]
Strategy = Annotated[Literal["weighted", "least_busy", "lowest_latency"], Field(
    description="How the name's deployments of one priority are ordered: weighted random, "
                "fewest calls in flight, or lowest moving-average time to first token")]


CacheShared = Annotated[bool, Field(
    description="Share cached answers across users (false: each user's own)")]
HealthCheck = Annotated[bool, Field(
    description="Probe the deployment with a one-token call every "
                "PARLOR_HEALTH_CHECK_INTERVAL seconds; a failed check counts toward its cooldown")]


class RouteHealthOut(Out):
    state: Literal["healthy", "cooling", "half-open"] = Field(
        description="cooling: taken out of rotation after repeated transient errors; "
                    "half-open: the next call is a probe")
    cooldown_seconds_left: float
    last_error: str | None = Field(description="The error kind that cooled it down")
    in_flight: int
    last_check: str | None = Field(
        default=None, description="The last active health check's result (ok or the error "
        "kind); null: never checked (PARLOR_HEALTH_CHECK_INTERVAL is 0)")
    last_check_seconds_ago: float | None = None


class RouteCreate(RequestBody):
    public_name: Annotated[str, Field(min_length=1, max_length=200)]
    vendor: VendorName = Field(description="The name of a stored vendor")
    upstream_model: Annotated[str, Field(min_length=1, max_length=200)]
    enabled: bool = True
    role_ids: list[int] = Field(default_factory=list, description="Empty: every role")
    input_price: Price = Decimal(0)
    output_price: Price = Decimal(0)
    cache_read_price: CachePrice = None
    cache_write_price: CachePrice = None
    fallback_group: Annotated[str, Field(max_length=64)] | None = None
    priority: Annotated[int, Field(ge=-1000, le=1000)] = 0
    capabilities: list[RouteCapability] = Field(
        default_factory=list, description="`embeddings` marks an embedding model; "
                                           "`reasoning` one that takes a reasoning effort "
                                           "or thinking budget")
    weight: Weight = 1
    strategy: Strategy = "weighted"
    response_cache_ttl: CacheTTL = None
    response_cache_shared: CacheShared = False
    health_check: HealthCheck = False


class RouteUpdate(RequestBody):
    """Only the fields sent change."""

    public_name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    vendor: VendorName | None = None
    upstream_model: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    enabled: bool | None = None
    role_ids: list[int] | None = None
    input_price: Price | None = None
    output_price: Price | None = None
    cache_read_price: CachePrice = None
    cache_write_price: CachePrice = None
    fallback_group: Annotated[str, Field(max_length=64)] | None = None
    priority: Annotated[int, Field(ge=-1000, le=1000)] | None = None
    capabilities: list[RouteCapability] | None = None
    weight: Weight | None = None
    strategy: Strategy | None = None
    response_cache_ttl: CacheTTL = None
    response_cache_shared: CacheShared | None = None
    health_check: HealthCheck | None = None


class RouteImport(RequestBody):
    vendor: VendorName = Field(description="The name of a stored vendor")


class RouteOut(Out):
    id: int
    public_name: str
    vendor: str
    upstream_model: str
    enabled: bool
    role_ids: list[int]
    roles: list[str]
    input_price: float
    output_price: float
    cache_read_price: float | None = Field(
        description="USD per million prompt-cache read tokens; null: the input price")
    cache_write_price: float | None = Field(
        description="USD per million prompt-cache write tokens; null: the input price")
    fallback_group: str | None
    priority: int
    capabilities: list[str]
    weight: int
    strategy: str
    response_cache_ttl: int | None = Field(
        description="Seconds answers are kept in the response cache; null: not cached")
    response_cache_shared: bool = Field(
        description="true: every caller shares the cached answers; false: each user's own")
    health_check: HealthCheck
    health: RouteHealthOut = Field(description="The deployment's state as this instance sees "
                                              "it (shared by every instance with Redis)")
    created_at: datetime


class RouteImported(Out):
    vendor: str
    added: int


# Usage and audit


class AdminUsageQuery(Query):
    start: Day | None = Field(None, description="First day, included (default: 30 days ago)")
    end: Day | None = Field(None, description="Last day, included (default: today)")
    source: Literal["web", "api"] | None = None
    group: GROUP = Field("day", description="The breakdown: per day, user, key, model, "
                                            "source, tag (x-parlor-tags; a call with two "
                                            "tags counts under each) or team")
    tag: Annotated[str, Field(max_length=64)] | None = Field(
        None, description="Only the calls carrying this tag")


class AdminUsageOut(Out):
    start: str
    end: str
    source: str | None
    group: str
    tag: str | None = None
    totals: UsageLine
    lines: list[UsageLine]


class AuditQuery(PageQuery):
    action: Annotated[str, Field(max_length=64)] = Field(
        "", description="An action or its prefix (user. finds every user event)")
    actor: Annotated[str, Field(max_length=255)] = Field(
        "", description="A part of the actor's e-mail")
    start: Day | None = Field(None, description="First day, included")
    end: Day | None = Field(None, description="Last day, included")


class AuditOut(Out):
    id: int
    action: str
    actor_id: int | None
    actor: str | None = Field(description="The actor's e-mail; null for the system")
    target: str
    ip: str | None
    detail: dict[str, Any]
    created_at: datetime
