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
    swarm_network: str = "workflow-overlay"  # WORKFLOW_SCHEDULER=swarm: the attachable overlay apps run on
    registration_mode: Literal["enabled", "admin_only", "disabled"] = "admin_only"
    secret_key: str = ""  # encrypts stored credentials; generated into data_dir when unset
    reserved_names: str = "deis,deis-builder,deis-workflow-manager,grafana"
    # Debian's publicsuffix package: no custom wildcard domain over a public suffix (`*.co.uk`)
    public_suffix_list: Path = Path("/usr/share/publicsuffix/public_suffix_list.dat")
    trusted_proxies: str = ""  # comma list of addresses/networks whose X-Forwarded-For is believed
    metrics_token: str = ""  # a scraper's `Authorization: Bearer <token>` for /metrics (admins' tokens work too)

    # deploys and containers
    deploy_timeout: float = 120.0  # seconds a new container may take to accept connections
    stop_grace_seconds: int = 30
    run_timeout: float = 1200.0
    reconcile_interval: float = 10.0
    image_keep_releases: int = Field(default=10, ge=1)  # image GC keeps the images of each app's last N releases
    router_enabled: bool = True  # tests of the API alone may run without nginx
    scheduler_enabled: bool = True  # API tests of users/apps may run without an engine
    scheduler: str = "docker"  # the container backend (runtime.BACKENDS); unknown → refused at start-up
    autoscale_interval: float = Field(default=15.0, gt=0)  # seconds between autoscaler passes
    autoscale_downscale_window: float = Field(default=300.0, ge=0)  # scale-down: highest recommendation wins

    # tenant limits (README "Security model"): what one user may take from a shared platform
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # API request bodies (nginx and the app): 413
    max_containers_per_app: int = Field(default=100, ge=1)  # the sum of an app's process counts: 400
    max_runs_per_app: int = Field(default=3, ge=1)  # concurrent `deis run` containers of one app: 400
    create_batch_size: int = Field(default=10, ge=1)  # containers created at once by one scale or deploy
    container_pids_limit: int = Field(default=1024, ge=16)  # processes per container (fork bombs)
    container_log_max_size: str = Field(default="10m", pattern=r"^[1-9][0-9]*[kmg]$")  # json-file rotation
    container_log_max_files: int = Field(default=3, ge=1)
    max_cpu_shares: int = Field(default=1024, ge=2, le=262144)  # CPU weight a container may claim (1024 = 1 core)
    max_log_lines: int = Field(default=10000, ge=1)  # `log_lines` of GET /logs: 400 beyond
    run_output_max_bytes: int = Field(default=1024 * 1024, ge=1024)  # `deis run` output kept (its last bytes)
    max_log_follows_per_user: int = Field(default=4, ge=1)  # concurrent `logs?follow=true` streams: 429 beyond
    login_failures_per_user: int = Field(default=10, ge=1)  # failed logins per username per window: 429
    login_failures_per_address: int = Field(default=50, ge=1)  # failed logins per client address per window
    login_throttle_window: float = Field(default=300.0, gt=0)  # seconds
    password_hash_workers: int = Field(default=1, ge=1)  # threads hashing passwords (argon2): a flood waits there

    # Router instances in other containers (multi-host, README "Many machines"). In the controller:
    # `router_service` names the swarm service whose running tasks are the routers (WORKFLOW_SCHEDULER=swarm);
    # set, the controller runs no nginx of its own, answers the API on `host:port` for them, and writes routes
    # to each on `router_control_port` with the token in `router_token_file`. In `workflow router`: the same
    # port and token file, and `router_api_url`, where it sends the API hosts (the controller).
    router_service: str = ""
    router_control_port: int = Field(default=9090, ge=1, le=65535)
    router_token_file: Path | None = None
    router_api_url: str = "http://controller:8000"
    # Seconds the router waits for an app instance to accept a connection before trying another: a task on a
    # node that died stays silent (no RST), so this bounds what its death costs a request.
    router_connect_timeout: float = Field(default=1.0, gt=0, le=60)

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
            key = path.read_text().strip()
            if not key:  # a truncated file would silently key every stored secret on ""
                raise ValueError(f"the secret key file {path} is empty: restore it from a backup (or remove it to "
                                 f"generate a new key; stored registry passwords and tokens are then lost)")
            self.secret_key = key
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(48)
            path.touch(mode=0o600)
            path.write_text(key)
            self.secret_key = key
        return self.secret_key
