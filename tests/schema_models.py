"""Walking a pydantic schema independently of the code that documents it (for the docs tests)."""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel


def all_models(model: type[BaseModel], seen: dict[str, type[BaseModel]] | None = None) -> dict[str, type[BaseModel]]:
    """Every pydantic model reachable from `model`, by name."""
    seen = {} if seen is None else seen
    seen[model.__name__] = model

    def nested(annotation: Any) -> list[type[BaseModel]]:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return [annotation]
        return [m for a in get_args(annotation) for m in nested(a)]

    for field in model.model_fields.values():
        for sub in nested(field.annotation):
            if sub.__name__ not in seen:
                all_models(sub, seen)
    return seen
