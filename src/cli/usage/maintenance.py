"""`deis maintenance`: the Workflow CLI v2.18.0 usage texts (`parser/maintenance.go`), verbatim."""

TOPIC = """
Valid commands for maintenance:

maintenance:info   view maintenance mode of an application
maintenance:on     turn on maintenance for an app
maintenance:off    turn off maintenance for an app

Use 'deis help [command]' to learn more.
"""

DEFAULT = "maintenance:info"

COMMANDS = {
    "maintenance:info": """
Prints info about the current application's maintenance state.

Usage: deis maintenance:info [options]

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
    "maintenance:on": """
Enables maintenance mode for an app.

Usage: deis maintenance:on [options]

Options:
  -a --app=<app>
    the uniquely identifiable name of the application.
""",
    "maintenance:off": """
Disables maintenance mode for an app.

Usage: deis maintenance:off [options]

Options:
  -a --app=<app>
    the uniquely identifiable name of the application.
""",
}
