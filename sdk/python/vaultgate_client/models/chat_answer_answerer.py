from enum import StrEnum


class ChatAnswerAnswerer(StrEnum):
    EXTRACTIVE = "extractive"
    GENERATOR = "generator"

    def __str__(self) -> str:
        return str(self.value)
