"""Tests of multi-assets (Dagster's ``@multi_asset``, ``AssetOut``, ``AssetSpec``) and
``MaterializeResult``: the decorator and what it refuses, how a multi-asset's assets cross
as ``asset-def``s (each naming the multi-asset and its output), and ``ops.execute`` of a
multi-asset step (``step-target.multi-asset``) through the real bindings: the outputs of the
selected assets, ``context.selected_asset_keys``, what fails the step.

    python3 -m unittest discover -s guest-sdk/python/tests
"""

import json
import unittest

from support import HAVE_BINDINGS  # puts the bindings, the SDK and the example on sys.path

import weft as dg  # noqa: E402

SEEN = []


@dg.asset
def scored():
    return 2.0


@dg.multi_asset(
    outs={"low": dg.AssetOut(group_name="split"), "high": dg.AssetOut(group_name="split", description="Above")},
    can_subset=True,
    retry_policy=dg.RetryPolicy(max_retries=2),
    op_tags={"team": "scores"},
)
def split_scores(context, scored):
    """Splits the score."""
    SEEN.append((sorted(k.to_user_string() for k in context.selected_asset_keys), sorted(context.selected_output_names)))
    if "low" in context.selected_output_names:
        yield dg.Output(scored - 1, output_name="low", metadata={"side": "low"})
    if "high" in context.selected_output_names:
        yield dg.Output(scored + 1, output_name="high", metadata={"side": "high"})


@dg.multi_asset(outs={"a": dg.AssetOut(key_prefix="p"), "b": dg.AssetOut(key=["q", "b"])}, deps=[scored],
                compute_kind="python")
def pair(context):
    context.add_output_metadata({"n": 1}, output_name="a")
    return 1, dg.Output(2, metadata={"m": 2})


@dg.multi_asset(specs=[dg.AssetSpec("loaded", deps=["scored", "raw"], kinds={"sql"}),
                       dg.AssetSpec(["w", "copy"], deps=["loaded"], description="A copy")],
                group_name="warehouse")
def load(scored):
    yield dg.MaterializeResult(asset_key="loaded", metadata={"rows": int(scored)})


@dg.asset(deps=[pair])
def after_pair():
    return dg.MaterializeResult(metadata={"note": "done"})


def refusal(make):
    with unittest.TestCase().assertRaises(dg.DefinitionError) as refused:
        make()
    return str(refused.exception)


def body(scored=None):
    return None


