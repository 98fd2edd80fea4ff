"""Argument handling every declaration shares (``@op``, ``@job``, ``@asset``, schedules,
sensors): refusing the Dagster arguments Weft does not implement, and tags as strings
(a value that is not one as JSON, as Dagster writes ``dagster-k8s/config``).

It sits below every definition module so that none of them imports another just for these.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional

from .errors import DefinitionError

# Dagster arguments accepted and ignored: every resource the host sets is on
# `context.resources`, and Weft has no code versions, compute kinds or pools.
_IGNORED = ("required_resource_keys", "code_version", "compute_kind", "pool")


def reject_unknown(what: str, kwargs: Mapping[str, Any]) -> None:
    """Refuses a Dagster argument Weft does not implement, rather than ignore it."""
    unknown = sorted(k for k in kwargs if k not in _IGNORED)
    if unknown:
        raise DefinitionError(f"{what}: Weft does not support {', '.join(unknown)}")


def tag_value(value: Any) -> str:
    """A tag's value as text: a string as it is, anything else (a dict, a number) as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def string_tags(tags: Optional[Mapping[str, Any]]) -> Dict[str, str]:
    """``tags`` with keys as strings and values as :func:`tag_value` (``{}`` for ``None``)."""
    return {str(k): tag_value(v) for k, v in (tags or {}).items()}
