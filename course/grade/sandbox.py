"""The kernel a submission runs in while it is graded: an ipykernel whose Python code may write files only inside
the submission's own folder and may not start other programs.

    python -m course.grade.sandbox -f CONNECTION_FILE     (with COURSE_GRADE_DIR set to the submission's folder)

A Python audit hook (PEP 578), installed before the kernel starts and impossible to remove from Python, refuses:
opening a file for writing, and creating, removing, renaming or changing the mode of a path, outside
COURSE_GRADE_DIR (and /dev/null); and starting processes (subprocess, os.system, exec, spawn, fork). The refusal is
a PermissionError that names the path, raised in the student's cell. This contains honest mistakes and casual
mischief (a cell that deletes files or writes over another submission); it is not a security boundary against a
determined attacker (ctypes can go around it): grade untrusted code in a container.
"""
from __future__ import annotations

import os
import sys

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
# event -> the positions of the arguments that are paths it changes (a copy's source is only read)
PATH_EVENTS = {"os.remove": (0,), "os.rename": (0, 1), "os.replace": (0, 1), "os.rmdir": (0,), "os.mkdir": (0,),
               "os.chmod": (0,), "os.chown": (0,), "os.truncate": (0,), "os.symlink": (1,), "os.link": (1,),
               "os.utime": (0,), "shutil.rmtree": (0,), "shutil.move": (0, 1), "shutil.copyfile": (1,)}
PROCESS_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                  "os.forkpty", "pty.spawn"}


def allowed_root() -> str:
    return os.path.realpath(os.environ["COURSE_GRADE_DIR"])


def inside(path, root: str) -> bool:
    """True for a path inside ``root`` (after resolving links), /dev/null, or an open file descriptor."""
    if isinstance(path, int):
        return True
    path = os.path.realpath(os.fsdecode(path))
    return path == root or path.startswith(root + os.sep) or path == os.devnull


def make_hook(root: str):
    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            writing = (mode is not None and any(c in mode for c in "wax+")) or \
                (mode is None and isinstance(flags, int) and flags & WRITE_FLAGS)
            if writing and not inside(path, root):
                raise PermissionError(f"grading: writing outside the submission's folder is not allowed: {path}")
        elif event in PATH_EVENTS:
            for path in (args[i] for i in PATH_EVENTS[event]):
                if path is not None and not inside(path, root):
                    raise PermissionError(f"grading: changing files outside the submission's folder is not allowed "
                                          f"({event} {path})")
        elif event in PROCESS_EVENTS:
            raise PermissionError(f"grading: starting other programs is not allowed ({event})")
    return hook


def main() -> None:
    sys.addaudithook(make_hook(allowed_root()))
    from ipykernel.kernelapp import launch_new_instance
    launch_new_instance()


if __name__ == "__main__":
    main()
