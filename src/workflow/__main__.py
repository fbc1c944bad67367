"""`workflow serve | router | db upgrade`: the platform in one process, a router instance, the schema."""

from __future__ import annotations

import typer

from .config import Settings

cli = typer.Typer(help="Workflow: a self-hosted PaaS for Docker images (Deis Workflow v2.3 API).",
                  no_args_is_help=True, add_completion=False)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


@db_cli.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply the Alembic migrations."""
    from .files import private_data_dir
    from .migrate import upgrade

    settings = Settings()
    private_data_dir(settings)
    upgrade(settings.database_url, revision)


@cli.command("serve")
def serve() -> None:
    """Run the platform in the foreground: API, router (nginx) and reconciler."""
    from .runtime import ConfigurationError, check_settings
    from .server import run

    settings = Settings()
    try:
        check_settings(settings)
    except ConfigurationError as exc:
        typer.echo(f"workflow: {exc}", err=True)
        raise typer.Exit(2) from None
    run(settings)


@cli.command("router")
def router() -> None:
    """Run a router instance alone (nginx, routes written by a controller elsewhere: deploy/stack.yml)."""
    import asyncio
    import logging

    from .router.instance import serve as serve_router
    from .router.table import RouterError

    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve_router(settings))
    except RouterError as exc:
        typer.echo(f"workflow router: {exc.message}", err=True)
        raise typer.Exit(1) from None


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
