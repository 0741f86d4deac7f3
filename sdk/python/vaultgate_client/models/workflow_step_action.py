from enum import StrEnum


class WorkflowStepAction(StrEnum):
    CHECK_RULES = "check_rules"
    EXTRACT_FIELDS = "extract_fields"
    FILL_TEMPLATE = "fill_template"
    SEARCH = "search"
    SELECT_DOCUMENTS = "select_documents"
    SUMMARIZE = "summarize"

    def __str__(self) -> str:
        return str(self.value)
