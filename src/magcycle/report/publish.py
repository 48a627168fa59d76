"""Publish a command's output files as one set: all new, or all as they were.

A command writes several files that belong together (``results.json``,
``report.html``, ``streams.csv``). They are written into a hidden staging
folder beside the output folder and the two folders then trade places in
one step: Linux ``renameat2(RENAME_EXCHANGE)``, an atomic exchange of two
paths. A reader, or a kill at any moment, sees the old set or the new set,
never a mix; what a killed run leaves is only its hidden staging folder,
removed by the next run. Where the exchange is not available (another
system, a file system without it) the old folder is renamed aside and the
new one renamed into place, with a moment in between when there is none.

The output folder is magcycle's own: it must be new, empty, or hold only
the files of the command that writes it (an earlier run of the same
command), since the whole folder is replaced; it keeps its mode. A
symbolic link stands for the folder it points to. That is checked before any work (:func:`check_folder`), so a
folder holding anything else, a file where the folder should be, or a
folder where an output file should be is refused in one line.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import stat
import tempfile
from pathlib import Path

from magcycle.documents import clip
from magcycle.errors import InputError

__all__ = ["OUTPUT_NAMES", "check_folder", "publish", "exchange"]

#: files any magcycle command writes into its output folder
OUTPUT_NAMES = frozenset({"results.json", "report.html", "streams.csv", "results.xlsx", "samples.csv",
                          "design.json", "tea.json", "tea.html", "tea.xlsx"})
_STAGING = ".magcycle-staging-"


def _foreign(out: Path, names) -> list[str]:
    """Entries of ``out`` that are not this command's output files (nor a staging folder)."""
    return sorted(p.name for p in out.iterdir() if p.name not in names and not p.name.startswith(_STAGING))


def _target(folder) -> Path:
    """The output folder: a symbolic link stands for the folder it points to."""
    out = Path(folder)
    return out.resolve() if out.is_symlink() else out


def check_folder(folder: str, names, *, field: str = "out") -> Path:
    """The output folder, if the set ``names`` can be published there; else InputError naming
    ``field`` (module docstring). The folder must hold nothing but this set (a file of another
    magcycle command too would be replaced with the folder)."""
    if not str(folder).strip():
        raise InputError(field, "empty; give a folder for the output files")
    label = clip(folder, 80)
    try:
        return _check_folder(folder, names, field, label)
    except InputError:
        raise
    except (OSError, RuntimeError, ValueError) as exc:  # a name too long, a loop of links, a NUL, no cwd
        reason = getattr(exc, "strerror", None) or clip(exc, 80)
        raise InputError(field, f"cannot use {label}: {reason}") from None


def _check_folder(folder: str, names, field: str, label: str) -> Path:
    out = _target(folder)
    if out.exists() and not out.is_dir():
        raise InputError(field, f"{label} is a file, not a folder")
    if out.is_dir():
        try:
            foreign = _foreign(out, set(names))
        except OSError as exc:
            raise InputError(field, f"cannot read {label}: {exc.strerror}") from None
        if foreign:
            whose = "another magcycle command" if foreign[0] in OUTPUT_NAMES else "something other than magcycle"
            raise InputError(field, f"{label} holds {clip(foreign[0], 40)}{' and more' if len(foreign) > 1 else ''}"
                                    f", written by {whose}; the folder is replaced as a whole, so give a folder "
                                    "of its own")
        for name in names:
            p = out / name
            if p.exists() and not p.is_file():
                raise InputError(field, f"{clip(p, 80)} is not a file; remove it or choose another folder")
    parent = (out.parent if str(out.parent) else Path(".")).resolve()
    if not parent.is_dir():
        raise InputError(field, f"{clip(parent, 80)} does not exist")
    if not os.access(parent, os.W_OK):
        raise InputError(field, f"cannot write in {clip(parent, 80)}")
    return out


def _libc_renameat2():
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def exchange(a: Path, b: Path) -> bool:
    """Atomically trade the places of two existing paths (Linux renameat2); False where the system
    or the file system cannot."""
    fn = _libc_renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    return False


def _clear_stale(parent: Path, name: str) -> None:
    """Staging folders of runs that were killed (their process is gone)."""
    for p in parent.glob(f"{_STAGING}{name}-*"):
        try:
            pid = int(p.name.rsplit("-", 2)[-2])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(p, ignore_errors=True)
        except (ValueError, IndexError, PermissionError, OSError):
            continue


def _write(folder: Path, files: dict) -> None:
    for name, text in files.items():
        mode, data = ("wb", text) if isinstance(text, bytes) else ("w", text)
        with open(folder / name, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as fh:
            fh.write(data)


def _mode(out: Path) -> int:
    """The mode the new folder takes: the old folder's, or what the umask allows a new one."""
    if out.is_dir():
        return stat.S_IMODE(out.stat().st_mode)
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


def publish(folder: str, files: dict, *, field: str = "out") -> None:
    """Write ``files`` (name -> text or bytes) as the whole content of ``folder``, all at once."""
    out = check_folder(folder, files, field=field)
    parent = (out.parent if str(out.parent) else Path(".")).resolve()
    staging = None
    try:
        _clear_stale(parent, out.name)
        staging = Path(tempfile.mkdtemp(prefix=f"{_STAGING}{out.name}-{os.getpid()}-", dir=parent))
        os.chmod(staging, _mode(out))
        _write(staging, files)
        if not out.exists():
            os.rename(staging, out)
        elif exchange(staging, out):
            pass  # staging now holds the old set
        else:
            aside = Path(tempfile.mkdtemp(prefix=f"{_STAGING}{out.name}-{os.getpid()}-", dir=parent))
            os.rmdir(aside)
            os.rename(out, aside)
            os.rename(staging, out)
            staging = aside
    except OSError as exc:
        raise InputError(field, f"cannot write {clip(out, 80)}: {exc.strerror}") from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
