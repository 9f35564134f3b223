"""What an assistant's graph looks like, as LangGraph's server shows it: its drawing
(GET /assistants/{id}/graph), the JSON schemas of its state, input, output, config and context
(.../schemas), and those of its subgraphs (.../subgraphs)."""

from __future__ import annotations

import typing
import warnings
from collections.abc import Iterator
from typing import Any

from hitlgraph.graph._schema import keys_of
from hitlgraph.pregel.compiled import CompiledStateGraph

__all__ = ["graph_json", "schemas_json", "subgraphs_json"]

NS_SEP = "|"
"""Between the node names of a nested subgraph's namespace, as in LangGraph."""


def graph_json(compiled: CompiledStateGraph) -> dict[str, Any]:
    """The graph's nodes and edges as LangGraph's server answers them (langchain-core's
    Graph.to_json): a node is {"id", "type": "runnable", "data": {"name"}} plus its
    "metadata" when it has some; "__end__" is only {"id"}; an edge is {"source", "target"},
    plus "conditional": true and its "data" (label) when it has them."""
    drawn = compiled.get_graph().to_json()
    nodes: list[dict[str, Any]] = []
    for node in drawn["nodes"]:
        if node["id"] == "__end__":
            nodes.append({"id": node["id"]})
            continue
        item: dict[str, Any] = {"id": node["id"], "type": "runnable",
                                "data": {"name": node["name"]}}
        if node["metadata"]:
            item["metadata"] = node["metadata"]
        nodes.append(item)
    edges: list[dict[str, Any]] = []
    for edge in drawn["edges"]:
        item = {"source": edge["source"], "target": edge["target"]}
        if edge["data"] is not None:
            item["data"] = edge["data"]
        if edge["conditional"]:
            item["conditional"] = True
        edges.append(item)
    return {"nodes": nodes, "edges": edges}


def _name_with(name: str, suffix: str) -> str:
    """LangChain's Runnable.get_name(suffix): "MyGraph" -> "MyGraphState", "agent" ->
    "agent_state"."""
    return name + suffix if name[:1].isupper() else f"{name}_{suffix.lower()}"


def _quietly(build: typing.Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """`build()`, or None when the type has no JSON schema (LangGraph's server answers null
    then, e.g. for a typing.TypedDict before Python 3.12, which pydantic refuses)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return build()
    except Exception:
        return None


def _type_schema(schema: Any) -> dict[str, Any] | None:
    from pydantic import BaseModel, TypeAdapter

    if isinstance(schema, type) and issubclass(schema, BaseModel):
        model: type[BaseModel] = schema
        return _quietly(model.model_json_schema)
    return _quietly(lambda: TypeAdapter(schema).json_schema())


def _hints(schema: Any) -> dict[str, Any]:
    """The schema's state keys and their types (Any where the hints cannot be read)."""
    try:
        hints = typing.get_type_hints(schema)
    except Exception:
        hints = {}
    return {key: hints.get(key, Any) for key in keys_of(schema)}


def _fields_schema(title: str, schema: Any) -> dict[str, Any] | None:
    """A model of `schema`'s keys, each optional with default None, as LangGraph builds a
    state's schema from its channels (a key whose type has no JSON schema is Any)."""
    from pydantic import TypeAdapter, create_model

    def usable(hint: Any) -> Any:
        return hint if _quietly(lambda: TypeAdapter(hint).json_schema()) is not None else Any

    fields: dict[str, Any] = {key: (usable(hint), None) for key, hint in _hints(schema).items()}
    return _quietly(lambda: create_model(title, **fields).model_json_schema())


def _io_schema(schema: Any, title: str) -> dict[str, Any] | None:
    """An input or output schema: a pydantic model's or a TypedDict's own JSON schema (None
    when pydantic refuses it), else (a dataclass, ...) a model of its keys."""
    import typing_extensions
    from pydantic import BaseModel

    if schema is None:
        return None
    if (isinstance(schema, type) and issubclass(schema, BaseModel)) or \
            typing_extensions.is_typeddict(schema):
        return _type_schema(schema)
    return _fields_schema(title, schema)


def _config_schema(schema: Any) -> dict[str, Any] | None:
    if schema is None:
        return {}
    found = _type_schema(schema)
    if found is not None and hasattr(schema, "__name__"):
        found["title"] = schema.__name__
    return found


def _graph_schemas(compiled: CompiledStateGraph, name: str) -> dict[str, Any]:
    # The state, input and output schemas as compile() froze them; the config and context
    # schemas are not part of the frozen structure yet, so they still come from the builder.
    structure, builder = compiled.structure, compiled.builder
    return {
        "input_schema": _io_schema(structure.input_schema, _name_with(name, "Input")),
        "output_schema": _io_schema(structure.output_schema, _name_with(name, "Output")),
        "state_schema": _fields_schema(_name_with(name, "State"), structure.state_schema),
        "config_schema": _config_schema(builder.config_schema),
        "context_schema": (None if builder.context_schema is None
                           else _type_schema(builder.context_schema)),
    }


def schemas_json(compiled: CompiledStateGraph, graph_id: str) -> dict[str, Any]:
    """GET /assistants/{id}/schemas: the graph's schemas, named after the graph id."""
    return {"graph_id": graph_id, **_graph_schemas(compiled, graph_id)}


def _subgraphs(compiled: CompiledStateGraph, namespace: str | None, recurse: bool
               ) -> Iterator[tuple[str, CompiledStateGraph]]:
    """LangGraph's Pregel.get_subgraphs: (namespace, subgraph) of the nodes that run one;
    `namespace` picks one ("parent|child" needs `recurse`)."""
    for name, node in compiled.spec.nodes.items():
        if namespace is not None and namespace != name and \
                not namespace.startswith(name + NS_SEP):
            continue
        graph = node.subgraph
        if graph is None:
            continue
        if name == namespace:
            yield name, graph
            return
        if namespace is None:
            yield name, graph
        if recurse:
            inner = None if namespace is None else namespace[len(name) + 1:]
            yield from ((f"{name}{NS_SEP}{n}", s) for n, s in _subgraphs(graph, inner, recurse))


def subgraphs_json(compiled: CompiledStateGraph, namespace: str | None, recurse: bool
                   ) -> dict[str, Any]:
    """GET /assistants/{id}/subgraphs[/{namespace}]: namespace -> that subgraph's schemas
    (named after its graph's name, "LangGraph" unless compile(name=...) gave one)."""
    return {ns: _graph_schemas(graph, graph.name)
            for ns, graph in _subgraphs(compiled, namespace, recurse)}
