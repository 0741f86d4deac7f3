"""Request validation that reports every offending field, with pointers, as one problem.

Replaces connexion's validators, which stop at the first error, skip `format:
uuid`, and let undecodable bodies escape as 500s.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import AsyncGenerator, Iterable
from datetime import datetime
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator
from connexion.lifecycle import ConnexionRequest
from connexion.validators import VALIDATOR_MAP as CONNEXION_VALIDATORS
from connexion.validators import (
    DefaultsJSONRequestBodyValidator,
    MultiPartFormDataValidator,
    ParameterValidator,
)
from jsonschema import Draft4Validator, FormatChecker, ValidationError, validators
from starlette.datastructures import FormData, Headers, MutableHeaders, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.types import Message, Receive, Scope

from core.failures import FieldError
from gateway.problems import Problem

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
FORMAT_CHECKER: FormatChecker = copy.deepcopy(Draft4Validator.FORMAT_CHECKER)


@FORMAT_CHECKER.checks("uuid")
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(_UUID.match(value))


# RFC 3339 §5.6: an offset is mandatory, so no timestamp is ambiguous.
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


@FORMAT_CHECKER.checks("date-time")
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def parse_date_time(value: str) -> datetime:
    """A timestamp the validator already accepted, as an aware datetime."""
    return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))


# A document's own metadata is capped by serialized size and nesting depth, which
# JSON Schema cannot express (the spec says both in `DocumentUpload.metadata`'s
# description; tests/test_limits_documented.py keeps the two equal); a schema opts
# in with `format: metadata`.
METADATA_MAX_BYTES = 32 * 1024
METADATA_MAX_DEPTH = 8


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    return 0


def metadata_violation(value: object) -> str | None:
    """Why `value` breaks the metadata caps, or None when it does not."""
    if not isinstance(value, dict):
        return None
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > METADATA_MAX_BYTES:
        return f"metadata is {size} bytes serialized; the limit is {METADATA_MAX_BYTES}"
    depth = _depth(value)
    if depth > METADATA_MAX_DEPTH:
        return f"metadata nests {depth} levels deep; the limit is {METADATA_MAX_DEPTH}"
    return None


@FORMAT_CHECKER.checks("metadata")
def _is_metadata(value: object) -> bool:
    return metadata_violation(value) is None


def _escape(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _pointer(path: Iterable[object]) -> str:
    return "".join(f"/{_escape(token)}" for token in path)


def field_errors(error: ValidationError) -> list[FieldError]:
    """One `FieldError` per offending field; `required`/`additionalProperties` name the field."""
    path = list(error.absolute_path)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict) and isinstance(error.validator_value, list):
        return [
            FieldError(f"'{name}' is a required property", pointer=_pointer([*path, name]))
            for name in error.validator_value
            if name not in instance
        ]
    if error.validator == "additionalProperties" and isinstance(instance, dict) and isinstance(error.schema, dict):
        declared = error.schema.get("properties", {})
        return [
            FieldError(f"'{name}' is not a property this operation accepts", pointer=_pointer([*path, name]))
            for name in instance
            if name not in declared
        ]
    return [FieldError(error.message, pointer=_pointer(path))]


def _is_file(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string" and schema.get("format") in ("binary", "base64")


def _validate_all(validator: Draft4Validator, instance: Any, where: str) -> None:
    """400 for what the schema forbids; 422 when the only faults are rules beyond it (metadata caps)."""
    contract_errors: list[FieldError] = []
    rule_errors: list[FieldError] = []
    for error in validator.iter_errors(instance):
        if error.validator == "format" and error.validator_value == "metadata":
            detail = metadata_violation(error.instance) or error.message
            rule_errors.append(FieldError(detail, pointer=_pointer(error.absolute_path)))
        else:
            contract_errors.extend(field_errors(error))
    if contract_errors:
        raise_for_errors(contract_errors + rule_errors, where)
    raise_for_errors(rule_errors, where, status=422)


def raise_for_errors(errors: list[FieldError], where: str, status: int = 400) -> None:
    if errors:
        noun = "field" if len(errors) == 1 else "fields"
        raise Problem(
            "validation_error", f"The {where} has {len(errors)} invalid {noun}.", status=status, errors=errors
        )


class _StreamedBodyMixin:
    """connexion takes a body without `Content-Length` for an absent one; chunked bodies have none."""

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        headers = Headers(scope=scope)
        if "content-length" in headers or "chunked" not in headers.get("transfer-encoding", "").lower():
            wrapped: tuple[Receive, Scope] = await super().wrap_receive(receive, scope=scope)  # type: ignore[misc]
            return wrapped
        messages: list[Message] = []

        async def stream() -> AsyncGenerator[bytes, None]:
            more_body = True
            while more_body:
                message = await receive()
                messages.append(message)
                more_body = message.get("more_body", False)
                yield message.get("body", b"")

        body = await self._parse(stream(), scope=scope)  # type: ignore[attr-defined]
        self._validate(body)  # type: ignore[attr-defined]
        if self.MUTABLE_VALIDATION:  # type: ignore[attr-defined]
            inserted: tuple[Receive, Scope] = self._insert_body(receive, body=body, scope=scope)  # type: ignore[attr-defined]
            return inserted
        return self._insert_messages(receive, messages=messages), scope  # type: ignore[attr-defined]


class JSONBodyValidator(_StreamedBodyMixin, DefaultsJSONRequestBodyValidator):
    """JSON bodies: UTF-8 and syntax errors are 400 problems, all schema errors listed, and the
    spec's `default`s filled in, so handlers never restate them."""

    def _insert_body(self, receive: Receive, *, body: Any, scope: Scope) -> tuple[Receive, Scope]:
        if body is None:
            # An absent optional body: connexion would hand on the channel it has already read, and the
            # handler would wait for a body that never comes. Replay the empty one.
            empty: Message = {"type": "http.request", "body": b"", "more_body": False}
            replay: Receive = self._insert_messages(receive, messages=[empty])
            return replay, scope
        receive, scope = super()._insert_body(receive, body=body, scope=scope)
        # An absent optional body becomes the schema's default: say it is JSON, or the
        # handler would be handed the raw bytes.
        if body is not None:
            MutableHeaders(scope=scope).setdefault("content-type", "application/json")
        return receive, scope

    @staticmethod
    def extend_with_set_default(validator_class: Any) -> Any:
        """Defaults filled into objects only: connexion's version crashes on a scalar where an object belongs."""
        validate_properties = validator_class.VALIDATORS["properties"]

        def set_defaults(validator: Any, properties: Any, instance: Any, schema: Any) -> Any:
            if isinstance(instance, dict):
                for name, subschema in properties.items():
                    if "default" in subschema:
                        instance.setdefault(name, subschema["default"])
            yield from validate_properties(validator, properties, instance, schema)

        return validators.extend(validator_class, {"properties": set_defaults})  # type: ignore[no-untyped-call]

    @property
    def _validator(self) -> Draft4Validator:
        with_defaults = self.extend_with_set_default(Draft4RequestValidator)
        validator: Draft4Validator = with_defaults(self._schema, format_checker=FORMAT_CHECKER)
        return validator

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw:
            return None
        try:
            value = json.loads(raw.decode(self._encoding))
        except UnicodeDecodeError as exc:
            detail = f"The body is not valid {self._encoding}: {exc.reason} at byte {exc.start}."
            raise Problem("invalid_json", detail) from exc
        except json.JSONDecodeError as exc:
            detail = f"The body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
            raise Problem("invalid_json", detail) from exc
        # A literal `null` is a body, unlike an empty one, and must not pass as "absent".
        if value is None and not self._nullable:
            raise Problem(
                "validation_error",
                "The request body must not be null.",
                errors=[FieldError("None is not of type 'object'", pointer="")],
            )
        return value

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if body is None and not self._required:
            return None
        if body is None and not self._nullable:
            raise Problem(
                "validation_error",
                "The request body must not be empty.",
                errors=[FieldError("A JSON body is required", pointer="")],
            )
        _validate_all(self._validator, body, "request body")
        return None


