"""Versions of an embedded catalog: immutable RocksDB checkpoints behind one atomic pointer.

Layout of a catalog directory::

    CURRENT              the name of the live version (one line; replaced with rename(2): the commit point)
    versions/v00000012/  a RocksDB checkpoint (``pyoxigraph.Store.backup``: hard links to immutable SST files),
                         never written once published, so any number of processes open it with
                         ``Store.read_only`` safely
    versions/.next-*/    a write in progress; one left by a killed process is rolled back (deleted) by
                         the next command, which says so
    versions/.discarded-*/  a refused write's, renamed so before deletion; what is left is deleted
                         by the next write, silently
    locks/write.lock     flock(2): one writer at a time
    locks/v00000012.lock shared flocks held by the readers of a version; old versions are deleted
                         only when nobody holds theirs

Why a kill -9 can never leave a half-written catalog: a writer never touches a published version.
It checkpoints the live version into ``versions/.next-*``, opens that copy read-write, makes every
change there (bulk loads included, which are not transactional in Oxigraph), checks it, flushes
and closes it, renames it to its final name and only then replaces ``CURRENT`` by renaming a fully
written temporary file over it. Before that rename every reader, and every later command, sees the
old version; after it, the new one. A process killed at any point leaves either a stray
``.next-*`` directory (deleted later, with a notice) or a fully published version. Oxigraph's
``read_only`` beside a writer is undefined behaviour; here no reader ever opens a directory that a
writer has open.

Cost, measured on the Quickstart catalog (197k quads, 55 MB): checkpoint 12 ms, read-write open of
the checkpoint 32 ms, flush 50 ms, read-only open 25 ms.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shlex
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..env import setting
from ..errors import CatalogBusy, CatalogError

__all__ = ["VersionedStore", "ReadHandle", "StagedVersion", "LOCK_TIMEOUT_VAR", "CRASH_AT_VAR"]

#: Environment variable: seconds a writer waits for another writer before giving up (default 600).
LOCK_TIMEOUT_VAR = "MATCHGRAPH_LOCK_TIMEOUT"
_PREFIX = "v"
_STAGING = ".next-"
_DISCARDED = ".discarded-"
#: Published versions kept besides the live one (a reader that just read CURRENT may still open it).
_KEEP_PREVIOUS = 1
#: What a catalog folder holds before its first version is published (a refused first write leaves
#: ``locks/`` and ``versions/``); any other entry makes a folder that is not a catalog.
_OWN_ENTRIES = frozenset({"CURRENT", "versions", "locks", "cache", "store"})
#: What an empty folder may hold that nobody made as data: a file manager's or a version control's
#: marker, a file system's own folder; a catalog is made beside them.
_NOT_DATA = frozenset({".DS_Store", ".gitkeep", ".keep", "lost+found", "Thumbs.db", "desktop.ini"})
#: Environment variable for the crash tests: the name of a step of :meth:`VersionedStore.commit` at
#: which the process kills itself with SIGKILL (as ``kill -9`` would), e.g. ``before-pointer``.
CRASH_AT_VAR = "MATCHGRAPH_TEST_KILL_AT"


def _crash_point(step: str) -> None:
    """Die here with SIGKILL when the crash tests ask for it (one environment lookup otherwise)."""
    if setting(CRASH_AT_VAR) == step:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _close(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass
class ReadHandle:
    """A read-only open version: the pyoxigraph store and the shared lock that keeps it from deletion."""

    name: str
    store: Any
    _lock_fd: int | None = field(default=None, repr=False)

    def close(self) -> None:
        """Drop the store and release the version's lock."""
        self.store = None
        if self._lock_fd is not None:
            try:
                os.close(self._lock_fd)
            except OSError:
                pass
            self._lock_fd = None

    def __del__(self) -> None:  # the lock goes with the last reference
        self.close()


@dataclass
class StagedVersion:
    """The next version while it is being written: a read-write store on a private checkpoint."""

    directory: Path
    store: Any
    base: str | None


