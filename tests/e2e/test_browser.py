"""Swagger UI and ReDoc in a real browser (Debian chromium, headless, driven by Playwright) against a real
server: the pages render the operations from local files only, "Authorize" takes `token <key>`, and
"Try it out" on `GET /v2/apps/` answers 200."""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit

import httpx
import pytest

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture
async def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip("chromium is not installed (scripts/start-services.sh --test installs it)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


def login(server) -> str:
    r = httpx.post(f"{server.url}/v2/auth/register/", json={"username": "swagger", "password": "secret"})
    assert r.status_code == 201, r.text
    r = httpx.post(f"{server.url}/v2/auth/login/", json={"username": "swagger", "password": "secret"})
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    assert httpx.post(f"{server.url}/v2/apps/", json={"id": "from-swagger"},
                      headers={"Authorization": f"token {token}"}).status_code == 201
    return token


async def offline_page(browser, server):
    """A page that may reach only the server; anything else is recorded and refused."""
    context = await browser.new_context()
    page = await context.new_page()
    foreign: list[str] = []
    local = urlsplit(server.url).netloc

    async def only_local(route):
        url = route.request.url
        if urlsplit(url).netloc == local or url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            foreign.append(url)
            await route.abort()

    await page.route("**/*", only_local)
    return context, page, foreign


async def test_swagger_ui_authorize_and_try_it_out(server, browser):
    token = login(server)
    context, page, foreign = await offline_page(browser, server)
    sent: list[dict[str, str]] = []
    page.on("request", lambda req: sent.append(req.headers) if req.url.endswith("/v2/apps/") else None)
    try:
        await page.goto(f"{server.url}/docs")
        apps_list = page.locator("#operations-apps-apps_list")
        await apps_list.wait_for(timeout=30_000)
        assert await page.locator(".opblock").count() >= 30
        assert await page.locator("#operations-builds-builds_create").count() == 1

        await page.locator("button.authorize").first.click()
        dialog = page.locator(".dialog-ux")
        await dialog.locator("input").first.fill(f"token {token}")
        await dialog.locator("button.authorize").click()
        await dialog.locator("button.btn-done").click()

        await apps_list.locator(".opblock-summary").first.click()
        await apps_list.locator("button.try-out__btn").click()
        await apps_list.locator("button.execute").click()
        status = apps_list.locator(".live-responses-table .response .response-col_status").first
        await status.wait_for(timeout=30_000)
        assert (await status.inner_text()).strip().startswith("200")
        body = await apps_list.locator(".live-responses-table .microlight").first.inner_text()
        assert "from-swagger" in body
        assert any(h.get("authorization") == f"token {token}" for h in sent), sent
    finally:
        await context.close()
    assert foreign == []


async def test_redoc_renders_operations(server, browser):
    context, page, foreign = await offline_page(browser, server)
    try:
        await page.goto(f"{server.url}/redoc")
        await page.locator('[data-section-id="operation/apps_list"]').wait_for(state="attached", timeout=30_000)
        assert await page.locator('[data-section-id^="operation/"]').count() >= 30
    finally:
        await context.close()
    # ReDoc's "powered by" logo is the one remote URL in its bundle; offline the <img> hides itself (onError).
    assert set(foreign) <= {REDOC_LOGO}
