"""Error responses: JSON for API clients, a plain page for browsers, never a stack trace."""

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from hearth.web.sessions import CsrfRejected, SignInRequired

__all__ = ["install_error_handlers", "wants_html"]

API_PATH_PREFIX = "/api"


def wants_html(request: Request) -> bool:
    """True for a browser asking for a page; API paths and other clients get JSON."""
    path = request.url.path
    if path == API_PATH_PREFIX or path.startswith(API_PATH_PREFIX + "/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def install_error_handlers(app: FastAPI, templates: Jinja2Templates) -> None:
    """Register Hearth's responses for HTTP errors and for unhandled exceptions."""

    def error_response(request: Request, status_code: int, detail: str) -> Response:
        if wants_html(request):
            return templates.TemplateResponse(
                request, "error.html", {"status_code": status_code, "detail": detail}, status_code
            )
        return JSONResponse({"detail": detail}, status_code=status_code)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"Not found: {request.url.path}"
        response = error_response(request, exc.status_code, detail)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        if exc.forbidden:
            return error_response(request, 403, "Only workspace admins can do this.")
        if wants_html(request) and request.method in ("GET", "HEAD"):
            query = f"?{request.url.query}" if request.url.query else ""
            target = quote(request.url.path + query)
            return RedirectResponse(f"/signin?next={target}", status_code=303)
        return error_response(request, 401, "Sign in first.")

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
        return error_response(request, 403, str(exc))

    @app.exception_handler(Exception)
    async def unhandled_error(request: Request, exc: Exception) -> Response:
        # Starlette's ServerErrorMiddleware re-raises after this response, so the server logs
        # the traceback; the client learns only that something failed.
        return error_response(request, 500, "Internal server error")
