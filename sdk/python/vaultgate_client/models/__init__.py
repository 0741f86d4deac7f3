"""Contains all the data models used in inputs/outputs"""

from .api_key import ApiKey
from .api_key_create import ApiKeyCreate
from .api_key_page import ApiKeyPage
from .api_key_rotate import ApiKeyRotate
from .capability import Capability
from .capability_list import CapabilityList
from .capability_method import CapabilityMethod
from .chat_answer import ChatAnswer
from .chat_answer_answerer import ChatAnswerAnswerer
from .chat_citation import ChatCitation
from .chat_delta_event import ChatDeltaEvent
from .chat_done_event import ChatDoneEvent
from .chat_done_event_answerer import ChatDoneEventAnswerer
from .chat_progress_event import ChatProgressEvent
from .chat_progress_event_stage import ChatProgressEventStage
from .chat_question import ChatQuestion
from .chat_stream_event import ChatStreamEvent
from .chat_stream_event_event import ChatStreamEventEvent
from .document import Document
from .document_content_type import DocumentContentType
from .document_metadata import DocumentMetadata
from .document_page import DocumentPage
from .document_status import DocumentStatus
from .document_text import DocumentText
from .document_upload import DocumentUpload
from .download_link import DownloadLink
from .field_error import FieldError
from .health import Health
from .health_database import HealthDatabase
from .health_status import HealthStatus
from .issued_api_key import IssuedApiKey
from .job_status import JobStatus
from .list_mode import ListMode
from .location import Location
from .location_type import LocationType
from .mcp_capability_rule import McpCapabilityRule
from .mcp_project_rule import McpProjectRule
from .mcp_server import McpServer
from .mcp_server_create import McpServerCreate
from .mcp_server_page import McpServerPage
from .mcp_server_restrictions import McpServerRestrictions
from .mcp_server_token_rotate import McpServerTokenRotate
from .mcp_server_update import McpServerUpdate
from .mcp_server_with_token import McpServerWithToken
from .mode import Mode
from .page import Page
from .principal import Principal
from .principal_auth_kind import PrincipalAuthKind
from .principal_key_type_0 import PrincipalKeyType0
from .principal_oauth_client_type_0 import PrincipalOauthClientType0
from .principal_organization import PrincipalOrganization
from .principal_user import PrincipalUser
from .principal_user_role import PrincipalUserRole
from .problem import Problem
from .project import Project
from .project_create import ProjectCreate
from .project_page import ProjectPage
from .rate_limit import RateLimit
from .rate_limit_organization import RateLimitOrganization
from .scope import Scope
from .search_hit import SearchHit
from .search_results import SearchResults
from .template_fill import TemplateFill
from .template_fill_page import TemplateFillPage
from .template_fill_started import TemplateFillStarted
from .template_fill_started_status import TemplateFillStartedStatus
from .template_fill_upload import TemplateFillUpload
from .text_segment import TextSegment
from .tier import Tier
from .workflow import Workflow
from .workflow_detail import WorkflowDetail
from .workflow_input import WorkflowInput
from .workflow_input_type import WorkflowInputType
from .workflow_page import WorkflowPage
from .workflow_run import WorkflowRun
from .workflow_run_inputs import WorkflowRunInputs
from .workflow_run_outputs_type_0 import WorkflowRunOutputsType0
from .workflow_run_page import WorkflowRunPage
from .workflow_run_request import WorkflowRunRequest
from .workflow_run_request_inputs import WorkflowRunRequestInputs
from .workflow_run_started import WorkflowRunStarted
from .workflow_run_started_status import WorkflowRunStartedStatus
from .workflow_step import WorkflowStep
from .workflow_step_action import WorkflowStepAction
from .workflow_trigger_type import WorkflowTriggerType

__all__ = (
    "ApiKey",
    "ApiKeyCreate",
    "ApiKeyPage",
    "ApiKeyRotate",
    "Capability",
    "CapabilityList",
    "CapabilityMethod",
    "ChatAnswer",
    "ChatAnswerAnswerer",
    "ChatCitation",
    "ChatDeltaEvent",
    "ChatDoneEvent",
    "ChatDoneEventAnswerer",
    "ChatProgressEvent",
    "ChatProgressEventStage",
    "ChatQuestion",
    "ChatStreamEvent",
    "ChatStreamEventEvent",
    "Document",
    "DocumentContentType",
    "DocumentMetadata",
    "DocumentPage",
    "DocumentStatus",
    "DocumentText",
    "DocumentUpload",
    "DownloadLink",
    "FieldError",
    "Health",
    "HealthDatabase",
    "HealthStatus",
    "IssuedApiKey",
    "JobStatus",
    "ListMode",
    "Location",
    "LocationType",
    "McpCapabilityRule",
    "McpProjectRule",
    "McpServer",
    "McpServerCreate",
    "McpServerPage",
    "McpServerRestrictions",
    "McpServerTokenRotate",
    "McpServerUpdate",
    "McpServerWithToken",
    "Mode",
    "Page",
    "Principal",
    "PrincipalAuthKind",
    "PrincipalKeyType0",
    "PrincipalOauthClientType0",
    "PrincipalOrganization",
    "PrincipalUser",
    "PrincipalUserRole",
    "Problem",
    "Project",
    "ProjectCreate",
    "ProjectPage",
    "RateLimit",
    "RateLimitOrganization",
    "Scope",
    "SearchHit",
    "SearchResults",
    "TemplateFill",
    "TemplateFillPage",
    "TemplateFillStarted",
    "TemplateFillStartedStatus",
    "TemplateFillUpload",
    "TextSegment",
    "Tier",
    "Workflow",
    "WorkflowDetail",
    "WorkflowInput",
    "WorkflowInputType",
    "WorkflowPage",
    "WorkflowRun",
    "WorkflowRunInputs",
    "WorkflowRunOutputsType0",
    "WorkflowRunPage",
    "WorkflowRunRequest",
    "WorkflowRunRequestInputs",
    "WorkflowRunStarted",
    "WorkflowRunStartedStatus",
    "WorkflowStep",
    "WorkflowStepAction",
    "WorkflowTriggerType",
)
