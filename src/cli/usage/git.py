"""`deis git`: the Workflow CLI v2.18.0 usage texts (`parser/git.go`), verbatim."""

TOPIC = """
Valid commands for git:

git:remote          Adds git remote of application to repository
git:remove          Removes git remote of application from repository

Use 'deis help [command]' to learn more.
"""

DEFAULT = None

COMMANDS = {
    "git:remote": """
Adds git remote of application to repository

Usage: deis git:remote [options]

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
  -r --remote=REMOTE
    name of remote to create. [default: deis]
  -f --force
    overwrite remote of the given name if it already exists.
""",
    "git:remove": """
Removes git remotes of application from repository.

Usage: deis git:remove [options]

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
}
