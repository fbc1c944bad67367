"""`deis whitelist`: the Workflow CLI v2.18.0 usage texts (`parser/whitelist.go`), verbatim."""

TOPIC = """
Valid commands for whitelist:

whitelist:add           adds addresses to the application's whitelist
whitelist:list          list addresses in the application's whitelist
whitelist:remove        remove addresses from the application's whitelist

Use 'deis help [command]' to learn more.
"""

DEFAULT = "whitelist:list"

COMMANDS = {
    "whitelist:add": """
Adds addresses to an application whitelist.

Usage: deis whitelist:add <addresses> [options]

Arguments:
  <addresses>
    comma-delimited list of addresses(using IP or CIDR notation) to be whitelisted for the application, such as '1.2.3.4' or '1.2.3.4,0.0.0.0/0'.

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
    "whitelist:list": """
Lists whitelisted addresses for an application.

Usage: deis whitelist:list [options]

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
    "whitelist:remove": """
Removes addresses from an application whitelist.

Usage: deis whitelist:remove <addresses> [options]

Arguments:
  <addresses>
    comma-delimited list of addresses(using IP or CIDR notation) to be whitelisted for the application, such as '1.2.3.4' or "1.2.3.4,0.0.0.0/0".

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
}
