"""The glue between the kit's plain-Python classes and the bindings componentize-py generates
(``wit_world``). Only imported inside a component build: ``warden plugin build`` writes an app
module that calls one of these ``export`` functions with the plugin's class."""

from __future__ import annotations

from typing import Any, Callable

from ..types import GuestFailure, InputError


def call(f: Callable[..., Any], *args: Any) -> Any:
    """Runs a plugin method, turning its exceptions into the WIT ``error`` variant (raised as
    componentize-py's ``Err``): :class:`InputError` → ``invalid-input``, anything else →
    ``guest-failure`` naming the exception."""
    from componentize_py_types import Err
    from wit_world.imports import types as wit

    try:
        return f(*args)
    except Err:
        raise
    except InputError as e:
        pos = None if e.position is None else wit.Position(e.position.line, e.position.column)
        raise Err(wit.Error_InvalidInput(wit.InputError(e.kind, e.message, pos))) from None
    except GuestFailure as e:
        raise Err(wit.Error_GuestFailure(str(e))) from None
    except RecursionError as e:
        raise Err(wit.Error_GuestFailure(f"RecursionError: {e}")) from None
    except Exception as e:  # noqa: BLE001 - every plugin bug becomes a typed guest failure
        raise Err(wit.Error_GuestFailure(f"{type(e).__name__}: {e}")) from None
