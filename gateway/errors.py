"""Translate every failure, from any layer, into one problem+json response.

Registered on connexion's exception middlewares, so it covers routing (404,
405), request validation, handlers and crashes alike.
"""

from __future__ import annotations

import logging

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response

from core.failures import Failure, FieldError, Invalid, NotFound, Unsafe, Unsupported
from gateway.contract import Contract
from gateway.problems import PROBLEM_CODES, PROBLEM_MEDIA_TYPE, Problem
from gateway.request_id import current_request_id

logger = logging.getLogger("vaultgate.errors")

# connexion raises these for contract violations it detects itself.
_CONNEXION_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def _respond(request: ConnexionRequest, problem: Problem) -> ConnexionResponse:
    body, headers = problem.render(instance=request.url.path)
    return ConnexionResponse(status_code=problem.status, body=body, headers=headers, content_type=PROBLEM_MEDIA_TYPE)


def problem_response(problem: Problem, path: str) -> Response:
    """`problem` as an ASGI response, for layers below the exception middleware."""
    body, headers = problem.render(instance=path)
    return Response(body, status_code=problem.status, headers=headers)


# A rule refusing well-formed input is a 422; `validation_error` is a 400 when the contract's schema refuses it.
_RULE_REFUSED = 422


def failure_problem(failure: Failure) -> Problem:
    """The problem for a failure raised below the edge: its code, with every field it names."""
    errors = list(failure.errors)
    if isinstance(failure, Unsupported | Unsafe) and not errors:
        errors = [FieldError(failure.message, pointer="/file")]  # the multipart field every upload sends
    if isinstance(failure, Invalid):
        return Problem("validation_error", failure.message, status=_RULE_REFUSED, errors=errors)
    if isinstance(failure, NotFound):
        return Problem("not_found", failure.message)  # whatever a job would call it, a caller sees a 404
    if failure.code not in PROBLEM_CODES:
        # A job's own code (`pdf_encrypted`…) reaching a request is a bug of ours, not the caller's.
        logger.error("request %s failed with a job code: %r", current_request_id(), failure)
        return Problem("internal_error", "The server failed to handle the request.")
    return Problem(failure.code, failure.message, errors=errors)


def translate(exc: Exception, method: str, path: str, contract: Contract) -> Problem:
    """The problem a client should see for `exc`; unknown exceptions become a generic 500."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, Failure):
        return failure_problem(exc)
    if isinstance(exc, HTTPException) and exc.status_code == 405:
        allowed = contract.allowed_methods(path)
        allow = ", ".join(allowed) if allowed else (exc.headers or {}).get("Allow", "")
        return Problem("method_not_allowed", f"{method} is not allowed on {path}.", headers={"Allow": allow})
    if isinstance(exc, HTTPException) and exc.status_code == 404:
        return Problem("not_found", f"No operation matches {method} {path}.")
    if isinstance(exc, ProblemException):
        code = _CONNEXION_CODES.get(exc.status, "internal_error" if exc.status >= 500 else "conflict")
        if exc.status >= 500:
            logger.error("request %s failed: %r", current_request_id(), exc)
            return Problem("internal_error", "The server failed to handle the request.", status=exc.status)
        return Problem(code, str(exc.detail or exc.title), status=exc.status, headers=dict(exc.headers or {}))
    if isinstance(exc, HTTPException):
        code = _CONNEXION_CODES.get(exc.status_code, "internal_error" if exc.status_code >= 500 else "forbidden")
        return Problem(code, str(exc.detail), status=exc.status_code, headers=dict(exc.headers or {}))
    logger.error("request %s crashed", current_request_id(), exc_info=exc)
    return Problem("internal_error", "The server failed to handle the request.")


def install_error_handlers(app: AsyncApp, contract: Contract) -> None:
    async def handle(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        problem = translate(exc, request.method, request.url.path, contract)
        if problem.status < 500:
            logger.info("request %s answered %s %s", current_request_id(), problem.status, problem.code)
        return _respond(request, problem)

    for exc_class in (
        Problem,
        Failure,
        ProblemException,
        HTTPException,
        Exception,
    ):
        app.add_error_handler(exc_class, handle)
