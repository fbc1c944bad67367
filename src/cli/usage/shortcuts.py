"""`deis shortcuts`: the Workflow CLI v2.18.0 usage texts (`parser/shortcuts.go`), verbatim."""

TOPIC = """
Valid commands for shortcuts:

shortcuts:list       list all relevant shortcuts for the CLI

Use 'deis help [command]' to learn more.
"""

DEFAULT = "shortcuts:list"

COMMANDS = {
    "shortcuts:list": """
Lists all relevant shortcuts for the CLI

Usage: deis shortcuts:list
""",
}
