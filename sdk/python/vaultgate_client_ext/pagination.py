"""Every list operation as one iterator: pages are followed by their `next_cursor` until `has_more` is false."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

from vaultgate_client import AuthenticatedClient
from vaultgate_client.models.problem import Problem as ProblemBody
from vaultgate_client.types import UNSET, Unset

Item = TypeVar("Item")


class Page(Protocol[Item]):
    """What every `*Page` model of the contract's `Page` envelope has."""

    data: list[Item]
    next_cursor: str | None
    has_more: bool


def paginate(
    list_operation: Callable[..., Page[Item] | ProblemBody | None],
    /,
    *,
    client: AuthenticatedClient,
    limit: int = 100,
    **filters: Any,
) -> Iterator[Item]:
    """Yield every item of a list operation's `sync` (e.g. `vault_list_documents.sync`), newest first.

    `filters` are the operation's own parameters (`project_id=…`, `workflow_id=…`); the cursor the gateway hands
    out is bound to them, so they stay the same on every page. A cursor handed out twice would loop for ever
    (the same pages again and again), so it raises `RuntimeError` instead.
    """
    cursor: str | Unset = UNSET
    seen = set[str]()
    while True:
        page = list_operation(client=client, limit=limit, cursor=cursor, **filters)
        if page is None or isinstance(page, ProblemBody):
            raise TypeError(f"{list_operation.__qualname__} answered {page!r}, not a page")
        yield from page.data
        if not page.has_more or page.next_cursor is None:
            return
        if page.next_cursor in seen:
            raise RuntimeError(f"{list_operation.__qualname__} handed out cursor {page.next_cursor!r} twice")
        seen.add(page.next_cursor)
        cursor = page.next_cursor
