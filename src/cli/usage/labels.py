"""`deis labels`: the Workflow CLI v2.18.0 usage texts (`parser/labels.go`), verbatim."""

TOPIC = """
Valid commands for labels:

labels:list   list application's labels
labels:set    add new application's label
labels:unset  remove application's label

Use 'deis help [command]' to learn more.
"""

DEFAULT = "labels:list"

COMMANDS = {
    "labels:list": """
Prints a list of labels of the application.

Usage: deis labels:list [options]

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
    "labels:set": """
Sets labels for an application.

A label is a key/value pair used to label an application. This label is a general information for deis user.
Mostly used for administration/maintenance information, note for application. This information isn't send to scheduler.

Usage: deis labels:set [options] <key>=<value>...

Arguments:
  <key> the label key, for example: "git_repo" or "team"
  <value> the label value, for example: "https://github.com/deis/workflow" or "frontend"

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
    "labels:unset": """
Unsets labels for an application.

Usage: deis labels:unset [options] <key>...

Arguments:
  <key> the label key to unset, for example: "git_repo" or "team"

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
}
