"""keys:list, keys:add, keys:remove (the caller's SSH public keys)."""

from __future__ import annotations

import os
from urllib.parse import quote

from cli import argv, output
from cli import profile as profiles
from cli.commands._common import JSON, read_file, session
from cli.errors import CLIError

_KEY_TYPES = (
    "ssh-rsa",
    "ssh-dss",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


def read_key(path: str) -> tuple[str, str]:
    """(id, public) of a public key file; the id is the key's comment, else the file's base name."""
    contents = read_file(path).strip()
    fields = contents.split()
    if len(fields) < 2 or fields[0] not in _KEY_TYPES:
        raise CLIError(f"{path} is not a valid ssh key")
    backup = os.path.basename(path).split(".")[0]
    key_id = " ".join(fields[2:]) if len(fields) > 2 else backup
    return key_id, contents


def list_(limit: int | None = None, json_: bool = False) -> None:
    """Lists SSH keys for the logged in user."""
    prof, client = session()
    keys, count, raw = client.paged("/v2/keys/", limit)
    if json_:
        output.raw_json(raw)
        return
    output.write(f"=== {prof.username} Keys" + output.limit_count(len(keys), count))
    rows = []
    for k in keys:
        public = k.get("public", "")
        rows.append([k.get("id", ""), f"{public[:16]}...{public[-10:]}"])
    output.write(output.tabwriter(rows, padchar=" "))


def _choose() -> str:
    folder = os.path.join(profiles.home(), ".ssh")
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".pub"))
    except OSError:
        names = []
    found = []
    for name in names:
        try:
            found.append((os.path.join(folder, name), read_key(os.path.join(folder, name))[0]))
        except CLIError as exc:
            output.line(str(exc))
    output.line("Found the following SSH public keys:")
    for i, (path, key_id) in enumerate(found, 1):
        output.line(f"{i}) {os.path.basename(path)} {key_id}")
    output.line("0) Enter path to pubfile (or use keys:add <key_path>)")
    selected = output.prompt("Which would you like to use with Deis? ").strip()
    try:
        number = int(selected)
    except ValueError:
        raise CLIError(f"{selected} is not a valid integer") from None
    if number < 0 or number > len(found):
        raise CLIError(f"{number} is not a valid option")
    if number == 0:
        return output.prompt("Enter the path to the pubkey file: ").strip()
    return found[number - 1][0]


def add(key: str | None = None) -> None:
    """Adds an SSH public key for the logged in user."""
    _, client = session()
    if not key:
        if not output.stdin_is_tty():
            raise CLIError("a key file is required when stdin is not a terminal")
        key = _choose()
    key_id, public = read_key(key)
    output.write(f"Uploading {os.path.basename(key)} to deis...")
    try:
        client.post("/v2/keys/", {"id": key_id, "public": public})
    except CLIError:
        output.line()
        raise
    output.line(" done")


def remove(key: str) -> None:
    """Removes an SSH key for the logged in user."""
    _, client = session()
    output.write(f"Removing {key} SSH Key...")
    try:
        client.delete(f"/v2/keys/{quote(key, safe='@')}")
    except CLIError:
        output.line()
        raise
    output.line(" done")


EXTRAS = {"keys:list": JSON}
COMMANDS = {
    "keys:list": lambda a: list_(argv.limit(a["--limit"]), a["--json"]),
    "keys:add": lambda a: add(a["<key>"]),
    "keys:remove": lambda a: remove(a["<key>"]),
}