class VersionedStore:
    """The versions of one embedded catalog directory.

    Parameters
    ----------
    root : Path
        The catalog directory (it need not exist: it is created by the first write).
    notify : callable, optional
        Called with a sentence for things the user should know (a rolled-back write, a wait for
        another writer).

    Examples
    --------
    >>> import tempfile, pyoxigraph as ox
    >>> vs = VersionedStore(Path(tempfile.mkdtemp()) / "cat")
    >>> vs.exists()
    False
    >>> staged = vs.begin()
    >>> staged.store.add(ox.Quad(ox.NamedNode("http://a"), ox.NamedNode("http://b"), ox.Literal("c")))
    >>> vs.commit(staged)
    'v00000001'
    >>> len(list(vs.open_reader().store))
    1
    """

    def __init__(self, root: Path, *, notify: Callable[[str], None] | None = None) -> None:
        import pyoxigraph as ox

        self._ox = ox
        self.root = Path(root)
        self.notify = notify or (lambda message: None)
        self._write_fd: int | None = None
        self._thread_lock = threading.Lock()  # flock serialises processes; this, the threads of one

    # ------------------------------------------------------------------ paths
    @property
    def versions_dir(self) -> Path:
        return self.root / "versions"

    @property
    def locks_dir(self) -> Path:
        return self.root / "locks"

    @property
    def pointer(self) -> Path:
        return self.root / "CURRENT"

    @property
    def legacy_dir(self) -> Path:
        """Where catalogs made before versions kept their one store."""
        return self.root / "store"

    def exists(self) -> bool:
        """Whether a catalog has been written here."""
        return self.pointer.is_file() or (self.legacy_dir / "CURRENT").is_file()

    def check_new_root(self) -> None:
        """Raise unless a catalog may be created here: the folder is new, empty, or holds only what
        a catalog's first write left (``locks/``, ``versions/``, ``cache/``).

        ``--catalog examples`` used to turn the source folder itself into a catalog (``CURRENT``,
        ``locks/`` and ``versions/`` written among the user's files); a folder of other files is
        refused, as ``matchgraph site`` refuses a folder it did not write.

        Raises
        ------
        CatalogError
            The folder holds files of its own, naming a few of them.
        """
        if self.exists() or not self.root.is_dir():
            return
        try:
            others = sorted(entry.name for entry in self.root.iterdir() if entry.name not in _OWN_ENTRIES
                            and entry.name not in _NOT_DATA and not entry.name.startswith(".CURRENT."))
        except OSError as exc:
            raise CatalogError(f"cannot list the catalog folder {self.root}: {exc.strerror or exc}",
                               hint="check the folder's permissions") from exc
        if others:
            shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
            raise CatalogError(f"{self.root} is a folder of other files ({shown}), not a catalog: matchgraph "
                               "will not make a catalog among them",
                               hint="name an empty or new folder for the catalog, e.g. --catalog "
                                    f"{self.root.name + '-' if self.root.name else ''}catalog "
                                    "(the default is ./.matchgraph)")

    def current(self) -> str | None:
        """The name of the live version, or None before the first write."""
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CatalogError(f"cannot read {self.pointer}: {exc.strerror or exc}",
                               hint="check the catalog directory's permissions") from exc
        if not name.startswith(_PREFIX) or "/" in name:
            raise CatalogError(f"the catalog at {self.root} is damaged: {self.pointer} does not name a catalog "
                               f"version ({name[:80]!r})", hint=self._recovery_hint())
        return name

    # ------------------------------------------------------------------ reading
    def open_reader(self) -> ReadHandle | None:
        """Open the live version read-only (None before the first write)."""
        self._migrate_legacy()
        for _ in range(20):
            name = self.current()
            if name is None:
                return None
            lock_fd = self._lock_version(name)
            directory = self.versions_dir / name
            if self.current() != name and not directory.is_dir():
                _close(lock_fd)  # deleted between reading CURRENT and locking it: read the new one
                continue
            try:
                store = self._ox.Store.read_only(str(directory))
            except OSError as exc:
                _close(lock_fd)
                if not directory.is_dir():
                    if self.current() == name:  # not a writer's switch: CURRENT names what is not there
                        raise self.missing_version(name) from None
                    continue
                raise CatalogError(f"cannot open the catalog version {directory}: {exc}",
                                   hint="check the directory's permissions; 'matchgraph validate' checks it") from exc
            return ReadHandle(name, store, lock_fd)
        raise CatalogError(f"the catalog at {self.root} changed too often to be opened",
                           hint="try again when the writers are done")

    def missing_version(self, name: str) -> CatalogError:
        """The error for a ``CURRENT`` that names a version whose folder is gone (a damaged catalog:
        deleted by hand, a copy that left ``versions/`` out, a disk error), with the way back.

        A writer never deletes the live version, and the one before it is kept
        (:data:`_KEEP_PREVIOUS`), so the newest folder left in ``versions/`` is usually the catalog
        as it was one write earlier: the hint says how to make it live again.

        Parameters
        ----------
        name : str
            The version ``CURRENT`` names.

        Returns
        -------
        CatalogError
        """
        return CatalogError(f"the catalog at {self.root} is damaged: {self.pointer.name} names the version "
                            f"{name}, but {self.versions_dir / name} is missing", hint=self._recovery_hint())

    def _recovery_hint(self) -> str:
        """How to get a damaged catalog back: make the newest version left live, rebuild, or restore."""
        try:
            left = sorted((p.name for p in self.versions_dir.iterdir()
                           if p.name.startswith(_PREFIX) and p.is_dir()), reverse=True)
        except OSError:
            left = []
        rebuild = ("build a new catalog from the sources (matchgraph --catalog NEW-FOLDER ingest ...; "
                   "import ...), or restore the folder from a backup")
        if left:
            hint = (f"the newest version left is {left[0]}: to go back to it (losing what was written after it), "
                    f"run: echo {left[0]} > {shlex.quote(str(self.pointer))}; or {rebuild}")
        else:
            hint = f"no version is left in {self.versions_dir}: {rebuild}"
        return hint + " (see docs/store.md)"

    def _lock_version(self, name: str) -> int | None:
        """A shared lock on a version, so that no writer deletes it while it is read. A catalog this
        user may not write is read without one when the lock file cannot be opened: this user's
        writes cannot run there either."""
        path = self.locks_dir / f"{name}.lock"
        try:
            self.locks_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except PermissionError:
            try:
                fd = os.open(path, os.O_RDONLY)  # flock needs no write access
            except OSError:
                return None
        except OSError as exc:
            if exc.errno != errno.EROFS:
                raise
            return None
        fcntl.flock(fd, fcntl.LOCK_SH)
        return fd

    # ------------------------------------------------------------------ writing
    def begin(self) -> StagedVersion:
        """Take the write lock, roll back any interrupted write, and stage the next version.

        Raises
        ------
        CatalogError
            The first write into a folder that holds other files (:meth:`check_new_root`).
        """
        self.check_new_root()
        self.root.mkdir(parents=True, exist_ok=True)
        self._thread_lock.acquire()
        try:
            self._acquire_write_lock()
        except BaseException:
            self._thread_lock.release()
            raise
        try:
            self._migrate_legacy(locked=True)
            self._roll_back_interrupted()
            base = self.current()
            self.versions_dir.mkdir(parents=True, exist_ok=True)
            directory = self.versions_dir / f"{_STAGING}{os.getpid()}-{uuid.uuid4().hex[:8]}"
            if base is not None:
                if not (self.versions_dir / base).is_dir():
                    raise self.missing_version(base)
                source = self._ox.Store.read_only(str(self.versions_dir / base))
                try:
                    source.backup(str(directory))
                finally:
                    del source
            store = self._ox.Store(str(directory))
            return StagedVersion(directory, store, base)
        except BaseException:
            self._end_write()
            raise

    def commit(self, staged: StagedVersion) -> str:
        """Publish a staged version: flush, close, rename, then switch ``CURRENT`` (the commit point)."""
        try:
            _crash_point("before-flush")
            staged.store.flush()
            staged.store = None
            import gc

            gc.collect()  # pyoxigraph closes RocksDB when the store is dropped
            _crash_point("after-close")
            number = int(staged.base[len(_PREFIX):]) + 1 if staged.base else 1
            name = f"{_PREFIX}{number:08d}"
            final = self.versions_dir / name
            if final.exists():  # a version dir published but never made live by a killed writer
                shutil.rmtree(final)
            os.rename(staged.directory, final)
            _fsync_dir(self.versions_dir)
            _crash_point("after-rename")
            tmp = self.root / f".CURRENT.{os.getpid()}.{uuid.uuid4().hex[:8]}"
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(name + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            _crash_point("before-pointer")
            os.replace(tmp, self.pointer)  # <- the commit point
            _fsync_dir(self.root)
            _crash_point("after-pointer")
            self._collect_garbage(name)
            _crash_point("after-gc")
            return name
        finally:
            self._end_write()

    def abort(self, staged: StagedVersion) -> None:
        """Throw a staged version away; the live one is untouched.

        The staging directory is first renamed ``.discarded-*``: if the engine still has it open
        (its store referenced from a traceback, a background flush) and the deletion leaves
        something, what is left is not taken for an interrupted write, and the next write deletes
        it without a word (a probe saw a refused ingest leave ``.next-*`` in 3 of 20 runs, and the
        next command say "an interrupted write was rolled back").
        """
        try:
            staged.store = None
            import gc

            gc.collect()
            discarded = staged.directory.with_name(_DISCARDED + staged.directory.name[len(_STAGING):])
            try:
                os.rename(staged.directory, discarded)
            except OSError:
                discarded = staged.directory
            shutil.rmtree(discarded, ignore_errors=True)
        finally:
            self._end_write()

    def _acquire_write_lock(self, *, wait: bool = True) -> bool:
        self.locks_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.locks_dir / "write.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES) or not wait:
                os.close(fd)
                if not wait:
                    return False
                raise
            timeout = setting(LOCK_TIMEOUT_VAR)
            self.notify(f"waiting for another matchgraph process that is writing the catalog at {self.root} "
                        f"(up to {timeout:g} s, set {LOCK_TIMEOUT_VAR} to change)")
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        os.close(fd)
                        raise CatalogBusy(
                            f"another process kept the catalog at {self.root} locked for writing for {timeout:g} s",
                            hint=f"wait for it to finish, or raise {LOCK_TIMEOUT_VAR}") from None
                    time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._write_fd = fd
        return True

    def _release_write_lock(self) -> None:
        if self._write_fd is not None:
            os.close(self._write_fd)
            self._write_fd = None

    def _end_write(self) -> None:
        self._release_write_lock()
        if self._thread_lock.locked():
            self._thread_lock.release()

    def _staging_dirs(self) -> list[Path]:
        """The ``.next-*`` directories: writes in progress, or left by writers that died."""
        if not self.versions_dir.is_dir():
            return []
        return [p for p in self.versions_dir.iterdir() if p.name.startswith(_STAGING)]

    def roll_back_interrupted(self) -> None:
        """Delete what a killed writer left (when no writer is at work), saying so."""
        if not self._staging_dirs() and not self._discarded_dirs():
            return
        if not self._thread_lock.acquire(blocking=False):
            return  # a thread of this process is writing
        try:
            if not self._acquire_write_lock(wait=False):
                return  # another process is writing: its staging directory is not stale
            try:
                self._roll_back_interrupted()
            finally:
                self._release_write_lock()
        finally:
            self._thread_lock.release()

    def _discarded_dirs(self) -> list[Path]:
        """What an aborted write could not delete at once (see :meth:`abort`)."""
        if not self.versions_dir.is_dir():
            return []
        return [p for p in self.versions_dir.iterdir() if p.name.startswith(_DISCARDED)]

    def _roll_back_interrupted(self) -> None:
        """Delete every staging directory and stray pointer file (the caller holds the write lock)."""
        for path in self._discarded_dirs():
            shutil.rmtree(path, ignore_errors=True)
        for path in self._staging_dirs():
            shutil.rmtree(path, ignore_errors=True)
            self.notify(f"an interrupted write was rolled back ({path.name}): the catalog is as it was "
                        f"before that command")
        for tmp in self.root.glob(".CURRENT.*"):
            tmp.unlink(missing_ok=True)

    def _collect_garbage(self, live: str) -> None:
        """Delete published versions older than the live one and the ones kept, if nobody reads them."""
        names = sorted(p.name for p in self.versions_dir.iterdir() if p.name.startswith(_PREFIX))
        keep = set(names[names.index(live) - _KEEP_PREVIOUS:names.index(live) + 1]) if live in names else {live}
        for name in names:
            if name in keep or name > live:
                continue
            lock = self.locks_dir / f"{name}.lock"
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue  # somebody still reads it
            try:
                shutil.rmtree(self.versions_dir / name, ignore_errors=True)
                lock.unlink(missing_ok=True)
            finally:
                os.close(fd)

    # ------------------------------------------------------------------ legacy
    def _migrate_legacy(self, *, locked: bool = False) -> None:
        """Turn a catalog made before versions (one ``store/`` directory) into version 1."""
        if self.pointer.exists() or not (self.legacy_dir / "CURRENT").is_file():
            return
        if not locked:
            self._acquire_write_lock()
        try:
            if self.pointer.exists():
                return
            self.versions_dir.mkdir(parents=True, exist_ok=True)
            target = self.versions_dir / f"{_PREFIX}{1:08d}"
            if target.exists():
                shutil.rmtree(target)
            try:
                legacy = self._ox.Store(str(self.legacy_dir))
            except OSError as exc:
                raise CatalogError(f"cannot open the catalog at {self.legacy_dir}: {exc}",
                                   hint="another matchgraph process of an older version may hold it; stop it") from exc
            legacy.flush()
            legacy.backup(str(target))
            del legacy
            tmp = self.root / f".CURRENT.{os.getpid()}"
            tmp.write_text(target.name + "\n", encoding="utf-8")
            os.replace(tmp, self.pointer)
            shutil.rmtree(self.legacy_dir, ignore_errors=True)
            self.notify(f"the catalog at {self.root} was converted to versioned storage")
        finally:
            if not locked:
                self._release_write_lock()
