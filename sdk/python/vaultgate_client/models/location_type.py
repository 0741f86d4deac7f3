from enum import StrEnum


class LocationType(StrEnum):
    PAGE = "page"
    PARAGRAPH = "paragraph"

    def __str__(self) -> str:
        return str(self.value)
