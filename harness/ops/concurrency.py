"""Run a function over several arguments at once: greenlets under gevent (inside Locust), threads otherwise."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def _gevent_patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("socket")


def run_parallel(function: Callable[[T], R], arguments: Iterable[T]) -> list[R]:
    """function(argument) for every argument concurrently; results in argument order; the first error is raised."""
    arguments = list(arguments)
    if len(arguments) <= 1:
        return [function(argument) for argument in arguments]
    if _gevent_patched():
        import gevent

        greenlets = [gevent.spawn(function, argument) for argument in arguments]
        gevent.joinall(greenlets, raise_error=True)
        return [greenlet.value for greenlet in greenlets]
    with ThreadPoolExecutor(max_workers=len(arguments)) as pool:
        return list(pool.map(function, arguments))
