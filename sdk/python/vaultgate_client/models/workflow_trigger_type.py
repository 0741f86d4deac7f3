from enum import StrEnum


class WorkflowTriggerType(StrEnum):
    MANUAL = "manual"

    def __str__(self) -> str:
        return str(self.value)
