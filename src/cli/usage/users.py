"""`deis users`: the Workflow CLI v2.18.0 usage texts (`parser/users.go`), verbatim."""

TOPIC = """
Valid commands for users:

users:list        list all registered users

Use 'deis help [command]' to learn more.
"""

DEFAULT = "users:list"

COMMANDS = {
    "users:list": """
Lists all registered users. Workflow administrators will be marked with a *.
Requires admin privileges.

Usage: deis users:list [options]

Options:
  -l --limit=<num>
    the maximum number of results to display, defaults to config setting
""",
}
