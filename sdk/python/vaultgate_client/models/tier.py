from enum import StrEnum


class Tier(StrEnum):
    ENTERPRISE = "enterprise"
    FREE = "free"
    PRO = "pro"
    STANDARD = "standard"

    def __str__(self) -> str:
        return str(self.value)
