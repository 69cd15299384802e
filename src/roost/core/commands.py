"""Command specs built from type hints, and the checking of call arguments against them.

A command is a plain function or bound method. Its parameters' annotations decide
what a caller may send: `int`, `float`, `bool`, `str`, an `Enum`, a `Literal`,
`X | None`, `list[X]`, `dict[str, X]`, or no annotation (any JSON). Strings are
converted for scalar types because query strings, HTML forms and MQTT payloads
carry nothing else; everything else must already have the right JSON type.
"""

from __future__ import annotations

import enum
import inspect
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from roost.core.caller import Scope
from roost.core.errors import InvalidArguments
from roost.core.tree import same

Converter = Callable[[Any], Any]
_MISSING: Any = inspect.Parameter.empty


class _Reject(Exception):
    """A value does not fit a type; the message says what was expected."""


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One argument of a command, as listed to callers."""

    name: str
    type: str
    schema: dict[str, Any]
    required: bool
    default: Any = None
    convert: Converter = field(default=lambda v: v, repr=False, compare=False)

    def describe(self) -> dict[str, Any]:
        """Return the JSON listing of this parameter."""
        out: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required}
        if not self.required:
            out["default"] = self.default
        if "enum" in self.schema:
            out["choices"] = list(self.schema["enum"])
        return out


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A callable exposed as a command, with its checked parameters."""

    name: str
    func: Callable[..., Any] = field(repr=False, compare=False)
    params: tuple[ParamSpec, ...]
    doc: str
    is_async: bool
    extra_args: bool = False
    # What a caller needs to run it: switching things is `control`; settings are `admin`.
    scope: Scope = Scope.CONTROL

    def describe(self) -> dict[str, Any]:
        """Return the JSON listing of this command."""
        return {
            "name": self.name,
            "doc": self.doc,
            "scope": self.scope.label,
            "args": [p.describe() for p in self.params],
        }

    def args_schema(self) -> dict[str, Any]:
        """Return the JSON Schema of the argument object."""
        return {
            "type": "object",
            "properties": {p.name: p.schema for p in self.params},
            "required": [p.name for p in self.params if p.required],
            "additionalProperties": self.extra_args,
        }


def build_spec(
    func: Callable[..., Any], name: str | None = None, scope: Scope | str = Scope.CONTROL
) -> CommandSpec:
    """Return the spec of `func`; raise TypeError for parameters no caller could fill.

    `scope` is what a caller needs to run it (`"read"`, `"control"` or `"admin"`);
    ValueError names the choices for any other.
    """
    needed = Scope.parse(scope)
    target = func.__func__ if inspect.ismethod(func) else func
    try:
        hints = typing.get_type_hints(target, include_extras=False)
    except Exception as exc:  # a forward reference the module cannot resolve
        raise TypeError(f"cannot read the type hints of {func!r}: {exc}") from None
    params: list[ParamSpec] = []
    extra = False
    for p in inspect.signature(func).parameters.values():
        if p.kind is p.VAR_KEYWORD:
            extra = True
            continue
        if p.kind in (p.VAR_POSITIONAL, p.POSITIONAL_ONLY):
            raise TypeError(f"command parameter {p.name!r}: only named parameters can be called")
        annotation = hints.get(p.name, _MISSING)
        type_name, schema, convert = describe_type(annotation, p.name)
        required = p.default is _MISSING
        default = None if required else p.default
        if not required and isinstance(default, enum.Enum):
            default = default.value
        params.append(ParamSpec(p.name, type_name, schema, required, default, convert))
    doc = inspect.cleandoc(func.__doc__ or "")
    return CommandSpec(
        name=name or str(getattr(func, "__name__", "command")),
        func=func,
        params=tuple(params),
        doc=doc,
        is_async=inspect.iscoroutinefunction(func),
        extra_args=extra,
        scope=needed,
    )


def check_arguments(spec: CommandSpec, args: Mapping[str, Any]) -> dict[str, Any]:
    """Return the converted keyword arguments, or raise InvalidArguments naming the culprit."""
    if not isinstance(args, Mapping):
        raise InvalidArguments("arguments must be a JSON object")
    known = {p.name for p in spec.params}
    if not spec.extra_args:
        for key in args:
            if key not in known:
                raise InvalidArguments(
                    f"{spec.name}() has no argument {key!r}; it takes "
                    + (", ".join(sorted(known)) or "no arguments"),
                    argument=str(key),
                )
    out: dict[str, Any] = {}
    for p in spec.params:
        if p.name not in args:
            if p.required:
                raise InvalidArguments(f"missing argument {p.name!r} ({p.type})", argument=p.name)
            continue
        try:
            out[p.name] = p.convert(args[p.name])
        except _Reject as exc:
            raise InvalidArguments(f"argument {p.name!r}: {exc}", argument=p.name) from None
    if spec.extra_args:
        out.update({k: v for k, v in args.items() if k not in known})
    return out


