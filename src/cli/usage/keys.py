"""`deis keys`: the Workflow CLI v2.18.0 usage texts (`parser/keys.go`), verbatim."""

TOPIC = """
Valid commands for SSH keys:

keys:list        list SSH keys for the logged in user
keys:add         add an SSH key
keys:remove      remove an SSH key

Use 'deis help [command]' to learn more.
"""

DEFAULT = "keys:list"

COMMANDS = {
    "keys:list": """
Lists SSH keys for the logged in user.

Usage: deis keys:list [options]

Options:
  -l --limit=<num>
    the maximum number of results to display, defaults to config setting
""",
    "keys:add": """
Adds SSH keys for the logged in user.

Usage: deis keys:add [<key>]

Arguments:
  <key>
    a local file path to an SSH public key used to push application code.
""",
    "keys:remove": """
Removes an SSH key for the logged in user.

Usage: deis keys:remove <key>

Arguments:
  <key>
    the SSH public key to revoke source code push access.
""",
}
