"""The one failure family: raised anywhere below the edges, translated exactly twice.

    Exception
     └── Failure(code, message, errors)   a stable snake_case `code`, a message for people
          ├── NotFound      no such object for this caller: another tenant's, deleted, or none
          ├── Conflict      the object's current state forbids the change
          ├── Forbidden     the caller may see the object but not do this
          ├── Invalid       well-formed input the rules refuse; `errors` point at each field
          ├── Unsupported   content of a type that is not accepted
          ├── Unsafe        content of an accepted type that is unsafe to parse
          └── Cancelled     a job stops as cancelled: a cancel was asked for, or a limit such as a timeout hit

The HTTP edge (`gateway.errors`) renders a failure as problem+json; the job
worker (`jobs.worker`) records it on the job (`error_code`, `error_message`).
Nothing else catches a failure to raise another one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One offending field: a JSON Pointer into the input (or a parameter name), and what is wrong there."""

    detail: str
    pointer: str | None = None
    parameter: str | None = None
    # Where in a YAML source the field is, when the input came from one (a workflow definition).
    line: int | None = None
    column: int | None = None

    def as_dict(self) -> dict[str, str]:
        entry = {"detail": self.detail}
        if self.pointer is not None:
            entry["pointer"] = self.pointer
        if self.parameter is not None:
            entry["parameter"] = self.parameter
        return entry

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line else ""
        return f"{where}{self.pointer or self.parameter or '/'}: {self.detail}"


class Failure(Exception):
    """Something that cannot succeed as asked; `code` is stable, `message` is for people."""

    def __init__(self, code: str, message: str, errors: tuple[FieldError, ...] = ()) -> None:
        super().__init__(code, message, errors)
        self.code = code
        self.message = message
        self.errors = errors

    def __str__(self) -> str:
        return self.message


class NotFound(Failure):
    def __init__(self, kind: str, object_id: object, code: str = "not_found") -> None:
        super().__init__(code, f"No {kind} with id {object_id}")
        self.kind = kind
        self.object_id = object_id
        self.args = (kind, object_id, code)  # so it pickles back (a sandboxed child may raise it)


class Conflict(Failure):
    def __init__(self, message: str) -> None:
        super().__init__("conflict", message)
        self.args = (message,)


class Forbidden(Failure):
    def __init__(self, message: str) -> None:
        super().__init__("forbidden", message)
        self.args = (message,)


class Invalid(Failure):
    def __init__(self, message: str, errors: tuple[FieldError, ...] = ()) -> None:
        super().__init__("validation_error", message, errors)
        self.args = (message, errors)

    @classmethod
    def at(cls, pointer: str, detail: str) -> Invalid:
        """One field refused: the message is its detail."""
        return cls(detail, (FieldError(detail, pointer=pointer),))


class Unsupported(Failure):
    def __init__(self, message: str) -> None:
        super().__init__("unsupported_media_type", message)
        self.args = (message,)


class Unsafe(Failure):
    def __init__(self, message: str) -> None:
        super().__init__("unsafe_document", message)
        self.args = (message,)


CANCELLED_CODE = "cancelled"
CANCELLED_MESSAGE = "Cancelled at the caller's request."


class Cancelled(Failure):
    def __init__(self, code: str = CANCELLED_CODE, message: str = CANCELLED_MESSAGE) -> None:
        super().__init__(code, message)
        self.args = (code, message)