class DecoratorTest(unittest.TestCase):
    def test_outs_and_specs_become_assets_of_one_multi_asset(self):
        self.assertIsInstance(split_scores, dg.MultiAssetDefinition)
        members = [(m.key.to_user_string(), m.output, m.group_name, m.description, m.required, m.holds_value)
                   for m in split_scores.assets]
        self.assertEqual(members, [("low", "low", "split", "Splits the score.", True, True),
                                   ("high", "high", "split", "Above", True, True)])
        self.assertEqual((split_scores.name, split_scores.can_subset, split_scores.compute.input_names),
                         ("split_scores", True, ["scored"]))
        self.assertEqual([(k.path, m.kinds) for k, m in zip(pair.keys, pair.assets)],
                         [(["p", "a"], ["python"]), (["q", "b"], ["python"])])
        self.assertEqual(pair.ordering_deps, [dg.AssetKey("scored")])
        # A spec's output is its key as a Python identifier (Dagster's), its value None.
        self.assertEqual([(m.output, m.group_name, m.kinds, m.required, m.holds_value) for m in load.assets],
                         [("loaded", "warehouse", ["sql"], True, False), ("w__copy", "warehouse", [], True, False)])
        self.assertEqual(load.input_keys([]), [dg.AssetKey("scored")])
        self.assertEqual(after_pair.ordering_deps, [dg.AssetKey(["p", "a"]), dg.AssetKey(["q", "b"])])

    def test_a_multi_asset_called_directly_runs_its_function(self):
        first, second = pair(dg.OpExecutionContext())
        self.assertEqual((first, second.value, second.metadata), (1, 2, {"m": 2}))
        context = dg.OpExecutionContext(selected_output_names=["high"])
        self.assertEqual([(o.output_name, o.value) for o in split_scores(context, 2)], [("high", 3)])

    def test_a_selection_of_a_multi_asset_is_all_its_assets(self):
        self.assertEqual(str(dg.AssetSelection.assets(pair, "scored")), "key:p/a,key:q/b,key:scored")
        self.assertEqual(str(dg.define_asset_job("j", selection=split_scores).selection), "key:low,key:high")

    def test_dagsters_ignored_arguments_are_accepted(self):
        made = dg.multi_asset(outs={"x": dg.AssetOut(io_manager_key="io", dagster_type=int, code_version="1")},
                              required_resource_keys={"db"}, code_version="2", pool="p", check_specs=[],
                              name="ignoring")(body)
        self.assertEqual(made.keys, [dg.AssetKey("x")])
        self.assertEqual(dg.AssetSpec("s", code_version="3", metadata={}).key, dg.AssetKey("s"))

    def test_what_weft_cannot_do_is_refused(self):
        outs = {"x": dg.AssetOut()}
        cases = [
            (lambda: dg.multi_asset(outs=outs, internal_asset_deps={"x": set()}, hooks={1}),
             "@multi_asset: Weft does not support hooks, internal_asset_deps"),
            (lambda: dg.multi_asset(outs=outs, partitions_def=1, backfill_policy=1, resource_defs={"a": 1},
                                    check_specs=[1], non_argument_deps={"a"}),
             "@multi_asset: Weft does not support backfill_policy, check_specs, non_argument_deps, "
             "partitions_def, resource_defs"),
            (lambda: dg.AssetOut(metadata={"a": 1}, owners=["me"]), "AssetOut: Weft does not support metadata, owners"),
            (lambda: dg.AssetOut(automation_condition=1, freshness_policy=1, is_virtual=True, backfill_policy=1),
             "AssetOut: Weft does not support automation_condition, backfill_policy, freshness_policy, is_virtual"),
            (lambda: dg.AssetSpec("s", metadata={"a": 1}, partitions_def=1, owners=["me"]),
             "AssetSpec: Weft does not support metadata, owners, partitions_def"),
            (lambda: dg.AssetOut(key="a", key_prefix="p"), "AssetOut: give key or key_prefix, not both"),
            (lambda: dg.multi_asset(outs=outs, specs=[dg.AssetSpec("s")])(body),
             "@multi_asset: `body`: give outs or specs, not both"),
            (lambda: dg.multi_asset()(body),
             "@multi_asset: `body` materializes no asset: give outs={name: AssetOut(), ...} or specs=[AssetSpec(key), ...]"),
            (lambda: dg.multi_asset(outs={"x": dg.Out()})(body), "@multi_asset: `body`: outs is a dict of AssetOut, got {'x': "),
            (lambda: dg.multi_asset(outs={"x": dg.AssetOut(group_name="a")}, group_name="b")(body),
             "@multi_asset: `body` sets group_name and so does its asset `x` ('a'); set it in one place"),
            (lambda: dg.multi_asset(outs={"x": dg.AssetOut(is_required=False)})(body),
             "@multi_asset: `body`: asset `x` may be left out (AssetOut(is_required=False)), which Weft allows only "
             "in a multi-asset that can be subset: add can_subset=True"),
            (lambda: dg.multi_asset(specs=[dg.AssetSpec("s", skippable=True)])(body),
             "@multi_asset: `body`: asset `s` may be left out (AssetSpec(skippable=True)), which Weft allows only "
             "in a multi-asset that can be subset: add can_subset=True"),
            (lambda: dg.multi_asset(specs=[dg.AssetSpec("s")], deps=["scored"])(body),
             "@multi_asset: `body`: give deps on each AssetSpec, not deps= (Dagster: Can not pass deps and specs "
             "to @multi_asset)"),
            (lambda: dg.multi_asset(specs=[dg.AssetSpec("s")])(body),
             "@multi_asset: `body`: parameter `scored` names no asset the AssetSpecs list in deps; add it to the "
             "deps of the AssetSpec that reads it"),
            (lambda: dg.multi_asset(specs=[dg.AssetSpec("s", deps=[["a", "scored"], ["b", "scored"]])])(body),
             "@multi_asset: `body`: parameter `scored` names no asset the AssetSpecs list in deps (several: "
             "a/scored, b/scored; name one with ins=)"),
            (lambda: dg.multi_asset(outs={"x": dg.AssetOut(tags={"a": "1"}), "y": dg.AssetOut()})(body),
             "@multi_asset: `body`: its assets have different tags; an asset's tags are its step's, and a "
             "multi-asset is one step: give each the same tags, or give them as op_tags"),
            (lambda: dg.multi_asset(outs={"x": dg.AssetOut(key="k"), "y": dg.AssetOut(key="k")})(body),
             "@multi_asset: `body` materializes asset `k` twice"),
            (lambda: dg.multi_asset(outs=outs, ins={"nope": dg.AssetIn(key="a")})(body),
             "@multi_asset: `body`: `ins` names no parameter `nope`"),
            (lambda: dg.multi_asset(outs=outs, can_subset="yes")(body),
             "@multi_asset: `body`: can_subset is True or False, not 'yes'"),
            (lambda: dg.Definitions(assets=[dg.AssetSpec("ext")]),
             "Definitions: AssetSpec('ext') in assets is an external asset, which Weft does not support; an "
             "AssetSpec is an asset of a @multi_asset(specs=[...])"),
            (lambda: dg.Definitions(assets=[dg.multi_asset(outs={"scored": dg.AssetOut()}, name="scored")(body)]),
             "multi-asset `scored` has the name of an asset; Weft keys its step by its name: rename it with "
             "@multi_asset(name=...)"),
            (lambda: dg.Definitions(assets=[scored, dg.multi_asset(outs={"scored": dg.AssetOut()}, name="m")(body)]),
             "two assets have the same key (scored)"),
            (lambda: dg.Definitions(assets=[dg.multi_asset(outs={"x": dg.AssetOut()}, name="m")(body),
                                            dg.multi_asset(outs={"y": dg.AssetOut()}, name="m")(body)]),
             "two multi-assets are named `m`"),
        ]
        for make, message in cases:
            self.assertTrue(refusal(make).startswith(message), (refusal(make), message))
        with self.assertRaises(TypeError):  # Dagster's decorator is never bare
            dg.multi_asset(body)

    def test_a_check_may_check_an_asset_of_a_multi_asset(self):
        check = dg.asset_check(asset="low")(lambda low: dg.AssetCheckResult(passed=low > 0))
        defs = dg.Definitions(assets=[scored, split_scores], asset_checks=[check])
        self.assertEqual(defs.asset_checks, [check])
        self.assertEqual(defs.asset_keys, [dg.AssetKey("scored"), dg.AssetKey("low"), dg.AssetKey("high")])

    def test_contexts_say_which_assets_and_outputs_a_step_makes(self):
        asset = dg.OpExecutionContext(asset_key=["scored"])
        self.assertEqual((asset.selected_asset_keys, asset.selected_output_names), ({dg.AssetKey("scored")}, {"result"}))
        self.assertEqual(asset.asset_key_for_output(), dg.AssetKey("scored"))
        op = dg.OpExecutionContext(selected_output_names=["even", "odd"])
        self.assertEqual((op.selected_asset_keys, op.selected_output_names), (set(), {"even", "odd"}))
        multi = dg.OpExecutionContext(step_key="m", multi_asset="m", selected_output_names=["b"],
                                      keys_by_output={"a": ["a"], "b": ["x", "b"]})
        self.assertEqual(multi.selected_asset_keys, {dg.AssetKey(["x", "b"])})
        self.assertEqual(multi.asset_key_for_output("a"), dg.AssetKey("a"))
        with self.assertRaises(AttributeError) as raised:
            multi.asset_key
        self.assertIn("runs multi-asset `m`, which materializes several assets", str(raised.exception))

    def test_materialize_result(self):
        result = dg.MaterializeResult(asset_key="a/b", metadata={"n": 1})
        self.assertEqual((result.asset_key, result.metadata, result.check_results), (dg.AssetKey(["a", "b"]), {"n": 1}, []))
        self.assertEqual(dg.MaterializeResult(), dg.MaterializeResult(None, None))


