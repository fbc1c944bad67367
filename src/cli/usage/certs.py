"""`deis certs`: the Workflow CLI v2.18.0 usage texts (`parser/certs.go`), verbatim."""

TOPIC = """
Valid commands for certs:

certs:list            list SSL certificates for an app
certs:add             add an SSL certificate to an app
certs:remove          remove an SSL certificate from an app
certs:info            get detailed informaton about the certificate
certs:attach          attach an SSL certificate to a domain
certs:detach          detach an SSL certificate from a domain

Use 'deis help [command]' to learn more.
"""

DEFAULT = "certs:list"

COMMANDS = {
    "certs:list": """
Show certificate information for an SSL application.

Usage: deis certs:list [options]

Options:
  -l --limit=<num>
    the maximum number of results to display, defaults to config setting
""",
    "certs:add": """
Binds a certificate/key pair to an application.

Usage: deis certs:add <name> <cert> <key> [options]

Arguments:
  <name>
    Name of the certificate to reference it by.
  <cert>
    The public key of the SSL certificate.
  <key>
    The private key of the SSL certificate.

Options:
""",
    "certs:remove": """
removes a certificate/key pair from the application.

Usage: deis certs:remove <name> [options]

Arguments:
  <name>
    the name of the cert to remove from the app.

Options:
""",
    "certs:info": """
fetch more detailed information about a certificate

Usage: deis certs:info <name> [options]

Arguments:
  <name>
    the name of the cert to get information from

Options:
""",
    "certs:attach": """
attach a certificate to a domain.

Usage: deis certs:attach <name> <domain> [options]

Arguments:
  <name>
    name of the certificate to attach domain to
  <domain>
    common name of the domain to attach to (needs to already be in the system)

Options:
""",
    "certs:detach": """
detach a certificate from a domain.

Usage: deis certs:detach <name> <domain> [options]

Arguments:
  <name>
    name of the certificate to deatch from a domain
  <domain>
    common name of the domain to detach from

Options:
""",
}
