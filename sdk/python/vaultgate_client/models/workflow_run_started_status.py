from enum import StrEnum


class WorkflowRunStartedStatus(StrEnum):
    PENDING = "pending"

    def __str__(self) -> str:
        return str(self.value)
