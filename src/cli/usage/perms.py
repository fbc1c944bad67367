"""`deis perms`: the Workflow CLI v2.18.0 usage texts (`parser/perms.go`), verbatim."""

TOPIC = """
Valid commands for perms:

perms:list            list permissions granted on an app
perms:create          create a new permission for a user
perms:delete          delete a permission for a user

Use 'deis help perms:[command]' to learn more.
"""

DEFAULT = "perms:list"

COMMANDS = {
    "perms:list": """
Lists all users with permission to use an app, or lists all users with system
administrator privileges.

Usage: deis perms:list [-a --app=<app>|--admin|--admin --limit=<num>]

Options:
  -a --app=<app>
    lists all users with permission to <app>. <app> is the uniquely identifiable name
    for the application.
  --admin
    lists all users with system administrator privileges.
  -l --limit=<num>
    the maximum number of results to display, defaults to config setting
""",
    "perms:create": """
Gives another user permission to use an app, or gives another user
system administrator privileges.

Usage: deis perms:create <username> [-a --app=<app>|--admin]

Arguments:
  <username>
    the name of the new user.

Options:
  -a --app=<app>
    grants <username> permission to use <app>. <app> is the uniquely identifiable name
    for the application.
  --admin
    grants <username> system administrator privileges.
""",
    "perms:delete": """
Revokes another user's permission to use an app, or revokes another user's system
administrator privileges.

Usage: deis perms:delete <username> [-a --app=<app>|--admin]

Arguments:
  <username>
    the name of the user.

Options:
  -a --app=<app>
    revokes <username> permission to use <app>. <app> is the uniquely identifiable name
    for the application.
  --admin
    revokes <username> system administrator privileges.
""",
}
