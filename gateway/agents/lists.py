"""Smart list results for agents: a long list costs an agent its context, so it is shaped first.

More than `REFINE_ABOVE` items: a guidance object (`needs_refinement`) built from
the operation's own parameters instead of the items; more than `SHOW_AT_MOST`:
the first `SHOW_AT_MOST` with a note and a cursor that resumes right after
them; fewer: unchanged. (The shapes follow the vendor's MCP server in
`reference/003`, in our snake_case.)
"""

from __future__ import annotations

from typing import Any

SHOW_AT_MOST = 25
REFINE_ABOVE = 50
_SAMPLES = 3
# Fields worth showing of a sample item: enough to recognise it, not the whole object.
_SAMPLE_FIELDS = ("id", "name", "title", "filename", "status", "document_id", "workflow_id", "snippet", "created_at")

DESCRIPTION = (
    f"Large answers are shaped for agents: up to {SHOW_AT_MOST} items come back unchanged; "
    f"{SHOW_AT_MOST + 1} to {REFINE_ABOVE} come back as the first {SHOW_AT_MOST} with `truncated: true`, "
    f"`original_count` and a `next_cursor` that resumes at item {SHOW_AT_MOST + 1}; more than {REFINE_ABOVE} "
    "come back as `needs_refinement` guidance (filters to narrow the list, a few samples) instead of the items."
)

REFINE: dict[str, Any] = {
    "type": "object",
    "description": f"Instead of more than {REFINE_ABOVE} items: how to ask for fewer.",
    "required": ["needs_refinement", "message", "guidance", "suggestions", "search_instructions", "samples"],
    "properties": {
        "needs_refinement": {"const": True},
        "message": {"type": "string"},
        "guidance": {"type": "string"},
        "suggestions": {"type": "array", "items": {"type": "string"}},
        "search_instructions": {"type": "string"},
        "samples": {"type": "array", "maxItems": _SAMPLES, "items": {"type": "object"}},
    },
}


def truncated_schema(data_schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"The first {SHOW_AT_MOST} of {SHOW_AT_MOST + 1} to {REFINE_ABOVE} items.",
        "required": ["data", "truncated", "original_count", "displayed_count", "pagination_hint", "next_cursor"],
        "properties": {
            "data": data_schema,
            "truncated": {"const": True},
            "original_count": {"type": "integer", "minimum": SHOW_AT_MOST + 1, "maximum": REFINE_ABOVE},
            "displayed_count": {"const": SHOW_AT_MOST},
            "pagination_hint": {"type": "string"},
            "next_cursor": {"type": ["string", "null"]},
            "has_more": {"type": "boolean"},
        },
    }


def needs_shaping(answer: dict[str, Any]) -> bool:
    return len(answer.get("data") or ()) > SHOW_AT_MOST


def _sample(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        return {"value": item}
    return {k: item[k] for k in _SAMPLE_FIELDS if k in item} or dict(list(item.items())[:3])


def refinement(tool_name: str, answer: dict[str, Any], filters: dict[str, str]) -> dict[str, Any]:
    """The guidance object for a page of more than `REFINE_ABOVE` items, from the operation's own parameters."""
    count = len(answer["data"])
    more = " (and more follow)" if answer.get("has_more") else ""
    narrowing = {name: text for name, text in filters.items() if name not in ("limit", "cursor")}
    suggestions = [f'Call {tool_name} with a smaller limit, e.g. {{"limit": {SHOW_AT_MOST}}}, and page with cursor.']
    suggestions += [f"Narrow with {name}: {text}" for name, text in narrowing.items()]
    return {
        "needs_refinement": True,
        "message": f"Found {count} items{more}: too many to show at once.",
        "guidance": (
            "With a large result it is better to: 1. ask for a specific item by its id; "
            "2. narrow the list with the filters below; 3. page through it with a smaller limit."
        ),
        "suggestions": suggestions,
        "search_instructions": "\n".join(f"- {name}: {text}" for name, text in filters.items())
        or "This list takes no filters; use a smaller limit.",
        "samples": [_sample(item) for item in answer["data"][:_SAMPLES]],
    }


def truncation(first_page: dict[str, Any], original_count: int, *, pages: bool) -> dict[str, Any]:
    """`first_page` holds the first `SHOW_AT_MOST` items (and, for a paging list, the cursor right after them)."""
    hint = f"Showing the first {SHOW_AT_MOST} of {original_count} items."
    if pages:
        hint += f" Pass next_cursor as cursor to continue at item {SHOW_AT_MOST + 1}."
    else:
        hint += " This list does not page: narrow the request to see the others."
    return {
        "data": first_page["data"][:SHOW_AT_MOST],
        "truncated": True,
        "original_count": original_count,
        "displayed_count": SHOW_AT_MOST,
        "pagination_hint": hint,
        "next_cursor": first_page.get("next_cursor") if pages else None,
        "has_more": bool(first_page.get("has_more")) if pages else False,
    }
