"""Runs Rasa's prediction graph in a fixed order computed once, instead of through dask.

Rasa 3.6 runs the model's graph for every message twice or more (NLU parse, then one policy
prediction per action) with `DaskGraphRunner.run`, which each time recomputes the minimal schema
for the targets, builds a dask graph, orders it and executes it through dask's scheduler. Under
load that bookkeeping was ~14% of the Rasa server's CPU (py-spy: `dask/local.py` minus the graph
nodes themselves, BENCHMARKS.md). The graph never changes once the model is loaded, so this runner
computes, per set of targets, the nodes needed and a dependency order once, then calls the same
`GraphNode` objects with the same arguments dask would pass:

- each node receives, positionally and in the order of its `needs`, the `(name, value)` pairs its
  dependencies returned (inputs are given as `(input_name, value)` pairs, as Rasa adds them to the
  dask graph); a need that is neither a node nor an input is passed as the bare name, as dask does;
- the result is `{target: value}` for the targets, as `dict(dask.get(...))` is;
- a `RuntimeError` raised by a node becomes `GraphRunError`, as before; other exceptions pass
  through unchanged (dask's synchronous scheduler re-raises them too).

Node order: dependencies first, then the node (depth-first over `needs` in their declared order).
Rasa's prediction graphs are chains for NLU and independent branches for the policies; no two
independent branches write to the same object, so any dependency order gives the same result
(tests/test_rasa_replacements.py compares both runners on the trained model).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

from server import patching

logger = logging.getLogger(__name__)

RUN = "rasa.engine.runner.dask:DaskGraphRunner.run"
REPLACES = {RUN: ("self", "inputs", "targets")}

# (node name, node, names of its needs in declared order)
Plan = List[Tuple[Text, Any, Tuple[Text, ...]]]

_PLANS = "_iom_plans"
# Rasa's own `run`, kept for comparisons (None if missing: server.check() reports that at start).
_dask_run = getattr(DaskGraphRunner, "run", None) and patching.original(RUN)


def _plan(runner: DaskGraphRunner, targets: Tuple[Text, ...]) -> Plan:
    schema = runner._graph_schema.minimal_graph_schema(list(targets))
    order: Plan = []
    done = set()

    def visit(name: Text, path: Tuple[Text, ...]) -> None:
        if name in done or name not in schema.nodes:
            return
        if name in path:
            raise GraphRunError(f"The graph has a cycle through '{name}'.")
        needs = tuple(schema.nodes[name].needs.values())
        for need in needs:
            visit(need, path + (name,))
        done.add(name)
        order.append((name, runner._instantiated_nodes[name], needs))

    for target in targets:
        visit(target, ())
    return order


def run(
    self: DaskGraphRunner,
    inputs: Optional[Dict[Text, Any]] = None,
    targets: Optional[List[Text]] = None,
) -> Dict[Text, Any]:
    """Same contract as `DaskGraphRunner.run` (see the module docstring)."""
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    plans: Dict[Tuple[Text, ...], Plan] = self.__dict__.setdefault(_PLANS, {})
    plan = plans.get(run_targets)
    if plan is None:
        plan = plans[run_targets] = _plan(self, run_targets)

    values: Dict[Text, Any] = {}
    if inputs:
        node_names = {name for name, _, _ in plan}
        for input_name, input_value in inputs.items():
            if isinstance(input_value, str) and input_value in node_names:
                raise GraphRunError(
                    f"Input value '{input_value}' clashes with a node name. Make sure "
                    f"that none of the input names passed to the `run` method are the "
                    f"same as node names in the graph schema."
                )
            values[input_name] = (input_name, input_value)
    try:
        for name, node, needs in plan:
            if inputs and name in inputs:
                continue  # an input named like a node replaces it, as in the dask graph
            values[name] = node(*[values.get(need, need) for need in needs])
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
    return dict(values[target] for target in run_targets)


def install() -> None:
    """Makes every `DaskGraphRunner` of this process use `run` above."""
    patching.replace(RUN, run)


def dask_run(runner: DaskGraphRunner, inputs: Optional[Dict[Text, Any]] = None,
             targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
    """Rasa's own `DaskGraphRunner.run`, for comparisons (tests, benchmarks)."""
    return _dask_run(runner, inputs, targets)
