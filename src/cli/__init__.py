"""`deis`: a client of the Workflow controller REST API v2.3 that reads its argv as the Workflow CLI does (docopt)."""

import sys

__version__ = "2.3.0"

# httpx imports its own command line (`httpx._main`: rich, click, pygments) whenever those are installed, as
# they are beside the dev tools: most of `deis ps`'s start-up, for nothing. A None entry makes that import
# fail, and httpx falls back to its stub `main`, as it does when they are not installed.
sys.modules.setdefault("httpx._main", None)
