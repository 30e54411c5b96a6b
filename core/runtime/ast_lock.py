"""One thread at a time turns source into an AST, or an AST into code, in this process.

CPython 3.11 keeps the depth counter of that conversion in state its threads share; when a
thread switch lands inside it (a finalizer run by the garbage collector can cause one), the
conversion fails with "SystemError: AST constructor recursion depth mismatch". The app has
such threads side by side: Streamlit parsing a page for its "magic" while a model is built
ahead of Train on another thread, TensorFlow's autograph reading a function; the test process
adds pytest rewriting a module it imports and AppTest parsing a page. `install` (app.py,
tests/conftest.py) puts a lock round `compile` for exactly those two conversions (`ast.parse`
calls `compile` with PyCF_ONLY_AST); compiling source to code is untouched.
"""

from __future__ import annotations

import ast
import builtins
import threading

_LOCK = threading.RLock()
_compile = builtins.compile


def _locked_compile(source, filename, mode, flags=0, *args, **kwargs):
    if isinstance(source, ast.AST) or flags & ast.PyCF_ONLY_AST:
        with _LOCK:
            return _compile(source, filename, mode, flags, *args, **kwargs)
    return _compile(source, filename, mode, flags, *args, **kwargs)


def install() -> None:
    """Make every `compile` of this process take the lock for AST conversions."""
    builtins.compile = _locked_compile


def installed() -> bool:
    return builtins.compile is _locked_compile
