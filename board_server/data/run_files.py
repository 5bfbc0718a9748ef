"""Files a plugin keeps beside a run's event files (the projector's config, tensors, metadata and sprites),
read only inside the run's directory.

Paths come from files in the logdir, so they are checked: absolute paths, `..` and symlinks anywhere on the
way are refused (the directory is opened one component at a time without following links, so nothing can be
swapped in between a check and the open), only regular files are read, each read has a size cap.
"""
from __future__ import annotations

import errno
import os
import re
import stat


class RunFileError(Exception):
    """A file that cannot be read, said in words for a JSON answer with `status` (400, 404 or 413)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _parts(rel: str) -> list[str]:
    """The components of a path relative to a run directory; RunFileError when it is not one or leaves it."""
    if not rel or rel.startswith(("/", "\\", "~")) or re.match(r"^[A-Za-z]:", rel) or "\x00" in rel:
        raise RunFileError(f"path {rel!r} is not relative to the run directory")
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        raise RunFileError(f"path {rel!r} leaves the run directory")
    return parts


def _open_inside(run_dir: str, rel: str) -> int:
    """A read-only descriptor of the regular file `rel` names inside `run_dir` (the run directory itself may be
    reached through a link, as the event files are; nothing below it may)."""
    parts = _parts(rel)
    nofollow = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = None
    try:
        fd = os.open(run_dir, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        for part in parts[:-1]:
            child = os.open(part, nofollow | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        target = os.open(parts[-1], nofollow | getattr(os, "O_NONBLOCK", 0), dir_fd=fd)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            raise RunFileError(f"path {rel!r} goes through a symlink or a non-directory") from None
        if e.errno == errno.ENOENT:
            raise RunFileError(f"no file {rel!r} in the run directory", 404) from None
        raise RunFileError(f"cannot open {rel!r}: {e.strerror}") from None
    finally:
        if fd is not None:
            os.close(fd)
    if not stat.S_ISREG(os.fstat(target).st_mode):
        os.close(target)
        raise RunFileError(f"{rel!r} is not a regular file")
    return target


def read_inside(run_dir: str, rel: str, limit: int) -> bytes:
    """The bytes of `rel` inside `run_dir`, refused when bigger than `limit`."""
    fd = _open_inside(run_dir, rel)
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise RunFileError(f"{rel!r} is {size} bytes; at most {limit} are read", 413)
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise RunFileError(f"{rel!r} is more than {limit} bytes; at most {limit} are read", 413)
    return data


def version_inside(run_dir: str, rel: str) -> tuple | None:
    """(size, mtime) of `rel` inside `run_dir` to notice a rewrite, or None when there is no such entry
    (lstat: a symlink is seen here but refused when read)."""
    try:
        st = os.lstat(os.path.join(run_dir, *_parts(rel)))
    except (OSError, ValueError, RunFileError):
        return None
    return st.st_size, st.st_mtime_ns
