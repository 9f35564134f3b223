"""The "env" key of langgraph.json: environment variables set before any module the config
names is imported, as `langgraph dev` sets them.

"env" is the path of a .env file (relative to the config file's folder; read with
python-dotenv, so `${VAR}` references expand), or an object of variable names to values. As
with `langgraph dev`, these values replace variables already set in the environment. A named
file that does not exist sets nothing and is reported at startup (LangGraph's CLI warns too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hitlgraph._install import install_command

__all__ = ["EnvError", "env_from_config"]


class EnvError(ValueError):
    """The "env" value is neither a path nor an object of names to values."""


def _from_object(value: dict[Any, Any], file: Path) -> dict[str, str]:
    bad = [k for k, v in value.items()
           if not isinstance(v, (str, int, float)) or isinstance(v, bool)]
    if bad:
        raise EnvError(f"\"env\" in '{file}' gives {', '.join(repr(k) for k in bad)} a value "
                       "that is not a string or a number: write each value as a string, e.g. "
                       "\"env\": {\"DEBUG\": \"true\"}.")
    return {str(k): str(v) for k, v in value.items()}


def _from_file(name: str, base_dir: Path) -> dict[str, str]:
    try:
        from dotenv import dotenv_values
    except ImportError as exc:
        raise EnvError(f"Reading \"env\": \"{name}\" needs python-dotenv ({exc}). Install the "
                       f"server's dependencies with: {install_command('server')}") from None
    # A line "NAME" without "=" reads as None: it sets nothing (as with LangGraph's CLI).
    return {k: v for k, v in dotenv_values(base_dir / name).items() if v is not None}


def env_from_config(value: Any, base_dir: Path, file: Path
                    ) -> tuple[dict[str, str], list[str]]:
    """The variables langgraph.json's "env" `value` sets, and the warnings to show at
    startup; `file` is the config file, in the folder `base_dir`.

    Raises:
        EnvError: `value` is neither a string nor an object of names to strings or numbers.
    """
    if value is None:
        return {}, []
    if isinstance(value, dict):
        return _from_object(value, file), []
    if not isinstance(value, str):
        raise EnvError(f"\"env\" in '{file}' must be the path of a .env file (e.g. \"env\": "
                       "\".env\") or an object of variable names to values (e.g. \"env\": "
                       "{\"OPENAI_API_KEY\": \"...\"}).")
    if not (base_dir / value).is_file():
        return {}, [f"\"env\" in '{file}' names '{base_dir / value}', which does not exist: no "
                    "variables were loaded from it. Create it, or fix the path (relative to "
                    "the config file's folder)."]
    return _from_file(value, base_dir), []
