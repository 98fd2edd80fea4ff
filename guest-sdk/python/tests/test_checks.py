"""Tests of asset checks (Dagster's ``@asset_check``): the decorator and which parameter gets
the asset's value, ``AssetCheckResult`` and ``AssetCheckSeverity``, what is refused,
``Definitions(asset_checks=...)``, and the component's ``checks.evaluate`` export and the
definitions' asset checks through the real bindings.

    python3 -m unittest discover -s guest-sdk/python/tests
"""

import json
import unittest
from unittest import mock

from support import HAVE_BINDINGS  # puts the bindings, the SDK and the example on sys.path

import weft as dg  # noqa: E402


@dg.asset
def scored():
    return 1.5


@dg.asset(key_prefix=["warehouse"])
def orders():
    return [1, 2, 3]


@dg.asset_check(asset=scored, blocking=True)
def scored_is_positive(scored):
    """Is the score above zero?"""
    return dg.AssetCheckResult(passed=scored > 0, metadata={"score": float(scored)})


@dg.asset_check(asset="scored", name="small", description="Below ten")
def scored_is_small(context, value):
    return dg.AssetCheckResult(passed=value < 10, severity=dg.AssetCheckSeverity.WARN)


@dg.asset_check(asset=dg.AssetKey(["warehouse", "orders"]))
def orders_exist():
    return dg.AssetCheckResult(passed=True)


def refusal(make):
    with unittest.TestCase().assertRaises(dg.DefinitionError) as refused:
        make()
    return str(refused.exception)


class DecoratorTest(unittest.TestCase):
    def test_the_decorator_makes_a_check_of_its_asset(self):
        check = scored_is_positive
        self.assertIsInstance(check, dg.AssetChecksDefinition)
        self.assertEqual(
            (check.name, check.asset_key, check.blocking, check.description, check.input_name, check.key),
            ("scored_is_positive", dg.AssetKey(["scored"]), True, "Is the score above zero?", "scored",
             "scored_scored_is_positive"),
        )
        # Any one parameter that is not the context takes the asset's value, as in Dagster.
        self.assertEqual(
            (scored_is_small.name, scored_is_small.blocking, scored_is_small.description, scored_is_small.input_name),
            ("small", False, "Below ten", "value"),
        )
        self.assertEqual(scored_is_small.compute.context_param, "context")
        self.assertEqual((orders_exist.asset_key.path, orders_exist.input_name, orders_exist.key),
                         (["warehouse", "orders"], None, "warehouse__orders_orders_exist"))

    def test_asset_is_an_asset_a_key_a_path_or_a_list(self):
        for asset in (orders, dg.AssetKey(["warehouse", "orders"]), "warehouse/orders", ["warehouse", "orders"]):
            check = dg.asset_check(asset=asset)(lambda orders: dg.AssetCheckResult(passed=True))
            self.assertEqual(check.asset_key, dg.AssetKey(["warehouse", "orders"]), asset)

    def test_a_check_called_directly_runs_its_function(self):
        self.assertEqual(scored_is_positive(2.0), dg.AssetCheckResult(passed=True, metadata={"score": 2.0}))
        self.assertFalse(scored_is_positive(-1).passed)

    def test_a_check_context_annotated_as_dagsters_is_the_context(self):
        def annotated(ctx: "dg.AssetCheckExecutionContext", rows):
            return dg.AssetCheckResult(passed=True)

        check = dg.asset_check(asset=orders)(annotated)
        self.assertEqual((check.compute.context_param, check.input_name), ("ctx", "rows"))

    def test_dagsters_ignored_arguments_are_accepted(self):
        check = dg.asset_check(asset=scored, required_resource_keys={"db"}, compute_kind="sql", pool="p",
                               additional_ins={}, additional_deps=[])(lambda: dg.AssetCheckResult(passed=True))
        self.assertEqual(check.name, "<lambda>")

    def test_what_weft_cannot_do_is_refused(self):
        def ok(scored):
            return dg.AssetCheckResult(passed=True)

        cases = [
            (dict(additional_ins={"x": dg.AssetIn(key="orders")}), "@asset_check: Weft does not support additional_ins"),
            (dict(additional_deps=[orders]), "@asset_check: Weft does not support additional_deps"),
            (dict(config_schema={"n": int}, retry_policy=dg.RetryPolicy()),
             "@asset_check: Weft does not support config_schema, retry_policy"),
            (dict(op_tags={"a": "b"}, metadata={"owner": "me"}), "@asset_check: Weft does not support metadata, op_tags"),
            (dict(resource_defs={"db": 1}, automation_condition=object(), partitions_def=object()),
             "@asset_check: Weft does not support automation_condition, partitions_def, resource_defs"),
        ]
        for kwargs, message in cases:
            self.assertEqual(refusal(lambda: dg.asset_check(asset=scored, **kwargs)(ok)), message)
        self.assertEqual(
            refusal(lambda: dg.asset_check(asset=scored)(lambda scored, other: None)),
            "@asset_check: check `<lambda>` has several parameters that would be assets (scored, other); "
            "it takes one, the value of asset `scored` (Weft does not support additional_ins)",
        )
        self.assertEqual(
            refusal(lambda: dg.asset_check(asset=scored, name="c")(lambda scored, config: None)),
            "@asset_check: check `c` takes config (`config`); Weft does not support config on asset checks",
        )
        self.assertEqual(refusal(lambda: dg.asset_check(asset=scored, blocking="yes")(ok)),
                         "@asset_check: blocking is True or False, not 'yes'")
        self.assertEqual(refusal(lambda: dg.asset_check(asset=None)), "@asset_check: asset names the asset checked")
        self.assertEqual(refusal(lambda: dg.asset_check(asset=1)), "not an asset key: 1")
        with self.assertRaises(TypeError):  # Dagster's decorator is never bare: asset is required
            dg.asset_check(ok)
        with self.assertRaises(TypeError):  # nor does it take arguments it does not have
            dg.asset_check(asset=scored, tags={"a": "b"})


