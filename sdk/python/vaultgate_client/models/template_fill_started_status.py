from enum import StrEnum


class TemplateFillStartedStatus(StrEnum):
    PENDING = "pending"

    def __str__(self) -> str:
        return str(self.value)
