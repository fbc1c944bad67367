"""`deis`: the root Typer app. Commands are registered by their Workflow CLI names (`apps:create`) plus the
shortcuts the Go CLI knows (`create`, `pull`, `scale`, bare nouns for `<noun>:list` …)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any

import typer

from cli import __version__, client, output
from cli import profile as profiles
from cli.commands import (
    apps,
    auth,
    builds,
    certs,
    config,
    domains,
    healthchecks,
    keys,
    limits,
    perms,
    ps,
    registry,
    releases,
    settings,
    tags,
    users,
)
from cli.errors import CLIError

app = typer.Typer(
    name="deis",
    help="The Deis Workflow command-line client: manage apps on a Workflow controller.\n\n"
    "Shortcuts such as `create`, `pull`, `scale`, `ps` or `config` are listed by `deis shortcuts`.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

_PASSTHROUGH = {"allow_interspersed_args": False, "ignore_unknown_options": True}
SHORTCUTS: dict[str, str] = {}


def _guard(func: Callable[..., Any]) -> Callable[..., Any]:
    """Errors are printed once, here: `Error: <message>` on stderr, exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CLIError as exc:
            output.fail(exc.message)
            raise typer.Exit(exc.exit_code) from None
        except ValueError as exc:  # e.g. a body that is not the JSON the contract promises
            output.fail(f"unexpected answer from the controller: {exc}")
            raise typer.Exit(1) from None
        except OSError as exc:
            output.fail(str(exc))
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            output.line()
            raise typer.Exit(130) from None

    return wrapper


def register(func: Callable[..., Any], name: str, *aliases: str, context: dict | None = None) -> None:
    guarded = _guard(func)
    app.command(name, context_settings=context)(guarded)
    for alias in aliases:
        SHORTCUTS[alias] = name
        app.command(alias, hidden=True, context_settings=context)(guarded)


def _version_callback(value: bool) -> None:
    if value:
        output.line(__version__)
        raise typer.Exit()


@app.callback()
def root(
    config_: Annotated[
        str | None,
        typer.Option(
            "-c",
            "--config",
            metavar="PROFILE",
            help="profile name (~/.deis/<name>.json) or path to a .json profile; "
            "defaults to $DEIS_PROFILE, then 'client'.",
        ),
    ] = None,
    version_: Annotated[
        bool,
        typer.Option(
            "-v", "--version", callback=_version_callback, is_eager=True, help="print the CLI version and exit."
        ),
    ] = False,
) -> None:
    profiles.config_option = config_
    client.reset_warning()


def version(
    all_: Annotated[bool, typer.Option("--all", help="also print the API versions of client and controller.")] = False,
) -> None:
    """Prints the CLI version."""
    if not all_:
        output.line(__version__)
        return
    output.line(f"Workflow CLI Version:            {__version__}")
    output.line(f"Workflow CLI API Version:        {client.API_VERSION}")
    prof = profiles.load()
    response = client.Client.from_profile(prof).raw("GET", "/healthz", auth=False)
    output.line(f"Workflow Controller API Version: {response.headers.get('DEIS_API_VERSION', '')}")


def help_(
    ctx: typer.Context,
    topic: Annotated[str | None, typer.Argument(metavar="[COMMAND]", help="the command to describe.")] = None,
) -> None:
    """Shows help for deis or one of its commands."""
    root_ctx = ctx.parent or ctx
    group = root_ctx.command
    if topic and hasattr(group, "get_command"):
        sub = group.get_command(root_ctx, topic)
        if sub is None:
            raise CLIError(f"'{topic}' is not a deis command. See 'deis help'.")
        with type(root_ctx)(sub, info_name=topic, parent=root_ctx) as sub_ctx:
            output.write(sub.get_help(sub_ctx) + "\n")
        return
    output.write(group.get_help(root_ctx) + "\n")


def shortcuts() -> None:
    """Lists the shortcuts (aliases) for commands."""
    output.line("".join(f"{alias} -> {SHORTCUTS[alias]}\n" for alias in sorted(SHORTCUTS)))


