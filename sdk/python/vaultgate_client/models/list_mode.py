from enum import StrEnum


class ListMode(StrEnum):
    ALLOWLIST = "allowlist"
    BLOCKLIST = "blocklist"

    def __str__(self) -> str:
        return str(self.value)