class ResultTest(unittest.TestCase):
    def test_a_result_defaults_to_error_with_no_metadata(self):
        result = dg.AssetCheckResult(passed=False)
        self.assertEqual(
            (result.passed, result.severity, result.metadata, result.description, result.asset_key, result.check_name),
            (False, dg.AssetCheckSeverity.ERROR, {}, None, None, None),
        )
        self.assertEqual(dg.AssetCheckSeverity.WARN.value, "WARN")
        named = dg.AssetCheckResult(passed=True, asset_key="a/b", check_name="c", severity="WARN", description="d")
        self.assertEqual((named.asset_key, named.check_name, named.severity), (dg.AssetKey(["a", "b"]), "c", dg.AssetCheckSeverity.WARN))

    def test_a_malformed_result_raises_type_error(self):
        for kwargs in (dict(passed=1), dict(passed=True, severity="FATAL"), dict(passed=True, check_name=3),
                       dict(passed=True, description=b"x")):
            with self.assertRaises(TypeError):
                dg.AssetCheckResult(**kwargs)
        with self.assertRaises(TypeError):
            dg.AssetCheckResult(True)  # keyword-only, as Dagster's


class DefinitionsTest(unittest.TestCase):
    def test_definitions_list_their_checks_also_from_assets(self):
        defs = dg.Definitions(assets=[scored, orders, orders_exist], asset_checks=[scored_is_positive, scored_is_small, scored_is_positive])
        self.assertEqual([c.name for c in defs.asset_checks], ["orders_exist", "scored_is_positive", "small"])
        self.assertEqual([a.key.path for a in defs.assets], [["scored"], ["warehouse", "orders"]])
        self.assertIs(defs.get_asset_check(["scored"], "small"), scored_is_small)
        self.assertIsNone(defs.get_asset_check(["scored"], "orders_exist"))

    def test_what_definitions_refuse(self):
        twin = dg.asset_check(asset=scored, name="small")(lambda: dg.AssetCheckResult(passed=True))
        self.assertEqual(refusal(lambda: dg.Definitions(assets=[scored], asset_checks=[scored_is_small, twin])),
                         "asset `scored` has two different checks named `small`")
        self.assertEqual(refusal(lambda: dg.Definitions(assets=[scored], asset_checks=[orders_exist])),
                         "check `orders_exist` checks asset `warehouse/orders`, which this location does not define")
        self.assertEqual(refusal(lambda: dg.Definitions(assets=[scored], asset_checks=[scored])),
                         "not an asset check: <asset scored>; make it one with @asset_check(asset=...)")


