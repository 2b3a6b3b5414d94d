"""`flask --app app backup --output FILE`, `restore --input FILE` and the `keys` group
(`keys rotate`, `keys backup-keygen`): encrypted backups and the data key's rotation (the README's
"Backups and keys" says who holds which key).

Like the other operator commands they print plain messages, exit 1 when the request cannot be
done and 2 when the command line is wrong; a progress bar on a terminal for long runs.
"""

from __future__ import annotations

import base64
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from bot.runtime import current_runtime
from storage import backups, key_rotation
from storage.audit_log import audit
from storage.backup_crypto import BackupCryptoError, new_identity, parse_identity, parse_recipient
from storage.crypto import Vault, load_or_create_data_key

keys_group = AppGroup("keys", help="The server's data key and the backup keys.")
OUTPUT = click.Path(dir_okay=False, path_type=Path)
INPUT = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


@contextmanager
def _progress(label: str, total: int | None) -> Iterator:
    """A progress bar on stderr, only when a person is watching a terminal."""
    if not sys.stderr.isatty():
        yield lambda done: None
        return
    with click.progressbar(length=total, label=f"{label:<10}", file=sys.stderr, show_pos=total is None) as bar:
        yield bar.update


def _private_write(path: Path, text: str) -> None:
    with backups.private_output(path) as handle:
        handle.write(text.encode())


# --- backup ---------------------------------------------------------------------------------

@click.command("backup")
@with_appcontext
@click.option("--output", required=True, type=OUTPUT, metavar="FILE", help="Where to write the backup (mode 0600).")
@click.option("--recipient", "recipients", multiple=True, metavar="PUBLIC_KEY",
              help="A backup public key to seal to (repeatable); default: BACKUP_RECIPIENTS.")
def backup_command(output: Path, recipients: tuple[str, ...]) -> None:
    """Write a consistent, encrypted snapshot of the database to FILE, while the service runs."""
    runtime = current_runtime()
    settings = runtime.settings
    try:
        sealed_to = [parse_recipient(key) for key in (recipients or settings.backup_recipients)]
    except ValueError as error:
        raise click.UsageError(f"--recipient: {error}") from None
    if not sealed_to:
        raise click.ClickException("no backup public key: set BACKUP_RECIPIENTS (make one with "
                                   "`flask --app app keys backup-keygen` on the machine that will keep it)")
    data_key = load_or_create_data_key(settings.data_key_file)
    partial = output.with_name(output.name + ".partial")
    started = time.perf_counter()
    try:
        with backups.private_output(partial) as handle, _progress("backup", _database_size(runtime)) as step:
            written = backups.write_backup(runtime.db, handle, sealed_to, data_key=data_key,
                                           secret_key=settings.secret_key, now=runtime.clock(), progress=step)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, output)  # FILE is a whole backup or not there: never half of one
    except backups.BackupError as error:
        partial.unlink(missing_ok=True)
        raise click.ClickException(str(error)) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    elapsed = time.perf_counter() - started
    with runtime.transaction() as session:
        audit(session, now=runtime.clock(), action="backup",
              detail=f"{written.manifest['database']}, {output.stat().st_size} bytes, {len(sealed_to)} recipient(s)")
    counts = written.manifest["counts"]
    click.echo(f"Backup written to {output} in {elapsed:.1f} s: {output.stat().st_size} bytes, "
               f"{counts.get('reports', 0)} reports, {counts.get('audit_log', 0)} audit entries, "
               f"schema {written.manifest['revision']}; sealed to {len(sealed_to)} backup key(s).")


def _database_size(runtime) -> int | None:
    if backups.kind_of(runtime.settings.database_url) != "sqlite":
        return None
    return Path(runtime.db.url.database).stat().st_size


# --- restore --------------------------------------------------------------------------------

@click.command("restore")
@with_appcontext
@click.option("--input", "source", required=True, type=INPUT, metavar="FILE", help="A file `backup` wrote.")
@click.option("--identity", required=True, type=INPUT, envvar="BACKUP_IDENTITY_FILE", metavar="FILE",
              help="The backup identity file (its private key); or BACKUP_IDENTITY_FILE.")
@click.option("--force", is_flag=True, help="Overwrite a database that is not empty.")
def restore_command(source: Path, identity: Path, force: bool) -> None:
    """Bring a backup back into the database DATABASE_URL names (empty, or --force), with its data key."""
    runtime = current_runtime()
    settings = runtime.settings
    started = time.perf_counter()
    try:
        opener = parse_identity(identity.read_text())
        with source.open("rb") as handle:
            manifest, body = backups.open_backup(handle, opener)
            if not backups.is_empty(runtime.db) and not force:
                raise click.ClickException("the database DATABASE_URL names is not empty: restore into a new "
                                           "database (or pass --force to replace everything in it)")
            with _progress("restore", source.stat().st_size) as step:
                backups.restore(runtime.db, manifest, _counted(body, step))
        data_key = base64.b64decode(manifest["data_key"])
        checked = backups.check_restored(runtime.db, manifest, Vault(data_key, manifest["secret_key"]).audit_key)
    except (BackupCryptoError, backups.BackupError) as error:
        raise click.ClickException(str(error)) from None
    _put_key(Path(settings.data_key_file), base64.b64encode(data_key).decode() + "\n", "DATA_KEY_FILE")
    elapsed = time.perf_counter() - started
    click.echo(f"Restored {source} ({manifest['database']}, taken {manifest['created_at']}) in {elapsed:.1f} s: "
               f"{checked.counts.get('reports', 0)} reports, every table's rows as in the backup; "
               f"audit log intact ({checked.audit.entries} entries); schema {manifest['revision']} "
               "(run `flask --app app db upgrade` if this code is newer).")
    click.echo(f"The data key is in {settings.data_key_file}.")
    if manifest["secret_key"] != settings.secret_key:
        _secret_key_differs(manifest["secret_key"])
    click.echo("Start the service (web and worker) again: it must read the restored keys.")


