"""create_app(settings): the FastAPI application and the lifespan that opens what one process holds —
the database engine, one aiodocker client (through the scheduler), the router and the reconciler."""

from __future__ import annotations

from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from .api import apps, appsettings, auth, builds, certs, config, domains, keys, meta, perms, pods, releases, users
from .api import autoscale as autoscale_api
from .api.bodylimit import BodyLimitMiddleware
from .api.docs import install_docs
from .api.errors import install_error_handlers
from .api.metrics import MetricsMiddleware
from .api.metrics import router as metrics_router
from .api.wire import WireMiddleware
from .config import Settings
from .context import Context
from .db import make_engine, make_sessionmaker
from .security import Cipher, set_hash_workers


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        set_hash_workers(settings.password_hash_workers)
        engine = make_engine(settings.database_url)
        ctx = Context(settings=settings, sessions=make_sessionmaker(engine),
                      cipher=Cipher(settings.ensure_secret_key()))
        app.state.ctx = ctx
        async with AsyncExitStack() as stack:
            stack.push_async_callback(engine.dispose)
            from .runtime import start_runtime  # the composition root: backend, router, workers

            await start_runtime(ctx, stack)
            yield

    app = FastAPI(
        title="Workflow",
        version="2.3.0",
        description="A self-hosted platform-as-a-service for Docker images, speaking the Deis Workflow "
                    "Controller REST API v2.3. Authenticate with `Authorization: token <key>` "
                    "(from `POST /v2/auth/login/`).",
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url=None,  # served from vendored files by api/docs.py: no CDN
        redoc_url=None,
    )
    install_error_handlers(app)
    # Innermost of the three: a too-large body is refused before routing, parsing or authentication.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware)  # inside WireMiddleware: sees the collapsed path
    app.add_middleware(WireMiddleware)
    app.include_router(meta.health)
    for module in (meta, auth, users, apps, builds, releases, pods, config, domains, appsettings, perms, keys,
                   certs, autoscale_api):
        app.include_router(module.router)
    install_docs(app)
    app.include_router(metrics_router)
    return app

