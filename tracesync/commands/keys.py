"""``tracesync keys``: make API keys for the REST ingest and serve, and hash existing ones."""

from __future__ import annotations

import sys

import click

from tracesync.apikeys import hash_key, new_key

_ROLES = click.Choice(["viewer", "compliance", "operator"])


@click.group("keys")
def keys() -> None:
    """API keys of the REST ingest (one per source system) and of `tracesync serve` (with roles).

    Only a key's hash is configured (settings or keys file); the key itself goes to its user and
    is shown once. README: API keys.
    """


@keys.command("new")
@click.argument("name")
@click.option("--role", type=_ROLES, help="serve keys: the role it grants.")
def new(name: str, role: str | None) -> None:
    """Print a new random key for NAME (a source system such as MES, or a serve key's name),
    its hash, and the keys-file entry that admits it."""
    key = new_key()
    digest = hash_key(key)
    click.echo(f"key:  {key}")
    click.echo(f"hash: {digest}")
    click.echo("keys-file entry:")
    click.echo(_entry(name, digest, role))


@keys.command("hash")
@click.option("--name", help="Also print the keys-file entry for this name.")
@click.option("--role", type=_ROLES, help="serve keys: the role of that entry.")
def hash_(name: str | None, role: str | None) -> None:
    """Read a key from standard input (one line) and print its hash (never the key)."""
    key = sys.stdin.readline().strip()
    if not key:
        raise click.ClickException("no key on standard input")
    digest = hash_key(key)
    click.echo(digest)
    if name:
        click.echo(_entry(name, digest, role))


def _entry(name: str, digest: str, role: str | None) -> str:
    lines = ["[[key]]", f'name = "{name}"', f'hash = "{digest}"']
    if role:
        lines.append(f'role = "{role}"')
    return "\n".join(lines)
