"""Tests of graph-backed assets (Dagster's ``@graph_asset``): the decorator and what it
refuses, the graph it records (nodes ``<graph>.<op>`` named as Dagster keys their steps,
their bindings, the node inputs the upstream assets feed, the output that is the asset's
value), its hooks, how it crosses as an ``asset-def`` whose ``graph`` is set, and
``ops.execute`` of one of its ops' steps by step key through the real bindings.

    python3 -m unittest discover -s guest-sdk/python/tests
"""

import json
import unittest

from support import HAVE_BINDINGS  # puts the bindings, the SDK and the example on sys.path

import weft as dg  # noqa: E402


@dg.asset
def scored():
    return 2.0


@dg.op
def double_score(x):
    return x * 2


SEEN = []


@dg.op
def add_half(context, x):
    SEEN.append((context.step_key, sorted(k.to_user_string() for k in context.selected_asset_keys)))
    context.add_output_metadata({"half": 0.5})
    return x + 0.5


@dg.graph_asset
def boosted(scored):
    """Doubles the score, then adds a half."""
    return add_half(double_score(scored))


@dg.op
def one():
    return 1


@dg.op
def inc(x):
    return x + 1


@dg.op
def plus(a, b):
    return a + b


@dg.graph
def twice(x):
    return inc(inc(x))


@dg.success_hook
def cheer(context):
    context.log.info(f"cheer: {context.step_key}")


@dg.failure_hook
def alarm(context):
    context.log.info(f"alarm: {context.op.name}")


@dg.graph_asset(
    key_prefix=["stats"],
    group_name="numbers",
    description="Counted up",
    kinds={"python"},
    tags={"team": "stats", "n": 2},
    deps=["raw"],
    ins={"base": dg.AssetIn(key="scored")},
    hooks={cheer},
    code_version="1",
)
def counted(base):
    added = plus(inc(base), inc.with_hooks({alarm})(one()))
    return twice(inc(added))


@dg.asset(key_prefix=["stats"])
def after(counted):
    return counted + 1


def refusal(make):
    with unittest.TestCase().assertRaises(dg.DefinitionError) as refused:
        make()
    return str(refused.exception)


def bindings(node):
    return [(name, [(s.node, s.output) for s in sources], fan_in) for name, sources, fan_in in node.inputs]