def describe_type(annotation: Any, where: str) -> tuple[str, dict[str, Any], Converter]:
    """Return `(display name, JSON Schema, converter)` for a parameter annotation."""
    if annotation is _MISSING or annotation is Any:
        return "any", {}, _identity
    if annotation is type(None):
        return "null", {"type": "null"}, _to_none
    if annotation in _SCALARS:
        name, schema, conv = _SCALARS[annotation]
        return name, dict(schema), conv
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _enum_type(annotation)
    origin = typing.get_origin(annotation)
    targs = typing.get_args(annotation)
    if origin is typing.Literal:
        return _literal_type(targs)
    if origin in (typing.Union, types.UnionType):
        return _union_type(targs, where)
    if origin in (list, tuple, set, frozenset) or annotation in (list, tuple):
        item = targs[0] if targs else _MISSING
        iname, ischema, iconv = describe_type(item, where)
        return f"list[{iname}]", {"type": "array", "items": ischema}, _list_of(iconv)
    if origin is dict or annotation is dict:
        vtype = targs[1] if len(targs) == 2 else _MISSING
        vname, vschema, vconv = describe_type(vtype, where)
        return (
            f"dict[str, {vname}]",
            {"type": "object", "additionalProperties": vschema},
            _dict_of(vconv),
        )
    raise TypeError(f"command parameter {where!r}: cannot take values of type {annotation!r}")


def _identity(value: Any) -> Any:
    return value


def _to_none(value: Any) -> None:
    if value is None or value == "" or (isinstance(value, str) and value.lower() == "null"):
        return None
    raise _Reject(f"expected null, got {_show(value)}")


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise _Reject(f"expected an integer, got {_show(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _Reject(f"expected an integer, got {_show(value)}")


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise _Reject(f"expected a number, got {_show(value)}")
    if isinstance(value, (int, float)):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            raise _Reject(f"expected a number, got {_show(value)}") from None
    else:
        raise _Reject(f"expected a number, got {_show(value)}")
    if not math.isfinite(result):
        raise _Reject(f"expected a finite number, got {_show(value)}")
    return result


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    raise _Reject(f"expected true or false, got {_show(value)}")


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _Reject(f"expected a string, got {_show(value)}")


_SCALARS: dict[Any, tuple[str, dict[str, Any], Converter]] = {
    int: ("int", {"type": "integer"}, _to_int),
    float: ("float", {"type": "number"}, _to_float),
    bool: ("bool", {"type": "boolean"}, _to_bool),
    str: ("str", {"type": "string"}, _to_str),
}


def _enum_type(cls: type[enum.Enum]) -> tuple[str, dict[str, Any], Converter]:
    members = list(cls)
    values = [m.value for m in members]

    def convert(value: Any) -> enum.Enum:
        for m in members:
            # True == 1 in Python, but a JSON boolean is no integer value.
            if (value == m.value and isinstance(value, bool) == isinstance(m.value, bool)) or (
                isinstance(value, str) and (value == m.name or value == str(m.value))
            ):
                return m
        raise _Reject(f"expected one of {values}, got {_show(value)}")

    return cls.__name__, {"enum": values}, convert


def _literal_type(choices: tuple[Any, ...]) -> tuple[str, dict[str, Any], Converter]:
    def convert(value: Any) -> Any:
        for c in choices:
            if type(value) is type(c) and value == c:
                return c
            if isinstance(value, str) and not isinstance(c, str) and value == _literal_text(c):
                return c
        raise _Reject(f"expected one of {list(choices)}, got {_show(value)}")

    return "choice", {"enum": list(choices)}, convert


def _literal_text(choice: Any) -> str:
    return str(choice).lower() if isinstance(choice, bool) else str(choice)


def _union_type(targs: tuple[Any, ...], where: str) -> tuple[str, dict[str, Any], Converter]:
    members = [describe_type(t, where) for t in targs if t is not type(None)]
    nullable = type(None) in targs
    names = [m[0] for m in members] + (["None"] if nullable else [])
    schemas = [m[1] for m in members] + ([{"type": "null"}] if nullable else [])
    convs = [m[2] for m in members]

    def convert(value: Any) -> Any:
        if value is None and nullable:
            return None
        reasons = []
        converted = []
        for conv in convs:
            try:
                result = conv(value)
            except _Reject as exc:
                reasons.append(str(exc))
                continue
            # A member that takes the value as it is wins over an earlier one that would
            # convert it: "5" stays a string for `int | str`, 1 stays an int for `bool | int`.
            if same(result, value):
                return result
            converted.append(result)
        if converted:
            return converted[0]
        raise _Reject(" or ".join(reasons) if reasons else f"expected null, got {_show(value)}")

    schema = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    return " | ".join(names), schema, convert


def _list_of(conv: Converter) -> Converter:
    def convert(value: Any) -> list[Any]:
        if not isinstance(value, (list, tuple)):
            raise _Reject(f"expected a list, got {_show(value)}")
        out = []
        for i, item in enumerate(value):
            try:
                out.append(conv(item))
            except _Reject as exc:
                raise _Reject(f"item {i}: {exc}") from None
        return out

    return convert


def _dict_of(conv: Converter) -> Converter:
    def convert(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise _Reject(f"expected an object, got {_show(value)}")
        out = {}
        for key, item in value.items():
            try:
                out[str(key)] = conv(item)
            except _Reject as exc:
                raise _Reject(f"key {key!r}: {exc}") from None
        return out

    return convert


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
