"""Swagger UI (`/docs`) and ReDoc (`/redoc`) served from files vendored under `workflow/static/`
(swagger-ui-dist 5.35.0, redoc 2.5.4, from npm, with their licences): no CDN, so they work offline."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
STATIC_URL = "/static"

router = APIRouter(include_in_schema=False)


def _title(request: Request) -> str:
    return request.app.title


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url, title=f"{_title(request)} — Swagger UI",
        swagger_js_url=f"{STATIC_URL}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{STATIC_URL}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{STATIC_URL}/swagger-ui/favicon-32x32.png",
        # the token survives a reload; "Authorize" takes `token <key>` (the API key scheme)
        swagger_ui_parameters={"persistAuthorization": True, "displayOperationId": True},
    )


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=request.app.openapi_url, title=f"{_title(request)} — ReDoc",
        redoc_js_url=f"{STATIC_URL}/redoc/redoc.standalone.js",
        redoc_favicon_url=f"{STATIC_URL}/swagger-ui/favicon-32x32.png", with_google_fonts=False,
    )


def install_docs(app: FastAPI) -> None:
    """The two documentation pages and the static files they load."""
    app.include_router(router)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
