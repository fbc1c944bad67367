"""`deis routing`: the Workflow CLI v2.18.0 usage texts (`parser/routing.go`), verbatim."""

TOPIC = """
Valid commands for routing:

routing:info       view routability of an application
routing:enable     enable routing for an app
routing:disable    disable routing for an app

Use 'deis help [command]' to learn more.
"""

DEFAULT = "routing:info"

COMMANDS = {
    "routing:info": """
Prints info about the current application's routability.

Usage: deis routing:info [options]

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
    "routing:enable": """
Enables routability for an app.

Usage: deis routing:enable [options]

Options:
  -a --app=<app>
    the uniquely identifiable name of the application.
""",
    "routing:disable": """
Disables routability for an app.

Usage: deis routing:disable [options]

Options:
  -a --app=<app>
    the uniquely identifiable name of the application.
""",
}