class _CompleteMultiPartParser(MultiPartParser):
    """starlette's parser, refusing a body cut off before its closing boundary.

    starlette accepts such a body, silently dropping the unfinished part and
    leaving its spool file open.
    """

    _complete = False

    def on_end(self) -> None:
        self._complete = True
        super().on_end()

    async def parse(self) -> FormData:
        form = await super().parse()
        if not self._complete:
            for file in self._files_to_close_on_error:
                file.close()
            raise MultiPartException("the body ends before the closing boundary.")
        return form


class MultipartValidator(_StreamedBodyMixin, MultiPartFormDataValidator):
    """Multipart bodies: a broken body is a 400 problem, all field errors listed."""

    @property
    def _validator(self) -> Draft4Validator:
        validator: Draft4Validator = Draft4RequestValidator(self._schema, format_checker=FORMAT_CHECKER)
        return validator

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> dict[str, Any]:
        try:
            form = await _CompleteMultiPartParser(Headers(scope=scope), stream).parse()
        except MultiPartException as exc:
            raise Problem("invalid_multipart", f"The multipart body is malformed: {exc.message}") from exc
        except UnicodeDecodeError as exc:
            raise Problem("invalid_multipart", "A multipart text field is not valid UTF-8.") from exc
        # connexion's parser leaves these spool files open; the handler parses the body again.
        try:
            return self._validation_view(form)
        finally:
            await form.close()

    def _validation_view(self, form: FormData) -> dict[str, Any]:
        """Fields as the schema sees them: text values parsed, each uploaded file as ''."""
        properties = self._schema.get("properties", {})
        text: dict[str, list[str]] = {}
        files: dict[str, str | list[str]] = {}
        for name in form:
            values = form.getlist(name)
            schema = properties.get(name, {})
            if _is_file(schema) and len(values) == 1:
                files[name] = ""
            elif _is_file(schema) or _is_file(schema.get("items", {})) or isinstance(values[0], UploadFile):
                files[name] = [""] * len(values)
            else:
                text[name] = [str(value) for value in values]
        data: dict[str, Any] = self._uri_parser.resolve_form(text) if self._uri_parser else text
        data.update(files)
        return data

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if self._strict_validation:
            declared = self._schema.get("properties", {})
            extra = [
                FieldError(f"'{name}' is not a field this operation accepts", pointer=f"/{_escape(name)}")
                for name in body
                if name not in declared
            ]
            raise_for_errors(extra, "multipart body")
        _validate_all(self._validator, body, "multipart body")
        return None


