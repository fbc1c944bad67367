"""`deis auth`: the Workflow CLI v2.18.0 usage texts (`parser/auth.go`), verbatim."""

TOPIC = """
Valid commands for auth:

auth:register          register a new user
auth:login             authenticate against a controller
auth:logout            clear the current user session
auth:passwd            change the password for the current user
auth:whoami            display the current user
auth:cancel            remove the current user account
auth:regenerate        regenerate user tokens

Use 'deis help [command]' to learn more.
"""

DEFAULT = None

COMMANDS = {
    "auth:register": """
Registers a new user with a Deis controller.

Usage: deis auth:register <controller> [options]

Arguments:
  <controller>
    fully-qualified controller URI, e.g. 'http://deis.local3.deisapp.com/'

Options:
  --username=<username>
    provide a username for the new account.
  --password=<password>
    provide a password for the new account.
  --email=<email>
    provide an email address.
  --login=true
    logs into the new account after registering.
  --ssl-verify=true
    enables/disables SSL certificate verification for API requests
""",
    "auth:login": """
Logs in by authenticating against a controller.

Usage: deis auth:login <controller> [options]

Arguments:
  <controller>
    a fully-qualified controller URI, e.g. "http://deis.local3.deisapp.com/".

Options:
  --username=<username>
    provide a username for the account.
  --password=<password>
    provide a password for the account.
  --ssl-verify=true
    enables/disables SSL certificate verification for API requests
""",
    "auth:logout": """
Logs out from a controller and clears the user session.

Usage: deis auth:logout

Options:
""",
    "auth:passwd": """
Changes the password for the current user.

Usage: deis auth:passwd [options]

Options:
  --password=<password>
    the current password for the account.
  --new-password=<new-password>
    the new password for the account.
  --username=<username>
    the account's username.
""",
    "auth:whoami": """
Displays the currently logged in user.

Usage: deis auth:whoami [options]

Options:
  --all
    fetch a more detailed description about the user.
""",
    "auth:cancel": """
Cancels and removes the current account.

Usage: deis auth:cancel [options]

Options:
  --username=<username>
    provide a username for the account.
  --password=<password>
    provide a password for the account.
  --yes
    force "yes" when prompted.
""",
    "auth:regenerate": """
Regenerates auth token, defaults to regenerating token for the current user.

Usage: deis auth:regenerate [options]

Options:
  -u --username=<username>
    specify user to regenerate. Requires admin privileges.
  --all
    regenerate token for every user. Requires admin privileges.
""",
}