def _counted(body, step):
    for piece in body:
        step(len(piece))
        yield piece


def _put_key(path: Path, text: str, what: str) -> None:
    """Write a restored key to `path`, keeping a different one that was there as `<path>.before-restore`."""
    if path.exists() and path.read_text() != text:
        os.replace(path, path.with_name(path.name + ".before-restore"))
        click.echo(f"The {what} that was there is kept as {path.name}.before-restore.", err=True)
    if not path.exists():
        _private_write(path, text)


def _secret_key_differs(secret_key: str) -> None:
    generated = Path(current_app.instance_path) / "secret_key"
    if generated.exists() and generated.read_text().strip() == current_app.config["SECRET_KEY"]:
        _put_key(generated, secret_key + "\n", "secret_key")
        click.echo(f"SECRET_KEY (generated, {generated}) is now the backup's.")
        return
    kept = Path(current_app.instance_path) / "secret_key.restored"
    _private_write(kept, secret_key + "\n")
    click.echo(f"SECRET_KEY differs from the backup's: set SECRET_KEY to the content of {kept} (then delete the "
               "file). Until then receipts, returning senders and the audit chain do not match.", err=True)


# --- keys -----------------------------------------------------------------------------------

@keys_group.command("backup-keygen")
@click.option("--output", required=True, type=OUTPUT, metavar="FILE", help="Where to write the identity (0600).")
def keys_backup_keygen(output: Path) -> None:
    """Make a backup identity (private key) in FILE and print its public key for BACKUP_RECIPIENTS.
    Run it where the identity will be kept (not on the server)."""
    if output.exists():
        raise click.ClickException(f"{output} exists: an identity is never overwritten (backups sealed to it "
                                   "could no longer be read)")
    identity = new_identity()
    _private_write(output, f"# intake backup identity; public key: {identity.public}\n{identity.text()}\n")
    click.echo(f"Identity written to {output}: keep it off the server (and a copy in a safe).")
    click.echo("Its public key, for the server's BACKUP_RECIPIENTS:")
    click.echo(identity.public)


@keys_group.command("rotate")
@click.option("--keep-old", is_flag=True, help="Keep the old key as DATA_KEY_FILE.old after a rotation that verified.")
def keys_rotate(keep_old: bool) -> None:
    """Seal everything the data key protects again under a new data key, in one transaction.
    Stop the web and worker processes first; start them again after."""
    runtime = current_runtime()
    settings = runtime.settings
    key_path = Path(settings.data_key_file)
    new_path, old_path = key_path.with_name(key_path.name + ".new"), key_path.with_name(key_path.name + ".old")
    if old_path.exists():
        raise click.ClickException(f"{old_path} is there from an earlier rotation: once every value opens "
                                   "with the current key (`keys rotate` said so), delete it, then rotate again")
    resuming = new_path.exists()
    old = Vault(load_or_create_data_key(key_path), settings.secret_key)
    new_key = load_or_create_data_key(new_path)  # made (0600) unless a rotation was begun before
    new = Vault(new_key, settings.secret_key)
    if resuming:
        click.echo(f"Finishing the rotation begun earlier with {new_path}.")
    started = time.perf_counter()
    try:
        with runtime.transaction() as session:
            total = key_rotation.count_sealed(session)
            with _progress("rotate", total) as step:
                rotated = key_rotation.rotate(session, old, new, progress=step)
            audit(session, now=runtime.clock(), action="data_key_rotate",
                  detail=f"{rotated.total} values sealed again")
    except key_rotation.RotationError as error:
        raise click.ClickException(f"{error}; nothing was changed ({new_path} is kept for a second try)") from None
    elapsed = time.perf_counter() - started
    # Committed: the old key is kept beside until the new one is in place and everything opens with it.
    _private_write(old_path, key_path.read_text())
    os.replace(new_path, key_path)
    with runtime.transaction() as session:
        opened, failed = key_rotation.opens_with(session, new)
        still_old = key_rotation.opens_with(session, old)[0]
    click.echo(f"Data key rotated in {elapsed:.1f} s: {rotated.total} values sealed again"
               + (f" ({rotated.already} were already)" if rotated.already else "") + ".")
    for column, n in rotated.rewrapped.items():
        if n:
            click.echo(f"  {column}: {n}")
    if failed or still_old:
        raise click.ClickException(f"{failed} value(s) do not open with the new key and {still_old} still open "
                                   f"with the old one: {old_path} is kept; do not delete it")
    click.echo(f"Every one of the {opened} sealed values opens with the new key, none with the old.")
    if keep_old:
        click.echo(f"The old key is kept in {old_path}: delete it when you no longer need it.")
    else:
        old_path.unlink()
        click.echo("The old key is deleted.")
    click.echo("Start the web and worker processes again: they must read the new key. Then make a new backup "
               "(older backups carry the old key, and open only what it sealed).")


COMMANDS = (backup_command, restore_command, keys_group)
