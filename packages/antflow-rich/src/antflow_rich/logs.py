"""Log records above a live display: `log_above`.

While a display is redrawn in place, anything written straight to the terminal lands
where the cursor is (at the end of the display), glued to it, and the next redraw
leaves a stale copy of the display behind. ``print()`` is safe: the display replaces
``sys.stdout`` and ``sys.stderr`` while it is shown. A `logging.StreamHandler` is not: it
keeps the stream it was given when it was made (``logging.basicConfig()`` gives it
``sys.stderr`` as it was then).

`log_above` fixes that for the length of a ``with`` block: every `logging.StreamHandler`
of every logger (the root logger's included) whose stream is a terminal writes
through the display's console instead, which prints each record above the display
and redraws the display under it. Handlers that write to files or pipes are left
alone; on exit every handler gets its own stream back. The displays of antflow-rich do
this by themselves while they are live (``redirect_logging=True``, the default).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from rich.console import Console
from rich.file_proxy import FileProxy

__all__ = ["log_above"]


def _is_terminal(stream: IO[str] | Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _stream_handlers() -> list[logging.StreamHandler[Any]]:
    """Every stream handler attached to a logger now, each once, files excluded."""
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in list(logging.Logger.manager.loggerDict.values())
        if isinstance(logger, logging.Logger)
    ]
    seen: set[int] = set()
    found: list[logging.StreamHandler[Any]] = []
    for logger in loggers:
        for handler in list(logger.handlers):
            if (
                isinstance(handler, logging.StreamHandler)
                and not isinstance(handler, logging.FileHandler)
                and id(handler) not in seen
            ):
                seen.add(id(handler))
                found.append(handler)
    return found


@contextmanager
def log_above(console: Console) -> Iterator[int]:
    """Make the logging handlers that write to a terminal print through ``console``.

    Use it around your own ``rich.live.Live`` (the antflow-rich displays need nothing:
    they do it while they are live)::

        with Live(console=console) as live, log_above(console):
            logging.info("printed above the live region")

    Args:
        console: The console of the live display.

    Yields:
        How many handlers were redirected.
    """
    swapped: list[tuple[logging.StreamHandler[Any], IO[str], FileProxy]] = []
    for handler in _stream_handlers():
        stream = handler.stream
        if isinstance(stream, FileProxy) or not _is_terminal(stream):
            continue
        proxy = FileProxy(console, stream)
        handler.setStream(proxy)
        swapped.append((handler, stream, proxy))
    try:
        yield len(swapped)
    finally:
        for handler, stream, proxy in reversed(swapped):
            if handler.stream is proxy:
                handler.acquire()
                try:
                    proxy.flush()
                    handler.stream = stream
                finally:
                    handler.release()
