"""`deis autoscale`: the Workflow CLI v2.18.0 usage texts (`parser/autoscale.go`), verbatim."""

TOPIC = """
Valid commands for autoscale:

autoscale:list   list autoscale options of an application
autoscale:set    turn on autoscale for an app
autoscale:unset  turn off autoscale for an app

Use 'deis help [command]' to learn more.
"""

DEFAULT = "autoscale:list"

COMMANDS = {
    "autoscale:list": """
Prints a list of autoscale options for the application.

Usage: deis autoscale:list [options]

Options:
  -a --app=<app>
    the uniquely identifiable name for the application.
""",
    "autoscale:set": """
Set autoscale option per process type for an app.

Usage: deis autoscale:set <process-type> --min=<min> --max=<max> --cpu-percent=<percent> [options]

Arguments:
  <process-type>
    the process type to add to the application's autoscale settings.
  --min=<min>
\tminimum replicas to keep around
  --max=<max>
\tmax replicas to scale up to
  --cpu-percent=<cpu-percent>
\ttarget CPU utilization

Options:
  -a --app=<app>
    the uniquely identifiable name of the application.
""",
    "autoscale:unset": """
Unset autoscale per process type for an app.

Usage: deis autoscale:unset <process-type> [options]

Arguments:
  <process-type>
    the process type to remove from the application's autoscale settings.

Options:
  -a --app=<app>
    the uniquely identifiable name of the application.
""",
}

# Not in the Go CLI: `--rps-per-container=<n>` and `--p95-ms=<ms>` (the router's counters) may stand in for, or
# join, `--cpu-percent`. Its usage text above stays verbatim; this one parses when either is given.
SET_ON_REQUESTS = COMMANDS["autoscale:set"].replace("--cpu-percent=<percent> [options]",
                                                    "[--cpu-percent=<percent>] [options]")
