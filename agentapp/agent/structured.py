"""Agno's `output_schema`: the reply asked for as JSON by schema, and read back as the schema's value.

The schema is a pydantic model (the reply becomes an instance of it) or a JSON schema as a dict (the
reply becomes a dict). A model that can be asked for JSON by schema (`StructuredOutputs`: the OpenAI
adapters, through `response_format`) is asked so; any other is told in the system message.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from agentapp.llm.types import Model, ResponseFormat, StructuredOutputs

OutputSchema = type[BaseModel] | dict[str, Any]

_FENCED = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


class ReplyNotStructured(ValueError):
    """The reply is not JSON matching the output schema; the message says why, safe to show."""


def schema_name(schema: OutputSchema) -> str:
    if isinstance(schema, dict):
        return str(schema.get("title") or schema.get("name") or "output")
    return schema.__name__


def response_format(schema: OutputSchema) -> ResponseFormat:
    if isinstance(schema, dict):
        return ResponseFormat(schema_name(schema), schema)
    return ResponseFormat(schema_name(schema), schema.model_json_schema())


def check_schema(schema: Any) -> OutputSchema | None:
    """`schema` when it is one (None stays None); anything else is refused at once."""
    if schema is None or isinstance(schema, dict):
        return schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema
    raise TypeError("output_schema must be a pydantic model class or a JSON schema (a dict)")


def structured_model(model: Model, schema: OutputSchema) -> tuple[Model, str]:
    """The model to ask, and what the system message must add (nothing when the model is asked by
    `response_format`)."""
    if isinstance(model, StructuredOutputs):
        return model.with_response_format(response_format(schema)), ""
    shown = json.dumps(response_format(schema).schema, ensure_ascii=False)
    return model, (
        "Answer with one JSON object, and nothing else, that matches this JSON schema:\n"
        f"<json_schema>\n{shown}\n</json_schema>"
    )


def parse_reply(schema: OutputSchema, text: str) -> Any:
    """The reply as the schema's value (a code fence around the JSON is allowed, as Agno allows)."""
    fenced = _FENCED.match(text)
    body = fenced.group(1) if fenced else text.strip()
    name = schema_name(schema)
    if isinstance(schema, dict):
        try:
            value = json.loads(body)
        except ValueError as exc:
            raise ReplyNotStructured(f"The reply is not the JSON {name} asked for: {exc}") from None
        if not isinstance(value, dict):
            raise ReplyNotStructured(f"The reply is not the JSON object {name} asked for")
        return value
    try:
        return schema.model_validate_json(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'reply'}: {error['msg']}"
            for error in exc.errors()[:3]
        )
        raise ReplyNotStructured(f"The reply does not match the output schema {name}: {problems}") from None
