"""The Workflow CLI v2.18.0 usage texts: `ROOT` from `deis.go`, one module per topic from `parser/<topic>.go`.

Each topic module holds `TOPIC` (the `Valid commands for …` text, printed as it is), `DEFAULT` (the command
a bare `deis <topic>` runs; None: the bare topic prints `TOPIC`) and `COMMANDS` (name → docopt usage string,
which both parses the command's argv and is its help text). Copied verbatim: these texts are the contract.
"""

from __future__ import annotations

import importlib
from types import ModuleType

ROOT = """
The Deis command-line client issues API calls to a Deis controller.

Usage: deis <command> [<args>...]

Options:
  -h --help
    display help information
  -v --version
    display client version
  -c --config=<config>
    path to configuration file. Equivalent to
    setting $DEIS_PROFILE. Defaults to ~/.deis/config.json.
    If value is not a filepath, will assume location ~/.deis/client.json

Auth commands, use 'deis help auth' to learn more::

  register      register a new user with a controller
  login         login to a controller
  logout        logout from the current controller

Subcommands, use 'deis help [subcommand]' to learn more::

  apps          manage applications used to provide services
  autoscale     manage autoscale for applications
  builds        manage builds created using 'git push'
  certs         manage SSL endpoints for an app
  config        manage environment variables that define app config
  domains       manage and assign domain names to your applications
  git           manage git for applications
  healthchecks  manage healthchecks for applications
  keys          manage ssh keys used for 'git push' deployments
  labels        manage labels of application
  limits        manage resource limits for your application
  perms         manage permissions for applications
  ps            manage processes inside an app container
  registry      manage private registry information for your application
  releases      manage releases of an application
  routing       manage routability of an application
  maintenance   manage maintenance mode of an application
  tags          manage tags for application containers
  tls           manage TLS settings for applications
  users         manage users
  version       display client version
  whitelist     manage whitelisted addresses of an application

Shortcut commands, use 'deis shortcuts' to see all::

  create        create a new application
  destroy       destroy an application
  info          view information about the current app
  logs          view aggregated log info for the app
  open          open a URL to the app in a browser
  pull          imports an image and deploys as a new release
  run           run a command in an ephemeral app container
  scale         scale processes by type (web=2, worker=1)

Use 'git push deis master' to deploy to an application.
"""

TOPICS = frozenset(
    (
        "apps",
        "auth",
        "autoscale",
        "builds",
        "certs",
        "config",
        "domains",
        "git",
        "healthchecks",
        "keys",
        "labels",
        "limits",
        "maintenance",
        "perms",
        "ps",
        "registry",
        "releases",
        "routing",
        "shortcuts",
        "tags",
        "tls",
        "users",
        "version",
        "whitelist",
    )
)


def topic(name: str) -> ModuleType | None:
    """The usage module of topic `name`, imported on first use (start-up stays cheap)."""
    return importlib.import_module(f"cli.usage.{name}") if name in TOPICS else None
