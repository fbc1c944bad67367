"""`deis`: a Typer client of the Workflow controller REST API v2.3."""

__version__ = "2.3.0"
