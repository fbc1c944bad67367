"""`deis registry`: the Workflow CLI v2.18.0 usage texts (`parser/registry.go`), verbatim."""

TOPIC = """
Valid commands for registry:

registry:list        list registry info for an app
registry:set         set registry info for an app
registry:unset       unset registry info for an app

Use 'deis help [command]' to learn more.
"""

DEFAULT = "registry:list"

COMMANDS = {
    "registry:list": """
Lists registry information for an application.

Usage: deis registry:list [options]

Options:
  -a --app=<app>
    the uniquely identifiable name of the application.
""",
    "registry:set": """
Sets registry information for an application. These credentials are the same as those used for
'docker login' to the private registry.

Usage: deis registry:set [options] <key>=<value>...

Arguments:
  <key>
    the uniquely identifiable name for logging into the registry. Valid keys are "username" or
    "password"
  <value>
    the value of said environment variable. For example, "bob" or "mysecretpassword"

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
    "registry:unset": """
Unsets registry information for an application.

Usage: deis registry:unset [options] <key>...

Arguments:
  <key> the registry key to unset, for example: "username" or "password"

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
}
