"""Which reasoning option a chat model takes: a reasoning effort (OpenAI-type reasoning
models), a thinking budget (Anthropic, Bedrock Claude and Gemini thinking models), or none.

A route the admin marks ``reasoning`` takes it; otherwise known reasoning models do (by the
upstream model's name, per vendor kind), and so does any model named for it (``…reasoner``,
``…thinking``). The kind of option follows the route's vendor kind: Anthropic-style vendors
think within a token budget, OpenAI-style ones take an effort. The conversation stores an
effort either way (a budget is one of BUDGET_FOR_EFFORT's, picked by its effort).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.services.vendors import vendor_manager
from app.vendors import UnknownModelError
from app.vendors.types import BUDGET_FOR_EFFORT

EFFORT, BUDGET = "effort", "budget"
REASONING = "reasoning"  # the route capability (app.models.vendors.ROUTE_CAPABILITIES)
BUDGET_KINDS = frozenset({"anthropic", "bedrock", "gemini"})
_CLAUDE_THINKING = r"claude-(3-7-|(opus|sonnet|haiku)-[4-9]|[4-9])"
KNOWN_MODELS = {  # vendor kind (without "-compatible") -> upstream models that reason
    "openai": re.compile(r"(^|/)(o[1-9](-|$)|gpt-5(?!-chat)|gpt-oss|deepseek-r1|qwq|"
                         r"grok-(3-mini|[4-9]))"),
    "azure": re.compile(r"(^|/)(o[1-9](-|$)|gpt-5(?!-chat))"),
    "anthropic": re.compile(_CLAUDE_THINKING),
    "bedrock": re.compile(r"anthropic\." + _CLAUDE_THINKING),
    "gemini": re.compile(r"gemini-(2\.5|[3-9])"),
}
NAMED_FOR_IT = re.compile(r"reason|think", re.IGNORECASE)


def control_for(kind: str, upstream_model: str, capabilities: Iterable[str] = ()) -> str | None:
    """The option a route of this vendor ``kind`` and upstream model takes: EFFORT, BUDGET or
    None."""
    kind = kind.removesuffix("-compatible")
    known = KNOWN_MODELS.get(kind)
    takes = REASONING in set(capabilities) or NAMED_FOR_IT.search(upstream_model) is not None \
        or (known is not None and known.search(upstream_model) is not None)
    if not takes:
        return None
    return BUDGET if kind in BUDGET_KINDS else EFFORT


def control(model: str | None) -> str | None:
    """The option the model (a public name) takes through its first route: EFFORT, BUDGET
    or None (also for an unknown model)."""
    if not model:
        return None
    try:
        route = vendor_manager().routes_for(model, None)[0]
    except (UnknownModelError, IndexError):
        return None
    return control_for(route.credential.kind, route.upstream_model, route.capabilities)


def budget_label(effort: str) -> str:
    """A thinking budget as the Options panel lists it: ``8,192 tokens``."""
    return f"{BUDGET_FOR_EFFORT[effort]:,} tokens"
