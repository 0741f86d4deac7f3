from enum import StrEnum


class WorkflowInputType(StrEnum):
    BOOLEAN = "boolean"
    DATE = "date"
    DOCUMENT_IDS = "document_ids"
    ENUM = "enum"
    INTEGER = "integer"
    NUMBER = "number"
    STRING = "string"

    def __str__(self) -> str:
        return str(self.value)
