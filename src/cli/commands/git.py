"""git:remote, git:remove: this Workflow deploys images (`deis pull`) and runs no git builder, so there is
no remote to add or remove; both say so instead of writing a remote nothing answers."""

from __future__ import annotations

from cli.errors import CLIError

NO_BUILDER = (
    "this Workflow controller has no git builder: deploy an image with 'deis pull <image>' instead of git push"
)


def unsupported() -> None:
    raise CLIError(NO_BUILDER)


EXTRAS: dict = {}
COMMANDS = {
    "git:remote": lambda a: unsupported(),
    "git:remove": lambda a: unsupported(),
}
