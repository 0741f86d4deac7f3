"""Storage-level failures, translated into HTTP problems by the gateway, never here."""


class StorageError(Exception):
    """Base class for errors the storage layer raises on purpose."""


class NotFoundError(StorageError):
    """The object does not exist for this tenant (other org, other mode, or deleted)."""

    def __init__(self, kind: str, object_id: object) -> None:
        super().__init__(f"No {kind} with id {object_id}")
        self.kind = kind
        self.object_id = object_id


class ConflictError(StorageError):
    """The object's current state forbids the change (e.g. rotating a revoked key)."""


class ForbiddenError(StorageError):
    """The caller may see the object but not make this change (e.g. grant a scope it does not hold)."""


class InvalidInputError(StorageError):
    """A well-formed value the data rules refuse (e.g. an expiry in the past); `pointer` names it."""

    def __init__(self, pointer: str, detail: str) -> None:
        super().__init__(detail)
        self.pointer = pointer
        self.detail = detail
