from enum import StrEnum


class ChatStreamEventEvent(StrEnum):
    CITATION = "citation"
    DELTA = "delta"
    DONE = "done"
    ERROR = "error"
    PROGRESS = "progress"

    def __str__(self) -> str:
        return str(self.value)
