"""`deis`: a client of the Workflow controller REST API v2.3 that reads its argv as the Workflow CLI does (docopt)."""

__version__ = "2.3.0"
