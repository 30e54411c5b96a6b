"""core.runtime.ast_lock: threads parsing side by side, garbage collected meanwhile."""

from __future__ import annotations

import argparse
import ast
import inspect
import threading

from core.runtime import ast_lock

PARSES = 30  # per thread: without the lock, CPython 3.11 fails a few of them
GARBAGE = 30_000  # pairs of _Cycle made meanwhile


class _Cycle:
    """Garbage the collector must find, with a finalizer that runs Python code: a thread
    switch can land in the middle of another thread's AST conversion."""

    def __del__(self):
        sum(range(50))


def test_the_suite_runs_with_the_lock_installed():
    assert ast_lock.installed()


def test_two_threads_parse_and_compile_while_garbage_is_collected_without_error():
    source = inspect.getsource(argparse)
    errors: list[str] = []

    def parse() -> None:
        for _ in range(PARSES):
            try:
                compile(ast.parse(source), "argparse", "exec")
            except SystemError as error:  # "AST constructor recursion depth mismatch"
                errors.append(str(error))

    def make_garbage() -> None:
        for _ in range(GARBAGE):
            first, second = _Cycle(), _Cycle()
            first.other, second.other = second, first

    threads = [threading.Thread(target=parse) for _ in range(2)]
    garbage = threading.Thread(target=make_garbage)
    for thread in [*threads, garbage]:
        thread.start()
    for thread in [*threads, garbage]:
        thread.join()
    assert errors == []
    tree = ast.parse("x = 1")  # the lock changes nothing else
    assert compile(tree, "x", "exec") and compile("x = 1", "x", "exec")
