"""`deis tls`: the Workflow CLI v2.18.0 usage texts (`parser/tls.go`), verbatim."""

TOPIC = """
Valid commands for tls:

tls:info              view info about an application's TLS settings
tls:enable            enables the router to enforce https-only requests to an application
tls:disable           disables the router to enforce https-only requests to an application

Use 'deis help [command]' to learn more.
"""

DEFAULT = "tls:info"

COMMANDS = {
    "tls:info": """
Prints info about the current application's TLS settings.

Usage: deis tls:info [options]

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
    "tls:enable": """
Enable the router to enforce https-only requests to the current application.

Usage: deis tls:enable [options]

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
    "tls:disable": """
Disable the router from enforcing https-only requests to the current application.

Usage: deis tls:disable [options]

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
}
