"""The native REST API's (``/api/v1``) request and response schemas.

Requests are strict: exact JSON types, unknown fields refused with a 400 that names them (so
``{"role": "admin"}`` on ``PATCH /me`` is an error, not a silent no-op). Responses list every
field they expose: a model attribute not named here (a key hash, a password hash) cannot leak.
The OpenAPI document is generated from these very classes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

T = TypeVar("T")

PERMISSION = Literal["chat", "api", "own_keys", "admin"]
ORDER_BY = Literal["updated_at", "-updated_at", "created_at", "-created_at", "title", "-title"]
Title = Annotated[str, Field(min_length=1, max_length=200)]
ModelName = Annotated[str, Field(min_length=1, max_length=200)]
SystemPrompt = Annotated[str, Field(max_length=20_000)]
Day = Annotated[str, Field(pattern=r"^[12]\d{3}-\d{2}-\d{2}$", description="YYYY-MM-DD (UTC)")]


class RequestBody(BaseModel):
    """A JSON request body: exact types, no unknown fields."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Query(BaseModel):
    """Query parameters: text coerced to the declared type; unknown parameters tolerated."""

    model_config = ConfigDict(extra="ignore")


# Requests


class MeUpdate(RequestBody):
    display_name: Annotated[str, Field(min_length=1, max_length=120)] | None = None


class ConversationOptions(RequestBody):
    """Reply options kept with a conversation and used for every reply; null or absent: the
    model route's own default."""

    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    max_tokens: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    reasoning_effort: Literal["minimal", "low", "medium", "high", "xhigh"] | None = Field(
        None, description="Sent only to models that take it (kept for the others): an "
                          "effort for OpenAI-type reasoning models, a thinking budget for "
                          "Anthropic-type ones (1,024 / 2,048 / 8,192 / 16,384 / 32,000 "
                          "tokens)")


class ConversationCreate(RequestBody):
    model: ModelName
    title: Title | None = None
    system_prompt: SystemPrompt | None = None
    options: ConversationOptions | None = None


class ConversationUpdate(RequestBody):
    title: Title | None = None
    model: ModelName | None = None
    system_prompt: SystemPrompt | None = None
    options: ConversationOptions | None = Field(
        None, description="Replaces the options as a whole (an absent field: the default)")
    current_leaf_id: Annotated[str, Field(min_length=1, max_length=32)] | None = Field(
        None, description="Show another branch: the id of any message of the conversation; "
                          "the branch down to the newest message under it becomes current")


class MessageCreate(RequestBody):
    content: Annotated[str, Field(max_length=100_000)] = Field(
        "", description="The text; may be empty when attachments are sent")
    attachments: Annotated[list[Annotated[str, Field(min_length=1, max_length=32)]],
                           Field(max_length=10)] = Field(
        default_factory=list, description="Ids of your uploads (POST /api/v1/attachments)")
    stream: bool = Field(False, description="true: answer as Server-Sent Events")

    @model_validator(mode="after")
    def text_or_files(self) -> MessageCreate:
        if not self.content.strip() and not self.attachments:
            raise ValueError("content: type a message or attach a file")
        return self


class MessageEdit(RequestBody):
    content: Annotated[str, Field(min_length=1, max_length=100_000)] = Field(
        description="The new text (the original message's attachments are kept)")
    stream: bool = Field(False, description="true: answer as Server-Sent Events")


class Regenerate(RequestBody):
    model: ModelName | None = Field(
        None, description="The model to write the new version (default: the conversation's)")
    stream: bool = Field(False, description="true: answer as Server-Sent Events")


class KeyCreate(RequestBody):
    name: Annotated[str, Field(max_length=120)] = ""
    scopes: list[PERMISSION] = Field(
        default_factory=list,
        description="Permissions the key is limited to (empty: all of the role's); each must "
                    "be held by your role, else 403.")
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = None


class ConversationQuery(Query):
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 20
    q: Annotated[str, Field(max_length=200)] | None = Field(
        None, description="Search titles and message text (newest first; order_by is ignored)")
    order_by: ORDER_BY = "-updated_at"


class UsageQuery(Query):
    start: Day | None = Field(None, description="First day, included (default: 30 days ago)")
    end: Day | None = Field(None, description="Last day, included (default: today)")
    source: Literal["web", "api"] | None = None
    tag: str | None = Field(None, max_length=64,
                            description="Only the calls carrying this spend tag")


# Responses


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class MonthlyBudget(Out):
    tokens: int | None = Field(description="Tokens a month; null: no limit")
    source: Literal["user", "role", "key", "team"] | None = Field(
        description="Where the budget comes from: set on you, your role's, or the key's own")
    used: int = Field(description="Tokens spent this month (UTC)")
    remaining: int | None
    renews: datetime = Field(description="The first of next month (UTC)")


class MonthlyCostBudget(Out):
    usd: float | None = Field(description="US dollars a month; null: no dollar limit")
    source: Literal["user", "role", "key", "team"] | None = Field(
        description="Where the budget comes from: set on you, your role's, or the key's own")
    used: float = Field(description="What your calls cost this month (UTC), in US dollars")
    remaining: float | None
    renews: datetime = Field(description="The first of next month (UTC)")