@unittest.skipUnless(HAVE_BINDINGS, "componentize-py is not installed")
class ComponentMultiAssetTest(unittest.TestCase):
    def setUp(self):
        from componentize_py_types import Err
        from weft import component
        from wit_world.imports import weft_plugin_types as wit

        self.component, self.wit, self.Err = component, wit, Err
        self.saved = component._loaded
        SEEN.clear()

    def tearDown(self):
        self.component._loaded = self.saved

    def load(self, *assets):
        self.component._loaded = dg.Definitions(assets=list(assets))

    def execute(self, name, selected, inputs=None, step_key=None):
        wit = self.wit
        target = wit.StepTarget_MultiAsset(wit.MultiAssetTarget(name=name, selected=[list(k) for k in selected]))
        ctx = wit.StepContext(run_id="r", job="j", step_key=step_key or name, target=target, attempt=1,
                              partition=None, tags=[], config=None, mapping_key=None)
        args = [wit.StepInput(k, wit.InputArg_Single(wit.Value(codec="json", data=json.dumps(v).encode())))
                for k, v in (inputs or {}).items()]
        return self.component.Ops().execute(ctx, args)

    def outputs(self, name, selected, inputs=None):
        return [(o.name, json.loads(o.value.data), o.metadata) for o in self.execute(name, selected, inputs)]

    def failure(self, name, selected, inputs=None):
        with self.assertRaises(self.Err) as raised:
            self.execute(name, selected, inputs)
        return raised.exception.value

    def test_each_asset_of_a_multi_asset_is_an_asset_def_naming_it(self):
        wit = self.wit
        self.load(scored, split_scores, pair, load, after_pair)
        assets = {"/".join(a.key): a for a in self.component.Definitions().get().assets}
        self.assertEqual(list(assets), ["scored", "low", "high", "p/a", "q/b", "loaded", "w/copy", "after_pair"])
        self.assertIsNone(assets["scored"].multi)
        low, high = assets["low"], assets["high"]
        self.assertEqual(low.multi, wit.MultiAssetOut(name="split_scores", output="low", can_subset=True))
        self.assertEqual((high.multi.output, high.description, high.group, high.tags), ("high", "Above", "split", [("team", "scores")]))
        for asset in (low, high):
            self.assertEqual([(d.key, d.input) for d in asset.deps], [(["scored"], "scored")])
            self.assertEqual(asset.retry_policy.max_retries, 2)
        self.assertEqual([(d.key, d.input) for d in assets["q/b"].deps], [(["scored"], None)])
        self.assertEqual(assets["q/b"].multi, wit.MultiAssetOut(name="pair", output="b", can_subset=False))
        # A spec's deps: the parameters on every asset, then its own others.
        self.assertEqual([(d.key, d.input) for d in assets["loaded"].deps], [(["scored"], "scored"), (["raw"], None)])
        self.assertEqual([(d.key, d.input) for d in assets["w/copy"].deps], [(["scored"], "scored"), (["loaded"], None)])
        self.assertEqual((assets["w/copy"].multi.output, assets["w/copy"].description), ("w__copy", "A copy"))
        self.assertEqual([d.key for d in assets["after_pair"].deps], [["p", "a"], ["q", "b"]])

    def test_a_multi_asset_step_makes_the_outputs_of_its_selected_assets(self):
        wit = self.wit
        self.load(scored, split_scores)
        self.assertEqual(self.outputs("split_scores", [["low"], ["high"]], {"scored": 2.0}), [
            ("low", 1.0, [("side", wit.MetadataValue_Text("low"))]),
            ("high", 3.0, [("side", wit.MetadataValue_Text("high"))]),
        ])
        self.assertEqual(self.outputs("split_scores", [["low"]], {"scored": 2.0}),
                         [("low", 1.0, [("side", wit.MetadataValue_Text("low"))])])
        self.assertEqual(SEEN, [(["high", "low"], ["high", "low"]), (["low"], ["low"])])

    def test_tuples_outputs_and_materialize_results_become_outputs(self):
        wit = self.wit
        self.load(scored, pair, load)
        self.assertEqual(self.outputs("pair", [["p", "a"], ["q", "b"]]), [
            ("a", 1, [("n", wit.MetadataValue_Int(1))]), ("b", 2, [("m", wit.MetadataValue_Int(2))])])
        # A spec's asset left out is materialized with no value, as Dagster's are.
        self.assertEqual(self.outputs("load", [["loaded"], ["w", "copy"]], {"scored": 3}),
                         [("loaded", None, [("rows", wit.MetadataValue_Int(3))]), ("w__copy", None, [])])

        @dg.multi_asset(specs=[dg.AssetSpec("c"), dg.AssetSpec("d")])
        def returned():
            return dg.MaterializeResult(asset_key="d", metadata={"k": 1}), dg.MaterializeResult(asset_key="c")

        @dg.multi_asset(outs={"g": dg.AssetOut(), "h": dg.AssetOut()})
        def valued():
            yield dg.MaterializeResult(asset_key="g", metadata={"q": 1}, value=10)
            yield dg.Output(5, output_name="h")

        @dg.multi_asset(specs=[dg.AssetSpec("e"), dg.AssetSpec("f")], can_subset=True)
        def subset(context):
            for key in context.selected_asset_keys:
                yield dg.MaterializeResult(asset_key=key)

        self.load(returned, valued, subset)
        self.assertEqual(self.outputs("returned", [["c"], ["d"]]), [("d", None, [("k", wit.MetadataValue_Int(1))]), ("c", None, [])])
        self.assertEqual(self.outputs("valued", [["g"], ["h"]]), [("g", 10, [("q", wit.MetadataValue_Int(1))]), ("h", 5, [])])
        self.assertEqual(self.outputs("subset", [["f"]]), [("f", None, [])])

    def test_a_plain_asset_may_return_a_materialize_result(self):
        wit = self.wit
        self.load(after_pair)
        ctx = wit.StepContext(run_id="r", job="j", step_key="after_pair", target=wit.StepTarget_Asset(["after_pair"]),
                              attempt=1, partition=None, tags=[], config=None, mapping_key=None)
        out = self.component.Ops().execute(ctx, [])
        self.assertEqual([(o.name, json.loads(o.value.data), o.metadata) for o in out],
                         [("result", None, [("note", wit.MetadataValue_Text("done"))])])

    def test_what_the_function_may_not_produce_fails_the_step_for_good(self):
        @dg.multi_asset(outs={"x": dg.AssetOut(), "y": dg.AssetOut()}, can_subset=True)
        def both():
            return 1, 2

        @dg.multi_asset(outs={"u": dg.AssetOut(), "v": dg.AssetOut()})
        def short():
            yield dg.Output(1, output_name="u")

        @dg.multi_asset(outs={"s": dg.AssetOut(), "t": dg.AssetOut()})
        def keyless():
            yield dg.MaterializeResult(metadata={"a": 1})

        @dg.multi_asset(specs=[dg.AssetSpec("k")])
        def valued_spec():
            return dg.Output(3, output_name="k")

        @dg.multi_asset(outs={"m": dg.AssetOut(), "n": dg.AssetOut()})
        def stranger():
            yield dg.MaterializeResult(asset_key="scored")

        @dg.multi_asset(outs={"o": dg.AssetOut(), "r": dg.AssetOut()})
        def single():
            return 1

        @dg.op
        def op_result():
            return dg.MaterializeResult()

        self.load(both, short, keyless, valued_spec, stranger, single)
        cases = [
            ("both", [["x"]], "multi-asset `both` produced output `y` (asset `y`), which this run does not materialize "
                              "(it selects x): produce only context.selected_output_names"),
            ("short", [["u"], ["v"]], "multi-asset `short` did not return its output `v` (asset `v`), which is "
                                      "required: produce it, or declare it AssetOut(is_required=False)"),
            ("keyless", [["s"], ["t"]], "multi-asset `keyless` returned a MaterializeResult without asset_key; it "
                                        "materializes several assets (s, t): say which with MaterializeResult(asset_key=...)"),
            ("valued_spec", [["k"]], "multi-asset `valued_spec`: asset `k` is an AssetSpec's, whose value is None "
                                     "(Dagster's Nothing), not int: yield MaterializeResult(asset_key=...) for it"),
            ("stranger", [["m"], ["n"]], "multi-asset `stranger` returned a MaterializeResult for asset `scored`, "
                                         "which it does not materialize (m, n)"),
            ("single", [["o"], ["r"]], "multi-asset `single` has outputs o, r: return a tuple of 2 values in that "
                                       "order, or yield Output(value, output_name=...) or MaterializeResult(asset_key=...) for each"),
            ("nope", [["x"]], "this location has no multi-asset `nope`"),
            ("both", [["z"]], "multi-asset `both` does not materialize asset `z`"),
        ]
        for name, selected, message in cases:
            self.assertEqual(self.failure(name, selected), self.wit.Failure(message=message, retryable=False), name)
        from weft.outputs import produced

        with self.assertRaises(dg.Failure) as raised:
            produced(op_result(), {"result": dg.Out()}, "op `op_result`")
        self.assertEqual(raised.exception.description, "op `op_result` returned a MaterializeResult, which only an "
                                                       "asset's function returns; return the value, or Output(value, metadata=...)")

    def test_an_exception_fails_the_step_as_an_ops_does(self):
        @dg.multi_asset(outs={"x": dg.AssetOut(), "y": dg.AssetOut()})
        def broken():
            raise ValueError("no split")

        self.load(broken)
        failure = self.failure("broken", [["x"], ["y"]])
        self.assertTrue(failure.retryable)
        self.assertTrue(failure.message.startswith("ValueError: no split"), failure.message)
        self.assertIn("in broken", failure.message)


if __name__ == "__main__":
    unittest.main()
