"""`deis`: routes argv the way the Workflow CLI's `deis.go` and `parser/<topic>.go` do.

The upstream usage texts (`cli.usage`) drive everything a user sees before a command runs: the root help,
each topic's `Valid commands for …` table, each command's docopt usage (which is also its parser). A
command is then one function in `cli.commands.<module>`, looked up in that module's `COMMANDS` table.
Only the topic's modules are imported, so `deis --version` starts fast.
"""

from __future__ import annotations

import importlib
import os
import sys

from cli import __version__, output, usage
from cli import argv as argv_rules
from cli.errors import CLIError

# topic → the module under cli.commands that runs its commands.
MODULES = {
    "apps": "apps",
    "auth": "auth",
    "autoscale": "settings",
    "builds": "builds",
    "certs": "certs",
    "config": "config",
    "domains": "domains",
    "git": "git",
    "healthchecks": "healthchecks",
    "keys": "keys",
    "labels": "settings",
    "limits": "limits",
    "maintenance": "settings",
    "perms": "perms",
    "ps": "ps",
    "registry": "registry",
    "releases": "releases",
    "routing": "settings",
    "shortcuts": "meta",
    "tags": "tags",
    "tls": "settings",
    "users": "users",
    "version": "meta",
    "whitelist": "settings",
}


def print_usage() -> None:
    """`parser.PrintUsage`: no such command."""
    output.error("Found no matching command, try 'deis help'\nUsage: deis <command> [<args>...]\n")


def run_command(topic: str, name: str, doc: str, args: list[str]) -> int:
    module = importlib.import_module(f"cli.commands.{MODULES[topic]}")
    extras, args = argv_rules.take_extras(args, module.EXTRAS.get(name, {}))
    values, args = argv_rules.take_values(args, getattr(module, "VALUES", {}).get(name, ()))
    if values:  # our options may stand in for one the upstream usage requires (autoscale:set --cpu-percent)
        doc = getattr(module, "USAGE_WITH_VALUES", {}).get(name, doc)
    try:
        parsed = argv_rules.parse(doc, args)
    except argv_rules.Exit as exc:
        if exc.message:
            output.error_line(exc.message)
        return exc.code
    parsed.update(extras)
    parsed.update(values)
    return guarded(module.COMMANDS[name], parsed)


def guarded(command, parsed: dict) -> int:
    """Errors are printed once, here: `Error: <message>` on stderr, exit 1."""
    try:
        return command(parsed) or 0
    except CLIError as exc:
        output.fail(exc.message)
        return exc.exit_code
    except ValueError as exc:  # e.g. a body that is not the JSON the contract promises
        output.fail(f"unexpected answer from the controller: {exc}")
        return 1
    except OSError as exc:
        output.fail(str(exc))
        return 1
    except KeyboardInterrupt:
        output.line()
        return 130


def run_topic(topic: str, args: list[str]) -> int:
    """One `parser.<Topic>` function: a command, the topic's help, its default command, or no match."""
    texts = usage.topic(topic)
    name = args[0]
    if texts.TOPIC is None:  # `version`: a topic that is one command, parsed whatever follows its name
        return run_command(topic, topic, texts.COMMANDS[topic], args)
    if name in texts.COMMANDS:
        return run_command(topic, name, texts.COMMANDS[name], args)
    if texts.DEFAULT is None:  # `auth`, `git`: only the bare topic prints its commands, no `-h` test
        if name == topic:
            output.write(texts.TOPIC)
        else:
            print_usage()
        return 0
    if len(args) > 1 and args[1] in argv_rules.HELP_FLAGS:
        output.write(texts.TOPIC)
        return 0
    if name == topic:
        return run_command(topic, texts.DEFAULT, texts.COMMANDS[texts.DEFAULT], [texts.DEFAULT, *args[1:]])
    print_usage()  # `deis apps:nope`: the Go CLI says so and exits 0
    return 0


def run_plugin(topic: str, args: list[str]) -> int:
    """An unknown topic runs `deis-<topic>` from PATH, as the Go CLI does, else prints the usage."""
    import shutil

    binary = shutil.which("deis-" + topic) if topic else None
    if not binary:
        print_usage()
        return 1
    rest = args[0].split(topic + ":", 1)
    plugin_args = ([rest[1]] if len(rest) > 1 else []) + args[1:]
    sys.stdout.flush()
    os.execv(binary, ["deis-" + topic, *plugin_args])
    return 1  # not reached


def run(args: list[str]) -> int:
    """Run `deis ARGS`; returns the exit code."""
    config, args = argv_rules.take_config(list(args))
    topic, args = argv_rules.route(args)
    if not args:
        output.error_line("Usage: deis <command> [<args>...]")
        return 1
    if args == ["version"]:  # `deis --version`: answered before anything else is imported
        output.line(__version__)
        return 0
    from cli import profile as profiles

    profiles.config_option = config
    if topic == "help":
        output.write(usage.ROOT)
        return 0
    if topic in MODULES:
        return run_topic(topic, args)
    return run_plugin(topic, args)


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
