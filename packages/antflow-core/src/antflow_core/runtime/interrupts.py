"""What ``run()`` does when the program is interrupted: Ctrl-C and SIGTERM.

Theory of operation
-------------------
``run()`` wraps its body in `interrupt_guard`. The guard does two things:

* **SIGTERM** (only while a display is shown, only on the main thread, only where
  ``loop.add_signal_handler`` exists, and only while the program has left SIGTERM at its
  default, which kills the process on the spot with the terminal in whatever state the
  display left it): the guard installs a handler for the length of the run. On SIGTERM
  it cancels the task running ``run()``; ``run()`` shuts the pipeline down as it does
  on Ctrl-C (the display's last frame and summary are drawn, the cursor comes back,
  `unfinished_items` is filled) and the guard then raises ``SystemExit(143)``
  (128 + SIGTERM, the shell's convention for "terminated"), so ``finally`` blocks run
  and the process exits with that status. The handler is removed when ``run()`` ends
  and SIGTERM is back to its default. A program that installed its own SIGTERM
  handler (``signal.signal`` or ``loop.add_signal_handler``) keeps it untouched.
* **Ctrl-C**: ``asyncio.run()`` turns Ctrl-C into a cancellation of the main task,
  which shuts the pipeline down, and then raises ``KeyboardInterrupt``. Python would
  print that with a chained traceback of the cancellation through the pipeline's
  internals. The guard marks the cancellation that went through ``run()``, and a
  ``sys.excepthook`` (installed the first time a run is interrupted) prints an
  uncaught ``KeyboardInterrupt`` that carries that mark as the one line
  ``KeyboardInterrupt``. The exception still propagates: a program that catches it
  sees no difference, and the exit status is the usual one for Ctrl-C. Every other
  exception goes to the previous hook.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Final

__all__ = ["SIGTERM_EXIT_STATUS", "interrupt_guard"]

SIGTERM_EXIT_STATUS: Final = 128 + int(getattr(signal, "SIGTERM", 15))
"""The exit status of a program whose ``run()`` was ended by SIGTERM (143)."""

_MARK: Final = "_antflow_run_interrupted"


class _SigtermWatch:
    """The runs of one event loop that SIGTERM shuts down, and the handler they share."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.tasks: dict[asyncio.Task[object], bool] = {}  # task -> whether SIGTERM came

    def fire(self) -> None:
        for task in self.tasks:
            if not self.tasks[task]:
                self.tasks[task] = True
                task.cancel(msg="antflow: SIGTERM")


_watches: dict[asyncio.AbstractEventLoop, _SigtermWatch] = {}


def _watch_sigterm(task: asyncio.Task[object]) -> _SigtermWatch | None:
    """Have SIGTERM cancel ``task``; None when it cannot or must not be done here."""
    sigterm = getattr(signal, "SIGTERM", None)
    if sigterm is None or threading.current_thread() is not threading.main_thread():
        return None
    loop = task.get_loop()
    watch = _watches.get(loop)
    if watch is None:
        if signal.getsignal(sigterm) is not signal.SIG_DFL:
            return None  # the program handles SIGTERM itself
        watch = _SigtermWatch(loop)
        try:
            loop.add_signal_handler(sigterm, watch.fire)
        except (NotImplementedError, RuntimeError, ValueError):
            return None  # Windows, a loop without signal support, not the main thread
        _watches[loop] = watch
    watch.tasks[task] = False
    return watch


def _unwatch(watch: _SigtermWatch, task: asyncio.Task[object]) -> bool:
    """Stop watching ``task``; remove the handler after the last run. Whether SIGTERM came."""
    fired = watch.tasks.pop(task, False)
    if not watch.tasks:
        del _watches[watch.loop]
        if not watch.loop.is_closed():
            watch.loop.remove_signal_handler(signal.SIGTERM)
    return fired


@contextmanager
def interrupt_guard(*, sigterm: bool) -> Iterator[None]:
    """Wrap the body of ``run()``: SIGTERM shuts it down, Ctrl-C reads as one line.

    Args:
        sigterm: Whether to turn SIGTERM into a shutdown (``run()`` passes whether a
            display is shown); see the module's documentation for the conditions.

    Raises:
        SystemExit: With `SIGTERM_EXIT_STATUS`, when SIGTERM ended the run.
    """
    task = asyncio.current_task()
    watch = _watch_sigterm(task) if sigterm and task is not None else None
    terminated = False
    try:
        yield
    except asyncio.CancelledError as exc:
        terminated = watch is not None and task is not None and _unwatch(watch, task)
        watch = None
        if not terminated:
            setattr(exc, _MARK, True)
            _install_excepthook()
            raise
    except BaseException:
        terminated = watch is not None and task is not None and _unwatch(watch, task)
        watch = None
        if not terminated:
            raise
    finally:
        if watch is not None and task is not None:
            terminated = _unwatch(watch, task)
    if terminated and task is not None:
        # SIGTERM came: whatever the run was doing, the program terminates.
        task.uncancel()
        raise SystemExit(SIGTERM_EXIT_STATUS)


def _interrupted_a_run(exc: BaseException | None) -> bool:
    """Whether ``exc``'s chain of contexts holds a cancellation that went through ``run()``."""
    seen = 0
    while exc is not None and seen < 16:
        if getattr(exc, _MARK, False):
            return True
        exc = exc.__context__
        seen += 1
    return False


_hook_lock = threading.Lock()
_hook_installed = False


def _install_excepthook() -> None:
    global _hook_installed
    with _hook_lock:
        if _hook_installed:
            return
        _hook_installed = True
        previous = sys.excepthook

        def antflow_excepthook(
            kind: type[BaseException], value: BaseException, tb: TracebackType | None
        ) -> None:
            if issubclass(kind, KeyboardInterrupt) and _interrupted_a_run(value.__context__):
                print("KeyboardInterrupt", file=sys.stderr)
                return
            previous(kind, value, tb)

        sys.excepthook = antflow_excepthook
