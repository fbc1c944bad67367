"""`deis tags`: the Workflow CLI v2.18.0 usage texts (`parser/tags.go`), verbatim."""

TOPIC = """
Valid commands for tags:

tags:list        list tags for an app
tags:set         set tags for an app
tags:unset       unset tags for an app

Use 'deis help [command]' to learn more.
"""

DEFAULT = "tags:list"

COMMANDS = {
    "tags:list": """
Lists tags for an application.

Usage: deis tags:list [options]

Options:
  -a --app=<app>
    the uniquely identifiable name of the application.
""",
    "tags:set": """
Sets tags for an application.

A tag is a key/value pair used to tag an application's containers and is passed to the
scheduler. This is often used to restrict workloads to specific hosts matching the
scheduler-configured metadata.

Usage: deis tags:set [options] <key>=<value>...

Arguments:
  <key> the tag key, for example: "environ" or "rack"
  <value> the tag value, for example: "prod" or "1"

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
    "tags:unset": """
Unsets tags for an application.

Usage: deis tags:unset [options] <key>...

Arguments:
  <key> the tag key to unset, for example: "environ" or "rack"

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
}
