from enum import StrEnum


class ChatDoneEventAnswerer(StrEnum):
    EXTRACTIVE = "extractive"
    GENERATOR = "generator"

    def __str__(self) -> str:
        return str(self.value)
