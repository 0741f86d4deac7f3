"""Why a file is refused at upload, or why its ingestion failed."""

from __future__ import annotations


class UnsupportedContent(Exception):
    """The content is not a type the vault accepts (answered 415 at upload)."""


class UnsafeContent(Exception):
    """The content is of an accepted type but unsafe to parse (answered 422 `unsafe_document` at upload)."""


class ExtractionError(Exception):
    """Ingestion cannot read the file; `code` is the document's stable `error_code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message