class DecoratorTest(unittest.TestCase):
    def test_the_graph_names_its_nodes_graph_dot_op_and_binds_them(self):
        self.assertIsInstance(boosted, dg.AssetsDefinition)  # as Dagster's graph assets are
        self.assertIsInstance(boosted, dg.GraphAssetDefinition)
        self.assertEqual((boosted.key, boosted.graph_name, boosted.group_name),
                         (dg.AssetKey("boosted"), "boosted", "default"))
        self.assertEqual(boosted.description, "Doubles the score, then adds a half.")
        self.assertEqual([(n.name, n.op.name) for n in boosted.nodes],
                         [("boosted.double_score", "double_score"), ("boosted.add_half", "add_half")])
        # The upstream asset feeds double_score's input: a graph input, not a binding.
        self.assertEqual([bindings(n) for n in boosted.nodes],
                         [[], [("x", [("boosted.double_score", "result")], False)]])
        self.assertEqual(boosted.graph_inputs, [("scored", "boosted.double_score", "x")])
        self.assertEqual((boosted.output.node, boosted.output.output), ("boosted.add_half", "result"))
        self.assertEqual((boosted.input_names, boosted.input_keys([dg.AssetKey("scored")])),
                         (["scored"], [dg.AssetKey("scored")]))
        self.assertEqual((boosted.retry_policy, boosted.config_schema, boosted.ordering_deps), (None, None, []))

    def test_repeated_ops_are_numbered_and_graphs_nest_under_the_key_as_dagster_names_them(self):
        self.assertEqual(counted.key, dg.AssetKey(["stats", "counted"]))
        # Dagster's graph name is the key as a Python identifier.
        self.assertEqual(counted.graph_name, "stats__counted")
        self.assertEqual([n.name for n in counted.nodes], [
            "stats__counted.inc", "stats__counted.one", "stats__counted.inc_2", "stats__counted.plus",
            "stats__counted.inc_3", "stats__counted.twice.inc", "stats__counted.twice.inc_2",
        ])
        by_name = {n.name: bindings(n) for n in counted.nodes}
        self.assertEqual(by_name["stats__counted.plus"], [
            ("a", [("stats__counted.inc", "result")], False), ("b", [("stats__counted.inc_2", "result")], False)])
        self.assertEqual(by_name["stats__counted.twice.inc"], [("x", [("stats__counted.inc_3", "result")], False)])
        self.assertEqual(counted.graph_inputs, [("base", "stats__counted.inc", "x")])
        self.assertEqual(counted.output.node, "stats__counted.twice.inc_2")
        self.assertEqual((counted.group_name, counted.description, counted.kinds, counted.tags),
                         ("numbers", "Counted up", ["python"], {"team": "stats", "n": "2"}))
        self.assertEqual((counted.ordering_deps, counted.input_keys([])),
                         ([dg.AssetKey("raw")], [dg.AssetKey("scored")]))
        self.assertEqual(dg.graph_asset(name="renamed")(boosted.__wrapped__).graph_name, "renamed")
        self.assertEqual(dg.graph_asset(key=["a", "b-c.d"])(boosted.__wrapped__).graph_name, "a__b_c_d")

    def test_hooks_are_every_nodes_and_a_nodes_own(self):
        hooks = {n.name: counted.node_hooks(n) for n in counted.nodes}
        self.assertEqual(hooks["stats__counted.inc"], ["cheer"])
        self.assertEqual(hooks["stats__counted.inc_2"], ["alarm", "cheer"])
        self.assertEqual(counted.all_hooks(), [cheer, alarm])
        hooked = alarm(boosted)  # a hook decorating a graph asset, as Dagster takes it
        self.assertEqual([hooked.node_hooks(n) for n in hooked.nodes], [["alarm"], ["alarm"]])
        self.assertEqual(boosted.hook_defs, [])
        self.assertEqual(boosted.with_hooks({cheer}).hook_defs, [cheer])
        defs = dg.Definitions(assets=[scored, hooked, counted])
        self.assertEqual(sorted(defs.hooks), ["alarm", "cheer"])

    def test_definitions_take_its_ops_selections_and_checks(self):
        check = dg.asset_check(asset=boosted)(lambda boosted: dg.AssetCheckResult(passed=boosted > 0))
        job = dg.define_asset_job("boosted_job", selection=dg.AssetSelection.assets("scored", boosted))
        defs = dg.Definitions(assets=[scored, boosted, counted, after], jobs=[job], asset_checks=[check])
        self.assertEqual(list(defs.ops), ["double_score", "add_half", "inc", "one", "plus"])
        self.assertEqual(defs.get_op("double_score"), double_score)
        self.assertEqual(defs.graph_assets, [boosted, counted])
        self.assertEqual([k.to_user_string() for k in defs.asset_keys],
                         ["scored", "boosted", "stats/counted", "stats/after"])
        self.assertEqual(str(job.selection), "key:scored,key:boosted")
        self.assertEqual(after.input_keys(defs.asset_keys), [dg.AssetKey(["stats", "counted"])])
        self.assertEqual(defs.asset_checks, [check])

    def test_called_outside_a_body_it_raises_and_inside_one_it_is_its_graph(self):
        self.assertIn("graph asset `boosted` is called in a @job or @graph body", refusal(lambda: boosted(1.0)))

        @dg.job
        def uses_it():
            boosted(one())

        self.assertEqual([n.name for n in uses_it.nodes], ["one", "boosted.double_score", "boosted.add_half"])

    def test_what_weft_cannot_do_is_refused(self):
        def body(scored):
            return inc(scored)

        @dg.op(out=dg.DynamicOut())
        def fan():
            yield dg.DynamicOutput(1, mapping_key="a")

        @dg.op(out={"a": dg.Out(), "b": dg.Out()})
        def split(x):
            return x, x

        @dg.op(name="inc")
        def other_inc(x):
            return x

        def upstream_only(scored):
            return scored

        def nothing(scored):
            inc(scored)

        def unused(scored, other):
            return inc(scored)

        def fanned(scored):
            return plus.alias("sum")(inc(scored), [scored, one()])

        def dynamic(scored):
            return plus(fan().map(inc).collect(), inc(scored))

        def both(scored):
            return split(scored)

        def context(context, scored):
            return inc(scored)

        def varargs(*scored):
            return one()

        what = "@graph_asset: Weft does not support"
        cases = [
            (lambda: dg.graph_asset(config={"ops": {}}, metadata={"a": 1})(body), f"{what} config, metadata"),
            (lambda: dg.graph_asset(partitions_def=1, owners=["me"], automation_condition=1, backfill_policy=1,
                                    resource_defs={"r": 1}, check_specs=[1])(body),
             f"{what} automation_condition, backfill_policy, check_specs, owners, partitions_def, resource_defs"),
            (lambda: dg.graph_asset(retry_policy=dg.RetryPolicy(), op_tags={"a": "b"})(body),
             f"{what} op_tags, retry_policy"),
            (lambda: dg.graph_asset(key="k", name="n")(body),
             "@graph_asset: `body`: give key, or name and key_prefix, not both"),
            (lambda: dg.graph_asset(ins={"nope": dg.AssetIn(key="a")})(body),
             "graph asset `body`: `ins` names no parameter `nope`"),
            (lambda: dg.graph_asset(hooks=cheer)(body),
             "graph asset `body`: hooks is a set of hooks ({cheer}), not one hook"),
            (lambda: dg.graph_asset(upstream_only),
             "graph asset `upstream_only` returns its upstream asset `scored` itself"),
            (lambda: dg.graph_asset(nothing), "graph asset `nothing` returns nothing: return the output of the op"),
            (lambda: dg.graph_asset(unused), "graph asset `unused`: parameter `other` is passed to no op"),
            (lambda: dg.graph_asset(fanned),
             "graph asset `fanned`: input `b` of node `fanned.sum` fans in upstream asset `scored`"),
            (lambda: dg.graph_asset(dynamic), "graph asset `dynamic`: node `dynamic.fan`: dynamic outputs"),
            (lambda: dg.graph_asset(both), "graph asset `both` returns every output of a node with several"),
            (lambda: dg.graph_asset(context), "graph asset `context`: its function takes `context`"),
            (lambda: dg.graph_asset(varargs), "graph asset `varargs`: *args and **kwargs cannot be upstream assets"),
            (lambda: dg.graph_asset(lambda scored: inc()),
             "graph asset `<lambda>`: input `x` of op `inc` is not connected"),
            (lambda: dg.graph_asset(lambda scored: plus(scored, 3)),
             "graph asset `<lambda>`: input `b` of op `plus` must be the output of another op"),
            (lambda: dg.graph_asset(lambda scored: {"other": inc(scored)}), "graph `<lambda>` returns output `other`"),
            (lambda: dg.Definitions(assets=[dg.graph_asset(key=["a", "b"])(body), dg.graph_asset(name="a__b")(body)]),
             "graph asset `a__b` and graph asset `a/b` both have the node `a__b.inc` (their graphs are named alike)"),
            (lambda: dg.Definitions(assets=[dg.graph_asset(body), dg.graph_asset(name="b2")(lambda x: other_inc(x))]),
             "two different ops are named `inc`"),
            (lambda: cheer(dg.asset(lambda: 1)),
             "hook `cheer` on an asset: Weft runs hooks after the steps of a job's nodes"),
        ]
        for make, message in cases:
            self.assertTrue(refusal(make).startswith(message), (refusal(make), message))

    def test_dagsters_taken_arguments_are_accepted(self):
        made = dg.graph_asset(check_specs=[], code_version="2", partitions_def=None, metadata={}, name="taken")(
            lambda scored: inc(scored))
        self.assertEqual(made.key, dg.AssetKey("taken"))
        # A body may return {"result": output}, as Dagster's may.
        self.assertEqual(dg.graph_asset(lambda scored: {"result": inc(scored)}).output.node, "<lambda>.inc")
        # An op of several outputs: the one returned is the asset's value.
        split = dg.op(out={"a": dg.Out(), "b": dg.Out()})(lambda x: (x, x))
        self.assertEqual(dg.graph_asset(lambda scored: split(scored).b).output.output, "b")