@unittest.skipUnless(HAVE_BINDINGS, "componentize-py is not installed")
class ChecksExportTest(unittest.TestCase):
    """The component's ``definitions.get`` and ``checks.evaluate`` through the real bindings."""

    def setUp(self):
        from componentize_py_types import Err
        from weft import component
        from wit_world.imports import weft_plugin_types as wit

        self.Err, self.component, self.wit = Err, component, wit
        self.seen = []

        @dg.asset_check(asset=scored, name="told")
        def told(context):
            self.seen.append((context.run_id, context.job_name, context.step_key, context.attempt,
                              context.asset_key, context.op_execution_context is context, context.resources.greeting))
            context.log.info("checked", step=context.step_key)
            return dg.AssetCheckResult(passed=True, description="fine", asset_key=scored, check_name="told")

        def returning(name, value):
            return dg.asset_check(asset=scored, name=name)(lambda scored: value)

        def raising(name, error):
            def fn(scored):
                raise error

            return dg.asset_check(asset=scored, name=name)(fn)

        @dg.asset_check(asset=scored, name="yields")
        def yields(scored):
            yield dg.AssetCheckResult(passed=scored == 1.5)

        checks = [
            scored_is_positive, scored_is_small, orders_exist, told, yields,
            returning("none", None), returning("boolean", True),
            returning("other_asset", dg.AssetCheckResult(passed=True, asset_key="orders")),
            returning("other_name", dg.AssetCheckResult(passed=True, check_name="small")),
            raising("raises", ValueError("bad score")), raising("refuses", dg.Failure("no", allow_retries=False)),
        ]
        self.saved = component._loaded
        component._loaded = dg.Definitions(assets=[scored, orders], asset_checks=checks, resources={"greeting": "hi"})

    def tearDown(self):
        self.component._loaded = self.saved

    def ctx(self, name, asset=("scored",)):
        wit = self.wit
        target = wit.StepTarget_Check(wit.CheckTarget(asset=list(asset), name=name))
        return wit.StepContext(run_id="r1", job="checked_job", step_key=f"{'__'.join(asset)}_{name}", target=target,
                               attempt=2, partition=None, tags=[], config=None, mapping_key=None)

    def evaluate(self, name, value=None, asset=("scored",)):
        wit = self.wit
        check = self.component._loaded.get_asset_check(list(asset), name)
        inputs = []
        if check is not None and check.input_name is not None:
            arg = wit.InputArg_Single(wit.Value(codec="json", data=json.dumps(value).encode()))
            inputs = [wit.StepInput(check.input_name, arg)]
        return self.component.Checks().evaluate(self.ctx(name, asset), inputs)

    def failure(self, name, value=1.5):
        with self.assertRaises(self.Err) as raised:
            self.evaluate(name, value)
        return raised.exception.value

    def test_definitions_carry_the_checks_in_order(self):
        wit = self.wit
        defs = self.component.Definitions().get()
        self.assertEqual(defs.asset_checks[:3], [
            wit.AssetCheckDef(name="scored_is_positive", asset=["scored"], description="Is the score above zero?",
                              blocking=True, input="scored"),
            wit.AssetCheckDef(name="small", asset=["scored"], description="Below ten", blocking=False, input="value"),
            wit.AssetCheckDef(name="orders_exist", asset=["warehouse", "orders"], description=None, blocking=False,
                              input=None),
        ])
        self.assertEqual(defs.asset_checks[3].input, None)

    def test_a_check_gets_its_assets_value_and_answers_its_result(self):
        wit = self.wit
        self.assertEqual(self.evaluate("scored_is_positive", 2), wit.CheckResult(
            passed=True, severity=wit.CheckSeverity.ERROR, description=None,
            metadata=[("score", wit.MetadataValue_Float(2.0))],
        ))
        self.assertFalse(self.evaluate("scored_is_positive", -1).passed)
        self.assertEqual(self.evaluate("small", 20), wit.CheckResult(
            passed=False, severity=wit.CheckSeverity.WARN, description=None, metadata=[]))
        self.assertTrue(self.evaluate("orders_exist", asset=("warehouse", "orders")).passed)
        self.assertTrue(self.evaluate("yields", 1.5).passed)

    def test_a_check_is_told_its_step_and_asset(self):
        with mock.patch("weft._host.write_log") as log:
            result = self.evaluate("told")
        self.assertEqual((result.passed, result.description), (True, "fine"))
        self.assertEqual(self.seen, [("r1", "checked_job", "scored_told", 2, dg.AssetKey(["scored"]), True, "hi")])
        log.assert_any_call("info", "checked", [("step", "scored_told")])

    def test_a_result_that_is_not_one_fails_the_step_for_good(self):
        wit = self.wit
        what = "check `{}` of asset `scored`"
        self.assertEqual(self.failure("none"), wit.Failure(
            message=f"{what.format('none')} returned None, not an AssetCheckResult: return AssetCheckResult(passed=...)",
            retryable=False))
        self.assertEqual(self.failure("boolean").message,
                         f"{what.format('boolean')} returned a bool, not an AssetCheckResult: return AssetCheckResult(passed=...)")
        self.assertEqual(self.failure("other_asset").message,
                         f"{what.format('other_asset')} returned an AssetCheckResult for asset `orders`; it checks `scored`")
        self.assertEqual(self.failure("other_name").message,
                         f"{what.format('other_name')} returned an AssetCheckResult for check `small`; it is `other_name`")

    def test_an_exception_fails_the_step_as_an_ops_does(self):
        failure = self.failure("raises")
        self.assertTrue(failure.retryable)
        self.assertTrue(failure.message.startswith("ValueError: bad score"), failure.message)
        self.assertIn("Traceback (most recent call last):", failure.message)
        self.assertNotIn("weft/component.py", failure.message)
        self.assertEqual(self.failure("refuses"), self.wit.Failure(message="no", retryable=False))
        bad = self.wit.StepInput("scored", self.wit.InputArg_Single(self.wit.Value(codec="json", data=b"{")))
        with self.assertRaises(self.Err) as raised:
            self.component.Checks().evaluate(self.ctx("scored_is_positive"), [bad])
        self.assertIn("check `scored_is_positive` of asset `scored`: input `scored` is not JSON", raised.exception.value.message)

    def test_an_unknown_check_or_a_step_of_another_kind_fails_naming_it(self):
        wit = self.wit
        with self.assertRaises(self.Err) as raised:
            self.evaluate("nope")
        self.assertEqual(raised.exception.value,
                         wit.Failure(message="this location has no check `nope` of asset `scored`", retryable=False))
        asset_step = wit.StepContext(run_id="r1", job="j", step_key="scored", target=wit.StepTarget_Asset(["scored"]),
                                     attempt=1, partition=None, tags=[], config=None, mapping_key=None)
        with self.assertRaises(self.Err) as raised:
            self.component.Checks().evaluate(asset_step, [])
        self.assertEqual(raised.exception.value.message,
                         "step `scored` is not an asset check: ops.execute runs it, not checks.evaluate")
        with self.assertRaises(self.Err) as raised:
            self.component.Ops().execute(self.ctx("small"), [])
        self.assertEqual(raised.exception.value, wit.Failure(
            message="step `scored_small` evaluates check `small` of asset `scored`: checks.evaluate runs it, not ops.execute",
            retryable=False))


if __name__ == "__main__":
    unittest.main()
