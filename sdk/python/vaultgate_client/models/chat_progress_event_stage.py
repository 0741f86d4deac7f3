from enum import StrEnum


class ChatProgressEventStage(StrEnum):
    ANSWERING = "answering"
    RETRIEVING = "retrieving"

    def __str__(self) -> str:
        return str(self.value)
