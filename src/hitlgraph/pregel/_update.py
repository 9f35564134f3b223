"""update_state: apply values as if a node had returned them, and save that as a new
checkpoint (a step of its own, as in LangGraph)."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from hitlgraph.constants import END, START
from hitlgraph.errors import InvalidUpdateError
from hitlgraph.pregel._algo import RunState, Task, apply_writes, make_task
from hitlgraph.pregel._effects import Effect, Load, RunOne
from hitlgraph.pregel._params import RunParams, checkpoint_metadata, thread_config
from hitlgraph.pregel._saving import RunSaver
from hitlgraph.pregel._spec import GraphSpec, NodeSpec
from hitlgraph.pregel._stream import patch_checkpoint_map


@dataclass(slots=True, kw_only=True)
class UpdateParams:
    """An update_state call."""

    run: RunParams
    values: Any
    as_node: str | None


def _infer_as_node(spec: GraphSpec, st: RunState, thread_id: str) -> str:
    writers = [w for w in st.writers if w in spec.nodes]
    if not st.id or not writers:
        return START
    if len(writers) == 1:
        return writers[0]
    raise InvalidUpdateError(
        f"Ambiguous update: the last step of thread '{thread_id}' ran {writers}. Say which node "
        "the update comes from: update_state(config, values, as_node='...')."
    )


def update_loop(u: UpdateParams) -> Generator[Effect, Any, dict[str, Any]]:
    """Apply `u.values` as if node `u.as_node` had returned them; save a new checkpoint."""
    p = u.run
    spec = p.spec
    requested = p.config["configurable"].get("checkpoint_id")
    start = yield Load(thread_config(p, requested))
    if requested is not None and start is None:
        raise ValueError(f"Thread '{p.thread_id}' has no checkpoint '{requested}'.")
    latest = start
    if requested is not None:
        latest = yield Load(thread_config(p))
    saver = RunSaver(p, latest.checkpoint["id"] if latest else "")
    if start is not None:
        st = RunState.from_checkpoint(spec, start.checkpoint)
        saver.parent = st.id
        st.step = int(start.metadata.get("step", -1))
    else:
        st = RunState.fresh(spec)
        st.step = -2
    as_node = u.as_node if u.as_node is not None else _infer_as_node(spec, st, p.thread_id)
    if as_node != END and as_node not in spec.nodes and as_node != "__copy__":
        raise InvalidUpdateError(
            f"Node '{as_node}' does not exist; as_node must be one of "
            f"{sorted(n for n in spec.nodes if n != START)} or END."
        )
    new_versions: dict[str, int] = {}
    source = "update"
    base_id = st.id
    if as_node == "__copy__":
        source = "fork"
    elif as_node == END:
        if u.values is not None:
            raise InvalidUpdateError(
                "update_state(config, values, as_node=END) takes no values: pass None to drop the "
                "pending tasks, or name the node the values come from."
            )
        changed = ["__pregel_tasks"] if st.sends else []
        st.triggers, st.sends = [], []
        st.renew()
        new_versions = st.bump(changed) if changed else {}
        st.writers = []
    else:
        node: NodeSpec = spec.nodes[as_node]
        task = plan_tasks_for_update(spec, st, p, node, u.values)
        done = yield RunOne(task, st.values)
        if done.error is not None:
            raise done.error
        if done.interrupts:
            raise InvalidUpdateError("update_state values cannot call interrupt().")
        updated, triggered, sends = apply_writes(spec, st, [done], step=st.step + 1)
        st.renew()
        # As in LangGraph, the update is a step of its own in which only as_node ran: next are
        # the nodes its writes trigger; tasks the checkpoint had pending are dropped.
        had_sends = bool(st.sends)
        st.triggers, st.sends = triggered, sends
        emptied = st.live.emptied if st.live is not None else {}
        changed = [*updated, *emptied, *(["__pregel_tasks"] if sends or had_sends else [])]
        new_versions = st.bump(changed) if changed else {}
        st.updated = list(updated)
        st.writers = [as_node]
    st.step += 1
    if st.id == base_id:
        st.renew()
    if start is None:  # a thread's first checkpoint stores every value it has
        new_versions = {**st.bump(st.values), **new_versions}
    metadata = checkpoint_metadata(p, source, st.step)
    if p.ns and start is not None and not p.parents:
        # A subgraph's checkpoint edited through its checkpoint_ns: it keeps its enclosing runs.
        metadata["parents"] = dict(start.metadata.get("parents") or {})
    yield saver.put(st.checkpoint(), metadata, new_versions)
    return patch_checkpoint_map(thread_config(p, st.id), metadata, last=True) or {}


def plan_tasks_for_update(spec: GraphSpec, st: RunState, p: RunParams, node: NodeSpec,
                          values: Any) -> Task:
    """A task that "runs" `node` by returning `values`: its edges fire as if it had run."""
    fake = NodeSpec(name=node.name, fn=lambda _input: values, is_async=False, wants_config=False,
                    coerce=node.coerce, edges=node.edges, joins=node.joins,
                    branches=node.branches)
    if isinstance(values, dict):
        unknown = [k for k in values if k not in spec.channels]
        if unknown:
            raise InvalidUpdateError(
                f"update_state() got key '{unknown[0]}', which is not in the state schema; "
                f"expected some of {sorted(spec.channels)}."
            )
    return make_task(f"update:{node.name}", node.name, ("__pregel_pull", node.name), fake, None, st,
                     p.scope)
