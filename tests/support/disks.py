"""Real disk trouble for tests: a small ext4 file system (a loop-mounted image) that can be
filled up or remounted read-only, and files made immutable, which ext4 enforces even against
root and even through descriptors already open, as a disk the kernel turned read-only does.
(tmpfs would not do: it checks immutability only when a file is opened.) Needs root, as CI runs;
file permissions would not do either, since root ignores them."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

FILLER = "filler"
TOOLS = ("mount", "umount", "chattr", "mkfs.ext4")


def can_mount() -> bool:
    """True when this process may mount file systems and change file attributes (root)."""
    return os.geteuid() == 0 and all(shutil.which(tool) for tool in TOOLS)


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, text=True)


@contextmanager
def small_disk(mount_point: Path, size_mb: int) -> Iterator[Path]:
    """A fresh ext4 file system of `size_mb` MiB at `mount_point`, seen through a bind mount of
    its own (so that it can be remounted read-only by itself); unmounted afterwards."""
    image = mount_point.with_name(mount_point.name + ".img")
    disk = mount_point.with_name(mount_point.name + "-disk")
    with open(image, "wb") as handle:
        handle.truncate(size_mb << 20)
    _run("mkfs.ext4", "-q", "-m", "0", str(image))  # -m 0: no blocks held back for root
    disk.mkdir()
    mount_point.mkdir()
    _run("mount", "-o", "loop", str(image), str(disk))
    try:
        _run("mount", "--bind", str(disk), str(mount_point))
        try:
            yield mount_point
        finally:
            _run("umount", "-l", str(mount_point))
    finally:
        _run("umount", "-l", str(disk))  # frees the loop device once nothing holds a file open
        image.unlink()


def remount(mount_point: Path, read_only: bool) -> None:
    """Make the bind mount read-only or writable again. (The kernel refuses to make a mount
    read-only while a file on it is open for writing.)"""
    _run("mount", "-o", f"remount,bind,{'ro' if read_only else 'rw'}", str(mount_point))


def fill(directory: Path, leave_mb: int = 0) -> None:
    """Write to a filler file until not one more byte fits, or until only `leave_mb` MiB are free."""
    fd = os.open(directory / FILLER, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        if leave_mb:
            stats = os.statvfs(directory)
            os.write(fd, b"\0" * max(0, stats.f_bavail * stats.f_frsize - (leave_mb << 20)))
            return
        size = 1 << 20
        while size:
            try:
                os.write(fd, b"\0" * size)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                size //= 2
    finally:
        os.close(fd)


def free_up(directory: Path) -> None:
    """Remove the filler file."""
    (directory / FILLER).unlink(missing_ok=True)


def set_immutable(paths: list[Path], immutable: bool) -> None:
    """chattr +i / -i: an immutable file cannot be written, not even by root through a descriptor
    it already holds; an immutable directory takes no new files."""
    _run("chattr", "+i" if immutable else "-i", *map(str, paths))