class AllParametersValidator(ParameterValidator):
    """Path, query and header parameters: every error reported, unknown query parameters too."""

    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        if value is None:
            return f"Missing required {parameter_type} parameter" if param.get("required") else None
        schema = param.get("schema", param)
        error = next(Draft4Validator(schema, format_checker=FORMAT_CHECKER).iter_errors(value), None)
        return None if error is None else error.message

    def validate_request(self, request: ConnexionRequest) -> None:
        errors: list[FieldError] = []
        if self.strict_validation:
            for name in sorted(self.validate_query_parameter_list(request, self.security_query_params)):
                errors.append(FieldError("Unknown query parameter", parameter=name))
        checks = {
            "query": self.validate_query_parameter,
            "path": self.validate_path_parameter,
            "header": self.validate_header_parameter,
            "cookie": self.validate_cookie_parameter,
        }
        for location, check in checks.items():
            for param in self.parameters.get(location, []):
                message = check(param, request)
                if message:
                    errors.append(FieldError(message, parameter=param["name"]))
        raise_for_errors(errors, "request")


VALIDATOR_MAP = {
    "parameter": AllParametersValidator,
    "body": MediaTypeDict(
        {
            "*/*json": JSONBodyValidator,
            "multipart/form-data": MultipartValidator,
        }
    ),
    "response": CONNEXION_VALIDATORS["response"],
}
