"""Settings: one object, built once from the environment (prefix `WORKFLOW_`) and passed in.

Nothing else in the service reads `os.environ`; tests build their own `Settings(...)`.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WORKFLOW_", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = ""  # default: sqlite+aiosqlite:///<data_dir>/workflow.db
    port: int = 8000  # the public port, served by the platform's nginx
    tls_port: int = 8443
    host: str = "0.0.0.0"
    domain: str = "localhost"  # apps answer at http://APP.<domain>:<port>
    docker_host: str = ""  # default: the local engine socket (aiodocker's own default)
    docker_network: str = "workflow"
    registration_mode: Literal["enabled", "admin_only", "disabled"] = "admin_only"
    secret_key: str = ""  # encrypts stored credentials; generated into data_dir when unset
    reserved_names: str = "deis,deis-builder,deis-workflow-manager,grafana"
    trusted_proxies: str = ""  # comma list of addresses/networks whose X-Forwarded-For is believed
    metrics_token: str = ""  # a scraper's `Authorization: Bearer <token>` for /metrics (admins' tokens work too)

    # deploys and containers
    deploy_timeout: float = 120.0  # seconds a new container may take to accept connections
    stop_grace_seconds: int = 30
    run_timeout: float = 1200.0
    reconcile_interval: float = 10.0
    router_enabled: bool = True  # tests of the API alone may run without nginx
    scheduler_enabled: bool = True  # API tests of users/apps may run without an engine

    # internal: where uvicorn listens for nginx
    api_socket: Path | None = None

    log_level: str = Field(default="info")

    def model_post_init(self, __context) -> None:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'workflow.db'}"

    @property
    def reserved(self) -> set[str]:
        return {name.strip() for name in self.reserved_names.split(",") if name.strip()}

    @property
    def socket_path(self) -> Path:
        return self.api_socket or (self.data_dir.resolve() / "api.sock")

    def ensure_secret_key(self) -> str:
        """The configured key, else the one kept in the data dir (created on first use)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            self.secret_key = path.read_text().strip()
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(48)
            path.touch(mode=0o600)
            path.write_text(key)
            self.secret_key = key
        return self.secret_key