class TeamBudget(Out):
    name: str = Field(description="The team the calls count towards")
    budget: MonthlyBudget = Field(description="The team's monthly token budget")
    cost_budget: MonthlyCostBudget = Field(description="The team's monthly dollar budget")


class UserOut(Out):
    id: int
    email: str
    display_name: str
    role: str
    permissions: list[str]
    created_at: datetime
    last_login_at: datetime | None
    budget: MonthlyBudget = Field(description="Your monthly token budget")
    key_budget: MonthlyBudget | None = Field(
        None, description="The calling API key's own budget, on top of yours (null when "
                          "signed in with a browser)")
    cost_budget: MonthlyCostBudget | None = Field(
        None, description="Your monthly budget in US dollars (beside the token budget)")
    key_cost_budget: MonthlyCostBudget | None = Field(
        None, description="The calling API key's own dollar budget, on top of yours (null "
                          "when signed in with a browser)")
    team: TeamBudget | None = Field(
        None, description="The team these calls count towards (the key's, else yours) and "
                          "what it has left; null: no team")


class AttachmentOut(Out):
    id: str
    name: str = Field(description="The file name as uploaded (metadata only)")
    type: str = Field(validation_alias=AliasChoices("media_type", "type"),
                      description="The media type, found from the bytes")
    size: int = Field(description="Bytes stored (an image after re-encoding)")


class MessageOut(Out):
    id: str
    parent_id: str | None = Field(
        None, description="The message before it on its branch (null: a first message); "
                          "versions of a message (edits, regenerations) share a parent")
    role: Literal["user", "assistant", "system", "tool"]
    content: str
    thinking: str = Field("", description="The model's reasoning before its reply (Anthropic "
                                          "thinking, OpenAI-compatible reasoning_content)")
    status: Literal["pending", "streaming", "complete", "stopped", "incomplete", "error",
                    "interrupted"]
    model: str | None
    error: str | None
    input_tokens: int
    output_tokens: int
    latency_ms: int | None
    created_at: datetime
    attachments: list[AttachmentOut] = Field(default_factory=list)


class OptionsOut(Out):
    temperature: float | None = None
    max_tokens: int | None = None
    reasoning_effort: str | None = None


class ConversationOut(Out):
    id: str
    title: str
    model: str
    system_prompt: str
    options: OptionsOut = Field(default_factory=OptionsOut,
                                description="Reply options (null: the model's default)")
    title_renamed: bool = Field(False, description="The title was given by its user: "
                                                   "automatic titles leave it alone")
    current_leaf_id: str | None = Field(
        None, description="The last message of the branch shown (and sent to the model)")
    created_at: datetime
    updated_at: datetime


class ConversationListItem(ConversationOut):
    snippet: str | None = Field(None, description="With q: the matching message text")


class ConversationDetail(ConversationOut):
    messages: list[MessageOut] = Field(
        description="Every message of every branch, oldest first (the tree, by parent_id)")
    path: list[str] = Field(
        default_factory=list,
        description="The ids of the branch shown, first to current_leaf_id: what the model "
                    "sees on the next message")


class SentMessages(BaseModel):
    message: MessageOut
    reply: MessageOut


class ContinueRequest(RequestBody):
    stream: bool = Field(False, description="true: answer as Server-Sent Events")


class StopResult(BaseModel):
    stopped: bool = Field(description="false when the reply had already ended")
    reply: MessageOut


class KeyOut(Out):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    status: Literal["active", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class KeyCreated(KeyOut):
    secret: str = Field(description="The full key: shown this once, never again")


class UsageLine(BaseModel):
    label: str
    requests: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = Field(description="Of input_tokens: read from the prompt cache")
    cache_write_tokens: int = Field(description="Of input_tokens: written to the prompt cache")
    tokens: int
    cost: float
    errors: int
    avg_latency_ms: int

    @classmethod
    def of(cls, line) -> UsageLine:
        """The wire form of a usage report's line (services/usage_reports.Line)."""
        return cls(label=line.label, requests=line.requests, input_tokens=line.input_tokens,
                   output_tokens=line.output_tokens, cache_read_tokens=line.cache_read_tokens,
                   cache_write_tokens=line.cache_write_tokens, tokens=line.tokens,
                   cost=float(line.cost),
                   errors=line.errors, avg_latency_ms=line.avg_latency_ms)


class UsageOut(BaseModel):
    start: str
    end: str
    source: str | None
    totals: UsageLine
    days: list[UsageLine]
    models: list[UsageLine]
    tag: str | None = Field(description="The spend tag the report is limited to, if any")
    tags: list[UsageLine] = Field(description="Spend per tag (x-parlor-tags, metadata.tags)")


class PageMeta(BaseModel):
    page: int
    per_page: int
    total: int | None = Field(description="null for search results")
    has_more: bool


class Data(BaseModel, Generic[T]):
    data: T


class Listing(BaseModel, Generic[T]):
    data: list[T]
    meta: PageMeta


class FieldError(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(description="invalid_request, authentication, permission, not_found, "
                                  "request_too_large, rate_limit, csrf_failed, api_error...")
    message: str
    details: list[FieldError] | None


class ErrorOut(BaseModel):
    error: ErrorDetail
