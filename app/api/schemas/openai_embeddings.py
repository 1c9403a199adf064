"""OpenAI embeddings request body, validated and converted to an ``EmbeddingRequest``.

Only OpenAI-type vendors make embeddings, so fields Parlor does not interpret (an
OpenAI-compatible server's ``input_type``, ``truncate``...) are forwarded unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from app.api.schemas import OpenWireModel
from app.vendors.embeddings import EmbeddingRequest

MAX_INPUTS = 2048  # OpenAI's own limit on one request's inputs
INTERPRETED = frozenset({"model", "input", "encoding_format", "dimensions", "user"})
INPUT_SHAPES = "a string, a list of strings, a list of token ids or a list of lists of token ids"


class EmbeddingsRequest(OpenWireModel):
    model: str = Field(min_length=1, max_length=200)
    input: Any = Field(description=f"What to embed: {INPUT_SHAPES}.",
                       json_schema_extra={"anyOf": [
                           {"type": "string"}, {"type": "array", "items": {"type": "string"}},
                           {"type": "array", "items": {"type": "integer"}},
                           {"type": "array", "items": {"type": "array",
                                                       "items": {"type": "integer"}}}]})
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(default=None, ge=1, le=65536)
    user: str | None = Field(default=None, max_length=256)

    @field_validator("input")
    @classmethod
    def _one_of_the_shapes(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value:
                raise ValueError("must not be an empty string")
            return value
        if not isinstance(value, list) or not value:
            raise ValueError(f"must be {INPUT_SHAPES} (not empty)")
        if len(value) > MAX_INPUTS:
            raise ValueError(f"holds at most {MAX_INPUTS} inputs")
        if all(isinstance(item, str) for item in value):
            if not all(value):
                raise ValueError("must not hold an empty string")
        elif not (all(_token_id(item) for item in value)
                  or all(isinstance(item, list) and item and all(_token_id(t) for t in item)
                         for item in value)):
            raise ValueError(f"must be {INPUT_SHAPES}; a list of token ids is not empty "
                             "and holds whole numbers of 0 or more")
        return value

    def to_embedding_request(self, body: dict) -> EmbeddingRequest:
        """The normalised request; the body's other fields go along unchanged."""
        return EmbeddingRequest(
            model=self.model, input=self.input, encoding_format=self.encoding_format,
            dimensions=self.dimensions, user=self.user,
            native_fields={k: v for k, v in body.items() if k not in INTERPRETED})


def _token_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
