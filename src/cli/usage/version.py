"""`deis version`: the Workflow CLI v2.18.0 usage texts (`parser/version.go`), verbatim."""

TOPIC = None
DEFAULT = None

COMMANDS = {
    "version": """
Displays the client version.

Usage: deis version [options]

Options:
  -a --all
    list api and controller versions
""",
}
