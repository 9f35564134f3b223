"""How cache entries of nodes and @task calls are named: namespaces and keys.

hitlgraph keeps the writes of a node under ``(WRITES_NS, <function>, <node name>)`` and the
result of a @task under ``(WRITES_NS, <function>)``; keys are hex digests of what the
CachePolicy's `key_func` made of the input. `hitlgraph.types.CachePolicy` takes its default
`key_func` from here, so this module must not import `hitlgraph.types`, and it imports the
serializer, pickle and hashlib only when a key is made: `import hitlgraph.types` loads this
module, and most programs never cache.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hitlgraph.checkpoint.serde import MsgpackSerializer

__all__ = ["WRITES_NS", "FullKey", "Namespace", "cache_key", "default_cache_key", "identifier"]

Namespace = tuple[str, ...]
FullKey = tuple[Namespace, str]

WRITES_NS = "__hitlgraph_writes"
"""The first part of the namespaces under which node writes and @task results are cached."""


def _freeze(value: Any) -> Any:
    """`value` with dicts and sets in a fixed order, so equal inputs make equal keys."""
    if isinstance(value, dict):
        items = [(_freeze(k), _freeze(v)) for k, v in value.items()]
        return ("__dict__", tuple(sorted(items, key=lambda kv: (type(kv[0]).__name__,
                                                                   repr(kv[0])))))
    if isinstance(value, (set, frozenset)):
        return ("__set__", tuple(sorted((_freeze(v) for v in value), key=repr)))
    if isinstance(value, (list, tuple)):
        return type(value)(_freeze(v) for v in value)
    return value


@cache
def _key_serde() -> MsgpackSerializer:
    """The serializer of default keys, made on the first key."""
    from hitlgraph.checkpoint.serde import MsgpackSerializer

    return MsgpackSerializer()


def default_cache_key(*args: Any, **kwargs: Any) -> bytes:
    """The default `CachePolicy.key_func`: the arguments, serialized in a stable way (msgpack;
    pickle for what msgpack cannot encode)."""
    from hitlgraph.checkpoint.serde import SerializationError

    frozen = (_freeze(args), _freeze(kwargs))
    try:
        tag, data = _key_serde().dumps_typed(frozen)
    except SerializationError:
        import pickle

        try:
            return b"pickle:" + pickle.dumps(frozen, protocol=5)
        except Exception as exc:
            raise TypeError(
                f"Cannot make a cache key from {args!r} {kwargs!r}: it can be neither "
                "serialized nor pickled. Give the CachePolicy a key_func, e.g. "
                "CachePolicy(key_func=lambda state: str(state['id']))."
            ) from exc
    return tag.encode() + b":" + data


def cache_key(key_func: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """The key of an input: the digest of what `key_func` makes of it (str or bytes)."""
    import hashlib

    raw = key_func(*args, **kwargs)
    if isinstance(raw, str):
        raw = raw.encode()
    if not isinstance(raw, bytes):
        raise TypeError(
            f"CachePolicy key_func {getattr(key_func, '__name__', key_func)!r} returned "
            f"{type(raw).__name__}; it must return str or bytes."
        )
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def identifier(fn: Any) -> str:
    """A name for the function whose results are cached: "module.qualname", or "__dynamic__"
    for lambdas and functions defined inside other functions (they have no stable name)."""
    fn = getattr(fn, "__func__", fn)
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not module or not qualname or "<lambda>" in qualname or "<locals>" in qualname:
        return "__dynamic__"
    return f"{module}.{qualname}"
