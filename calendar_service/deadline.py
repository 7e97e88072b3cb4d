"""Work whose cost depends on its input, run in another process under a deadline.

A request must not hold the event loop, and a thread cannot be stopped: so the work runs in a
child process, which is killed when the deadline passes. Children are forked by
multiprocessing's fork server (a clean process that never runs the event loop or its threads;
``spawn`` where there is none), which imports the function's module once, so that each call
starts in milliseconds. Everything that crosses is pickled: the function must be a top-level
one, its arguments and result picklable.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from calendar_service.errors import ServiceError

T = TypeVar("T")

_preloaded: set[str] = set()


class DeadlineExceeded(ServiceError):
    """The work took longer than it may; it was stopped."""

    status = 422
    title = "Took too long"
    slug = "deadline-exceeded"


class WorkerFailed(ServiceError):
    """The worker process stopped without an answer (killed, out of memory), or its answer
    could not be sent back."""

    status = 500
    title = "Internal error"
    slug = "internal"


def _context(module: str) -> ForkServerContext | SpawnContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Read when the fork server starts (the first call): a module first seen later is imported
    # by each child instead, which is slower but as correct.
    _preloaded.add(module)
    context.set_forkserver_preload(sorted(_preloaded))
    return context


def _child(connection: Connection, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """In the child: run ``func`` and send ("ok", result) or ("error", exception, traceback)."""
    try:
        outcome: tuple[Any, ...] = ("ok", func(*args))
    except Exception as exc:
        outcome = ("error", exc, traceback.format_exc())
    try:
        connection.send(outcome)
    except Exception as exc:  # an unpicklable result or exception
        connection.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        connection.close()


def _supervise(
    process: BaseProcess, answers: Connection, stop: Connection, deadline: float
) -> tuple[Any, ...]:
    """In a thread: start the child, wait for its answer, the deadline or ``stop``; the child
    is gone when this returns."""
    started = False
    try:
        process.start()
        started = True
        left = max(0.0, deadline - time.monotonic())
        ready = wait([answers, process.sentinel, stop], timeout=left)
        if answers in ready or (process.sentinel in ready and answers.poll()):
            with contextlib.suppress(EOFError):
                return tuple(answers.recv())
        if stop in ready:
            return ("stopped",)
        if process.sentinel in ready:
            return ("failed", f"the worker process stopped (exit code {process.exitcode})")
        return ("late",)
    finally:
        if started:
            if process.is_alive():
                process.kill()
            process.join()
            process.close()
        answers.close()
        stop.close()


async def call_with_deadline(
    func: Callable[..., T], *args: Any, seconds: float, what: str = "the work"
) -> T:
    """``func(*args)`` run in a child process; its result, or its exception raised again here.

    ``DeadlineExceeded`` (naming ``what``) when it has not answered within ``seconds``: the
    child is killed. ``WorkerFailed`` when the child dies without answering. The event loop
    is free meanwhile; a cancelled caller kills the child too.
    """
    context = _context(func.__module__)
    answers, sender = context.Pipe(duplex=False)
    stop_reader, stop = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, func, args), daemon=True)
    deadline = time.monotonic() + seconds
    supervisor = asyncio.ensure_future(
        asyncio.to_thread(_supervise, process, answers, stop_reader, deadline)
    )
    try:
        outcome = await asyncio.shield(supervisor)
    except asyncio.CancelledError:
        with contextlib.suppress(OSError):  # the supervisor may be done and its end closed
            stop.send(None)  # the supervisor kills the child and returns
        raise
    finally:
        sender.close()
        stop.close()
    kind = outcome[0]
    if kind == "ok":
        return outcome[1]  # type: ignore[no-any-return]
    if kind == "error":
        exc = outcome[1]
        exc.add_note(f"raised in the worker process:\n{outcome[2]}")
        raise exc
    if kind == "late":
        raise DeadlineExceeded(f"{what} took longer than {seconds:g} seconds and was stopped")
    raise WorkerFailed(f"{what} failed: {outcome[1] if len(outcome) > 1 else kind}")
