"""Optional langchain-core support: its message objects pass through add_messages, ToolNode and
tools_condition as they are, and checkpoints can store them.

langchain_core is never imported by `import hitlgraph`. Its classes are looked up in
sys.modules: a langchain message object can only exist once langchain_core is imported.
Checkpoint decoding needs its classes before any object exists (a new process reading a thread),
so, when langchain_core is installed, decoders are registered under fixed names; each imports
langchain_core.messages the first time it runs.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import uuid
from collections.abc import Callable
from typing import Any

from hitlgraph._install import install_command
from hitlgraph.checkpoint.serde import register_type

__all__ = [
    "LANGCHAIN_CLASSES",
    "ensure_langchain_registered",
    "is_langchain_message",
    "langchain_installed",
    "register_langchain_decoders",
    "with_langchain_id",
]

_MODULE = "langchain_core.messages"

LANGCHAIN_CLASSES: dict[str, str] = {
    "AIMessage": "ai",
    "AIMessageChunk": "ai",
    "ChatMessage": "chat",
    "ChatMessageChunk": "chat",
    "FunctionMessage": "function",
    "FunctionMessageChunk": "function",
    "HumanMessage": "human",
    "HumanMessageChunk": "human",
    "RemoveMessage": "modifier",
    "SystemMessage": "system",
    "SystemMessageChunk": "system",
    "ToolMessage": "tool",
    "ToolMessageChunk": "tool",
}
"""langchain_core.messages class name -> the submodule that defines it."""


def _stable_name(class_name: str) -> str:
    return f"{_MODULE}.{class_name}"


def _default_name(class_name: str) -> str:
    # The name the serializer gives an unregistered pydantic class (module.QualifiedName): data
    # written before this module registered the class uses it.
    return f"{_MODULE}.{LANGCHAIN_CLASSES[class_name]}.{class_name}"


def langchain_installed() -> bool:
    """Whether langchain_core can be imported (without importing it)."""
    if "langchain_core" in sys.modules:
        return True
    try:
        return importlib.util.find_spec("langchain_core") is not None
    except (ImportError, ValueError):
        return False


def _messages_module() -> Any:
    return sys.modules.get(_MODULE)


def is_langchain_message(obj: Any) -> bool:
    """Whether `obj` is a langchain_core message (False when langchain_core is not loaded)."""
    module = _messages_module()
    return module is not None and isinstance(obj, module.BaseMessage)


def with_langchain_id(message: Any) -> Any:
    """`message` itself when it has an id, else a copy with a new uuid (the original is kept)."""
    if message.id is not None:
        return message
    return message.model_copy(update={"id": str(uuid.uuid4())})


def _encode(message: Any) -> Any:
    # The same layout as the serializer's own pydantic codec, so one decoder reads both.
    return [dict(message.__dict__), sorted(message.model_fields_set)]


def _decoder(class_name: str) -> Callable[[Any], Any]:
    def decode(state: Any) -> Any:
        try:
            module = importlib.import_module(_MODULE)
        except ImportError as exc:
            raise ImportError(
                f"This checkpoint holds a langchain_core {class_name}, but langchain_core is not "
                f"installed. Install it with: {install_command('langchain')}."
            ) from exc
        values, fields_set = state
        # No validation: the values were valid when stored and keep their exact types.
        return getattr(module, class_name).model_construct(_fields_set=set(fields_set), **values)

    return decode


class _LangChainMessageData:
    """Stands for langchain_core message classes in the type registry until they are imported:
    only its decoders are used."""


def _refuse(obj: Any) -> Any:
    raise TypeError("_LangChainMessageData is a registry placeholder and has no instances.")


def register_langchain_decoders() -> None:
    """Let checkpoints hold langchain_core messages, if langchain_core is installed."""
    if not langchain_installed():
        return
    for class_name in LANGCHAIN_CLASSES:
        decode = _decoder(class_name)
        for name in (_stable_name(class_name), _default_name(class_name)):
            register_type(_LangChainMessageData, name, encode=_refuse, decode=decode)
    if _MODULE in sys.modules:
        ensure_langchain_registered()


_registered = False
_lock = threading.Lock()


def ensure_langchain_registered() -> None:
    """Register the langchain_core message classes (once) under stable names, if loaded."""
    global _registered
    if _registered:
        return
    module = _messages_module()
    if module is None:
        return
    with _lock:
        if _registered:
            return
        for class_name in LANGCHAIN_CLASSES:
            cls = getattr(module, class_name, None)
            if isinstance(cls, type):
                register_type(cls, _stable_name(class_name), encode=_encode,
                              decode=_decoder(class_name))
        _registered = True
