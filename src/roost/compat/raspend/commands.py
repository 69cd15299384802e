"""raspend commands on roost's registry: their names, their listing, their looser signatures.

raspend names a command after the variable that holds the object and the
method: `theDoorBell.switchDoorBell`. It finds that variable by looking through
the locals of the frames that called `addCommand`, innermost first; so does
roost. Where no variable holds the object, raspend falls back to the method's
qualified name (`DoorBell.switchDoorBell`), and roost does the same.
"""

from __future__ import annotations

import inspect
import logging
import types
import typing
from collections.abc import Callable
from typing import Any

from roost.core.commands import CommandSpec, describe_type

log = logging.getLogger(__name__)


def command_name(callback: Callable[..., Any], caller: types.FrameType | None) -> str:
    """Return raspend's name for `callback`, looking for its object from the frame `caller` outward."""
    owner = getattr(callback, "__self__", None)
    method = str(getattr(callback, "__name__", "command"))
    fallback = str(getattr(callback, "__qualname__", method))
    if owner is None or isinstance(owner, types.ModuleType):
        # raspend accepts bound methods only; a plain function is named as raspend's fallback names.
        return fallback
    frame = caller
    try:
        while frame is not None:
            for variable, value in list(frame.f_locals.items()):
                # Identity, where raspend compared with ==: an object with its own __eq__
                # must not borrow the name of another that merely equals it.
                if value is owner:
                    return f"{variable}.{method}"
            frame = frame.f_back
    finally:
        del frame  # frames hold their locals; do not keep them alive through a cycle
    return fallback


def registrable(func: Callable[..., Any]) -> Callable[..., Any]:
    """Return `func`, or a stand-in whose signature roost's argument checking accepts.

    raspend calls `func(**args)` and looks at nothing else, so its programs may
    have a `*args` parameter (always empty) or annotations roost cannot check
    (`when: datetime`, an unresolvable string). The stand-in drops the one and
    treats such parameters as taking any JSON value, with a warning.
    """
    signature = inspect.signature(func)
    hints, complete = _type_hints(func)
    changed = not complete
    params: list[inspect.Parameter] = []
    for p in signature.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            changed = True
            continue
        annotation = hints.get(p.name, p.empty)
        if annotation is p.empty and p.annotation is not p.empty:
            log.warning(
                "command %s: cannot resolve the annotation %r of %r; it takes any JSON value",
                func.__qualname__,
                p.annotation,
                p.name,
            )
        elif annotation is not p.empty and not _checkable(annotation, p.name):
            log.warning(
                "command %s: roost cannot check values of type %r for %r; it takes any JSON value",
                func.__qualname__,
                annotation,
                p.name,
            )
            annotation, changed = p.empty, True
        params.append(p.replace(annotation=annotation))
    if not changed:
        return func
    return _stand_in(func, signature.replace(parameters=params, return_annotation=signature.empty))


def describe(spec: CommandSpec) -> dict[str, Any]:
    """Return raspend's listing of a command: name, argument types ("" for none) and a /cmd URL."""
    args = {p.name: "" if p.type == "any" else p.type for p in spec.params}
    url = f"/cmd?name={spec.name}" + "".join(f"&{name}=" for name in args)
    return {"Command": {"Name": spec.name, "Args": args, "URL": url}}


def _type_hints(func: Callable[..., Any]) -> tuple[dict[str, Any], bool]:
    # Return the resolved annotations, and whether all of them could be resolved.
    target = getattr(func, "__func__", func)
    try:
        return typing.get_type_hints(target), True
    except Exception:
        pass
    namespace = getattr(target, "__globals__", {})
    hints: dict[str, Any] = {}
    for name, annotation in getattr(target, "__annotations__", {}).items():
        if isinstance(annotation, str):
            try:
                # What typing.get_type_hints does for each string, one at a time here.
                annotation = eval(annotation, namespace)
            except Exception:
                continue
        hints[name] = annotation
    return hints, False


def _checkable(annotation: Any, name: str) -> bool:
    try:
        describe_type(annotation, name)
    except TypeError:
        return False
    return True


def _stand_in(func: Callable[..., Any], signature: inspect.Signature) -> Callable[..., Any]:
    stand_in: Callable[..., Any]
    if inspect.iscoroutinefunction(func):

        async def call_async(**kwargs: Any) -> Any:
            return await func(**kwargs)

        stand_in = call_async
    else:

        def call(**kwargs: Any) -> Any:
            return func(**kwargs)

        stand_in = call
    # No __wrapped__: typing and inspect would follow it back to the original signature.
    typing.cast(Any, stand_in).__signature__ = signature
    stand_in.__annotations__ = {
        p.name: p.annotation for p in signature.parameters.values() if p.annotation is not p.empty
    }
    stand_in.__name__ = str(getattr(func, "__name__", "command"))
    stand_in.__qualname__ = str(getattr(func, "__qualname__", stand_in.__name__))
    stand_in.__doc__ = func.__doc__
    return stand_in
