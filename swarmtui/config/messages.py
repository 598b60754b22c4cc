"""Error messages for config files: one line per problem, naming the dotted key path.

Pydantic's errors are turned into plain sentences: what the key expected (from the declared
type, its bounds and its ``_Expect`` text), what the file gave, and for an unknown key the
closest known one.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel

from swarmtui.config.model import Config
from swarmtui.config.units import _describe_input, _Expect

_BARE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as a TOML dotted key: ("slots", "pools", "a b") -> slots.pools."a b"."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            piece = part if _BARE_KEY_RE.match(part) else json.dumps(part)
            out += f".{piece}" if out else piece
    return out


def _describe_error(err: Mapping[str, Any]) -> str:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "swarm_cross":
        ctx = err["ctx"]
        parts = tuple(int(k) if k.isdigit() else k for k in ctx["key"].split("."))
        key = _key_path(loc + parts)
        return f"key `{key}`: {ctx['message']}"
    if kind == "extra_forbidden":
        return _describe_unknown_key(loc)
    if kind == "value_error" and loc and loc[-1] != "[key]":
        # Raised by our own parsers, whose message already says what was expected.
        return f"key `{_key_path(loc)}`: {err['ctx']['error']}"
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
        parent = _type_at(loc[:-1])
        key_type = get_args(_strip(parent)[0])[0] if parent is not None else None
        expected = _expected(key_type) if key_type is not None else None
        what = f"expected {expected}" if expected else err["msg"]
        return f"invalid name `{_key_path(loc)}`: {what}, got {err['input']!r}"
    tp = _type_at(loc)
    expected = _expected(tp) if tp is not None else None
    key = _key_path(loc)
    if kind == "missing":
        return f"missing key `{key}`" + (f": expected {expected}" if expected else "")
    got = _describe_input(err["input"])
    expect = _expect_of(tp)
    show = expect.show if expect is not None else None
    value = err["input"]
    if show is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            got = repr(show(value))
        except ValueError:
            pass  # e.g. a negative number: quote it as it is
    if expected is None:
        return f"key `{key}`: {err['msg']}, got {got}"
    return f"key `{key}`: expected {expected}, got {got}"


def _describe_unknown_key(loc: tuple[int | str, ...]) -> str:
    name = str(loc[-1])
    parent = _type_at(loc[:-1])
    model = _strip(parent)[0] if parent is not None else None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return f"unknown key `{_key_path(loc)}`"
    known = list(model.model_fields)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean `{close[0]}`? " if close else ""
    where = f"keys in [{_key_path(loc[:-1])}]" if len(loc) > 1 else "sections"
    return f"unknown key `{_key_path(loc)}` ({hint}known {where}: {', '.join(known)})"


def _strip(tp: Any) -> tuple[Any, list[Any]]:
    """Unwrap ``Annotated`` (also nested), returning the bare type and all its metadata."""
    metadata: list[Any] = []
    while get_origin(tp) is Annotated:
        args = get_args(tp)
        tp = args[0]
        metadata = list(args[1:]) + metadata
    return tp, metadata


def _type_at(loc: tuple[int | str, ...]) -> Any:
    """The declared type (with its metadata) at a location in ``Config``, or None."""
    tp: Any = Config
    for part in loc:
        bare, _metadata = _strip(tp)
        if isinstance(bare, type) and issubclass(bare, BaseModel):
            field = bare.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
            if field.metadata:  # pydantic moves a field's Annotated extras into metadata
                tp = Annotated[(tp, *field.metadata)]
        elif get_origin(bare) is dict:
            tp = get_args(bare)[1]
        elif get_origin(bare) is list and isinstance(part, int):
            tp = get_args(bare)[0]
        else:
            return None
    return tp


def _expect_of(tp: Any) -> _Expect | None:
    """The outermost ``_Expect`` annotation of ``tp``, if any."""
    for item in reversed(_strip(tp)[1]):
        if isinstance(item, _Expect):
            return item
    return None


def _expected(tp: Any) -> str | None:
    """A phrase for what a value of type ``tp`` looks like, e.g. "an integer >= 1"."""
    if (expect := _expect_of(tp)) is not None:
        return expect.text
    bare, metadata = _strip(tp)
    bounds = []
    for item in metadata:
        if isinstance(item, at.Ge):
            bounds.append(f">= {item.ge}")
        elif isinstance(item, at.Gt):
            bounds.append(f"> {item.gt}")
    suffix = (" " + " and ".join(bounds)) if bounds else ""
    origin = get_origin(bare)
    if bare is bool:
        return "true or false"
    if bare is int:
        return "an integer" + suffix
    if bare is float:
        return "a number" + suffix
    if bare is str:
        non_empty = any(isinstance(m, at.MinLen) for m in metadata)
        return "a non-empty string" if non_empty else "a string"
    if origin is Literal:
        return "one of " + ", ".join(json.dumps(a) for a in get_args(bare))
    if origin is list:
        return "an array"
    if origin is dict or (isinstance(bare, type) and issubclass(bare, BaseModel)):
        return "a table"
    return None