# auth
register(auth.register, "auth:register", "register")
register(auth.login, "auth:login", "login")
register(auth.logout, "auth:logout", "logout")
register(auth.whoami, "auth:whoami", "whoami")
register(auth.passwd, "auth:passwd", "passwd")
register(auth.regenerate, "auth:regenerate", "regenerate")
register(auth.cancel, "auth:cancel", "cancel")
# apps
register(apps.create, "apps:create", "create")
register(apps.list_, "apps:list", "apps")
register(apps.info, "apps:info", "info")
register(apps.open_, "apps:open", "open")
register(apps.logs, "apps:logs", "logs")
register(apps.run, "apps:run", "run", context=_PASSTHROUGH)
register(apps.destroy, "apps:destroy", "destroy")
register(apps.transfer, "apps:transfer", "transfer")
# builds
register(builds.create, "builds:create", "pull")
register(builds.list_, "builds:list", "builds")
# ps
register(ps.list_, "ps:list", "ps")
register(ps.scale, "ps:scale", "scale")
register(ps.restart, "ps:restart", "restart")
# releases
register(releases.list_, "releases:list", "releases")
register(releases.info, "releases:info")
register(releases.rollback, "releases:rollback", "rollback")
# config
register(config.list_, "config:list", "config")
register(config.set_, "config:set")
register(config.unset, "config:unset")
register(config.pull, "config:pull")
register(config.push, "config:push")
# limits, healthchecks, tags, registry
register(limits.list_, "limits:list", "limits")
register(limits.set_, "limits:set")
register(limits.unset, "limits:unset")
register(healthchecks.list_, "healthchecks:list", "healthchecks")
register(healthchecks.set_, "healthchecks:set")
register(healthchecks.unset, "healthchecks:unset")
register(tags.list_, "tags:list", "tags")
register(tags.set_, "tags:set")
register(tags.unset, "tags:unset")
register(registry.list_, "registry:list", "registry")
register(registry.set_, "registry:set")
register(registry.unset, "registry:unset")
# domains, certs, tls
register(domains.list_, "domains:list", "domains")
register(domains.add, "domains:add")
register(domains.remove, "domains:remove")
register(certs.list_, "certs:list", "certs")
register(certs.add, "certs:add")
register(certs.remove, "certs:remove")
register(certs.info, "certs:info")
register(certs.attach, "certs:attach")
register(certs.detach, "certs:detach")
register(settings.tls_info, "tls:info", "tls")
register(settings.tls_enable, "tls:enable")
register(settings.tls_disable, "tls:disable")
# app settings
register(settings.maintenance_info, "maintenance:info", "maintenance")
register(settings.maintenance_on, "maintenance:on")
register(settings.maintenance_off, "maintenance:off")
register(settings.routing_info, "routing:info", "routing")
register(settings.routing_enable, "routing:enable")
register(settings.routing_disable, "routing:disable")
register(settings.whitelist_list, "whitelist:list", "whitelist")
register(settings.whitelist_add, "whitelist:add")
register(settings.whitelist_remove, "whitelist:remove")
register(settings.labels_list, "labels:list", "labels")
register(settings.labels_set, "labels:set")
register(settings.labels_unset, "labels:unset")
register(settings.autoscale_list, "autoscale:list", "autoscale")
register(settings.autoscale_set, "autoscale:set")
register(settings.autoscale_unset, "autoscale:unset")
# people and keys
register(perms.list_, "perms:list", "perms", "sharing", "sharing:list")
register(perms.create, "perms:create", "sharing:add")
register(perms.delete, "perms:delete", "sharing:remove")
register(users.list_, "users:list", "users")
register(keys.list_, "keys:list", "keys")
register(keys.add, "keys:add")
register(keys.remove, "keys:remove")
# meta
register(version, "version")
register(shortcuts, "shortcuts")
register(help_, "help")


def main() -> None:
    app(prog_name="deis")


if __name__ == "__main__":
    main()