@unittest.skipUnless(HAVE_BINDINGS, "componentize-py is not installed")
class ComponentGraphAssetTest(unittest.TestCase):
    def setUp(self):
        from componentize_py_types import Err
        from weft import component
        from wit_world.imports import weft_plugin_types as wit

        self.component, self.wit, self.Err = component, wit, Err
        self.saved = component._loaded
        job = dg.define_asset_job("boosted_job", selection=dg.AssetSelection.assets("scored", "boosted"))
        component._loaded = dg.Definitions(assets=[scored, boosted, counted, after], jobs=[job])

    def tearDown(self):
        self.component._loaded = self.saved

    def step(self, step_key, target, inputs, job="boosted_job"):
        wit = self.wit
        ctx = wit.StepContext(run_id="r", job=job, step_key=step_key, target=target, attempt=1,
                              partition=None, tags=[], config=None, mapping_key=None)
        args = [wit.StepInput(k, wit.InputArg_Single(wit.Value(codec="json", data=json.dumps(v).encode())))
                for k, v in inputs.items()]
        return self.component.Ops().execute(ctx, args)

    def test_a_graph_asset_is_an_asset_def_with_its_graph(self):
        wit = self.wit
        defs = self.component.Definitions().get()
        assets = {"/".join(a.key): a for a in defs.assets}
        self.assertEqual(list(assets), ["scored", "boosted", "stats/counted", "stats/after"])
        self.assertIsNone(assets["scored"].graph)
        self.assertIsNone(assets["stats/after"].graph)
        b = assets["boosted"]
        self.assertEqual((b.group, b.description, b.kinds, b.tags),
                         ("default", "Doubles the score, then adds a half.", [], []))
        self.assertEqual([(d.key, d.input) for d in b.deps], [(["scored"], "scored")])
        self.assertEqual((b.retry_policy, b.config_schema, b.multi), (None, None, None))
        self.assertEqual(b.graph, wit.AssetGraph(
            nodes=[
                wit.NodeDef(name="boosted.double_score", op="double_score", inputs=[], tags=[], hooks=[]),
                wit.NodeDef(name="boosted.add_half", op="add_half", inputs=[wit.InputBinding(
                    input="x", sources=[wit.OutputRef(node="boosted.double_score", output="result")], fan_in=False,
                    collect=False)], tags=[], hooks=[]),
            ],
            inputs=[wit.AssetGraphInput(dep="scored", node="boosted.double_score", input="x")],
            output=wit.OutputRef(node="boosted.add_half", output="result"),
        ))
        c = assets["stats/counted"]
        self.assertEqual([(d.key, d.input) for d in c.deps], [(["scored"], "base"), (["raw"], None)])
        self.assertEqual((c.group, c.kinds, c.tags), ("numbers", ["python"], [("n", "2"), ("team", "stats")]))
        self.assertEqual([(n.name, n.hooks) for n in c.graph.nodes][:3], [
            ("stats__counted.inc", ["cheer"]),
            ("stats__counted.one", ["cheer"]),
            ("stats__counted.inc_2", ["alarm", "cheer"]),
        ])
        self.assertEqual(c.graph.output, wit.OutputRef(node="stats__counted.twice.inc_2", output="result"))
        self.assertEqual([o.name for o in defs.ops], ["double_score", "add_half", "inc", "one", "plus"])
        self.assertEqual([h.name for h in defs.hooks], ["alarm", "cheer"])
        self.assertEqual([(j.name, j.selection) for j in defs.asset_jobs], [("boosted_job", "key:scored,key:boosted")])

    def test_its_ops_run_by_step_key(self):
        wit = self.wit
        out = self.step("boosted.double_score", wit.StepTarget_Op("double_score"), {"x": 2.0})
        self.assertEqual([(o.name, json.loads(o.value.data), o.metadata) for o in out], [("result", 4.0, [])])
        out = self.step("boosted.add_half", wit.StepTarget_Op("add_half"), {"x": 4.0})
        self.assertEqual([(o.name, json.loads(o.value.data), o.metadata) for o in out],
                         [("result", 4.5, [("half", wit.MetadataValue_Float(0.5))])])
        out = self.step("stats__counted.twice.inc_2", wit.StepTarget_Op("inc"), {"x": 7})
        self.assertEqual(json.loads(out[0].value.data), 8)
        # Its ops' context knows the asset, as Dagster's does; a @job's op knows none.
        self.assertEqual(SEEN[-1], ("boosted.add_half", ["boosted"]))

        @dg.job
        def halves():
            add_half(double_score(one()))

        self.component._loaded = dg.Definitions(assets=[scored, boosted], jobs=[halves])
        self.step("add_half", wit.StepTarget_Op("add_half"), {"x": 1.0}, job="halves")
        self.step("boosted.add_half", wit.StepTarget_Op("add_half"), {"x": 1.0}, job="halves")
        self.assertEqual(SEEN[-2:], [("add_half", []), ("boosted.add_half", [])])

    def test_a_failing_op_names_its_step_and_the_asset_itself_is_never_run(self):
        wit = self.wit
        with self.assertRaises(self.Err) as raised:
            self.step("boosted.add_half", wit.StepTarget_Op("add_half"), {"x": "text"})
        self.assertTrue(raised.exception.value.message.startswith("TypeError"), raised.exception.value.message)
        with self.assertRaises(self.Err) as raised:
            self.step("boosted", wit.StepTarget_Asset(["boosted"]), {"scored": 2.0})
        self.assertEqual(raised.exception.value, wit.Failure(
            message="graph asset `boosted` is computed by the ops of its graph, each a step of its own "
                    "(`boosted.<op>`, step-target.op): run those, not the asset",
            retryable=False,
        ))


if __name__ == "__main__":
    unittest.main()
