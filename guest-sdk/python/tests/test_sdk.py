"""Host-side tests of the Weft Python SDK, with the real componentize-py bindings.

Run from the repository root (needs componentize-py for the bindings):

    python3 -m unittest discover -s guest-sdk/python/tests
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
BINDINGS = tempfile.mkdtemp(prefix="weft-py-bindings-")
HAVE_BINDINGS = shutil.which("componentize-py") is not None and (
    subprocess.run(
        ["componentize-py", "-d", os.path.join(ROOT, "wit"), "-w", "code-location", "bindings", BINDINGS],
        capture_output=True,
    ).returncode
    == 0
)
sys.path[:0] = [BINDINGS, os.path.join(ROOT, "guest-sdk", "python"), os.path.join(ROOT, "examples", "numbers-python")]

import weft as dg  # noqa: E402


def tearDownModule():
    shutil.rmtree(BINDINGS, ignore_errors=True)


class DefinitionsTest(unittest.TestCase):
    def test_a_job_body_builds_the_graph_with_aliases_and_fan_in(self):
        @dg.op
        def seed():
            return 1

        @dg.op
        def inc(x):
            return x + 1

        @dg.op
        def total(values):
            return sum(values)

        @dg.job
        def wide():
            start = seed()
            total([inc.alias(f"inc_{i}")(start) for i in range(3)])
            inc(start)
            inc(start)

        names = [n.name for n in wide.nodes]
        self.assertEqual(names, ["seed", "inc_0", "inc_1", "inc_2", "total", "inc", "inc_3"])
        total_node = wide.nodes[4]
        self.assertEqual(total_node.inputs[0][0], "values")
        self.assertEqual([s.node for s in total_node.inputs[0][1]], ["inc_0", "inc_1", "inc_2"])
        self.assertTrue(total_node.inputs[0][2])
        self.assertEqual(inc(41), 42, "called outside a job body, an op runs")

    def test_bad_job_bodies_are_refused(self):
        @dg.op
        def inc(x):
            return x + 1

        with self.assertRaises(dg.DefinitionError):

            @dg.job
            def constant():
                inc(3)

        with self.assertRaises(dg.DefinitionError):

            @dg.op(out={"a": None})
            def two_outputs():
                return 1

    def test_selections_render_to_weft_syntax(self):
        sel = dg.AssetSelection
        self.assertEqual(str(sel.groups("numbers")), "group:numbers")
        self.assertEqual(str(sel.keys("a/b", ["c", "d"])), "key:a/b,key:c/d")
        self.assertEqual(str(sel.all()), "*")
        self.assertEqual(str(sel.keys("a").downstream() | sel.groups("g")), "key:a+,group:g")
        self.assertEqual(str(dg.define_asset_job("j", selection="group:x").selection), "group:x")

    def test_schedules_are_named_after_their_variable(self):
        from defs import defs

        names = [s.name for s in defs.schedules]
        self.assertEqual(names, ["process_numbers_every_minute", "process_numbers_asset_every_minute"])
        self.assertEqual([j.name for j in defs.jobs], ["process_numbers", "wide_job"])
        self.assertEqual([j.name for j in defs.asset_jobs], ["process_numbers_asset"])

    def test_a_sensor_yields_and_moves_its_cursor(self):
        @dg.sensor(job="j")
        def counting(context):
            n = int(context.cursor or 0) + 1
            context.update_cursor(str(n))
            yield dg.RunRequest(run_key=f"k{n}", run_config={"ops": {}})

        context = dg.SensorEvaluationContext(cursor="4")
        result = counting.evaluate(context)
        self.assertEqual([r.run_key for r in result.run_requests], ["k5"])
        self.assertEqual(result.cursor, "5")
        self.assertEqual(counting.minimum_interval_seconds, 30)

    def test_a_run_failure_sensor_sees_the_run_and_its_failure(self):
        @dg.job
        def watched():
            pass

        @dg.run_failure_sensor(monitored_jobs=[watched], request_job="other")
        def alert(context):
            yield dg.RunRequest(tags={"why": context.failure_event.message, "run": context.dagster_run.run_id})

        self.assertEqual(alert.run_status, dg.DagsterRunStatus.FAILURE)
        self.assertEqual(alert.monitored_jobs, ["watched"])
        self.assertEqual(alert.job_name, "other")
        run = dg.DagsterRun(run_id="r1", job_name="watched", status=dg.DagsterRunStatus.FAILURE, failure_message="boom")
        result = alert.evaluate(dg.RunStatusSensorContext(sensor_name="alert", dagster_run=run))
        self.assertEqual(result.run_requests[0].tags, {"why": "boom", "run": "r1"})
        # Evaluated as a plain sensor, without the run: a clear error.
        with self.assertRaises(dg.DefinitionError):
            alert.evaluate(dg.SensorEvaluationContext())

    def test_a_run_status_sensor_needs_a_status_that_ends_a_run(self):
        with self.assertRaises(dg.DefinitionError):
            dg.run_status_sensor(run_status="STARTED")
        on_success = dg.run_status_sensor(run_status="success", monitor_all_code_locations=True)(lambda: None)
        self.assertEqual(on_success.run_status, dg.DagsterRunStatus.SUCCESS)
        self.assertTrue(on_success.monitor_all_code_locations)


@unittest.skipUnless(HAVE_BINDINGS, "componentize-py is not installed")
class ComponentTest(unittest.TestCase):
    def setUp(self):
        from weft import component
        from wit_world.imports import types as wit

        self.component = component
        self.wit = wit
        component.load("defs")

    def value(self, x):
        return self.wit.Value(codec="json", data=json.dumps(x).encode())

    def step(self, target, key=None):
        wit = self.wit
        if isinstance(target, list):
            target_value, key = wit.StepTarget_Asset(target), key or "/".join(target)
        else:
            target_value, key = wit.StepTarget_Op(target), key or target
        return wit.StepContext(
            run_id="r", job="j", step_key=key, target=target_value, attempt=1, partition=None, tags=[], config=None
        )

    def test_definitions_cross_as_wit_records(self):
        defs = self.component.Definitions().get()
        self.assertEqual(len(defs.ops), 9)
        summed = [a for a in defs.assets if a.key == ["summed_two_sums"]][0]
        self.assertEqual([(d.key, d.input) for d in summed.deps], [
            (["summed_even_numbers"], "summed_even_numbers"),
            (["summed_odd_numbers"], "summed_odd_numbers"),
        ])
        self.assertEqual(defs.sensors[0].minimum_interval_seconds, 5)
        self.assertFalse(defs.schedules[0].evaluates)

    def test_ops_and_assets_run_on_json_values(self):
        wit = self.wit
        ops = self.component.Ops()
        out = ops.execute(self.step("total"), [wit.StepInput("values", wit.InputArg_FanIn([self.value(2)] * 100))])
        self.assertEqual((out[0].name, json.loads(out[0].value.data)), ("result", 200))
        out = ops.execute(self.step(["filtered_even_numbers"]), [
            wit.StepInput("generated_numbers", wit.InputArg_Single(self.value(list(range(1, 11)))))
        ])
        self.assertEqual(json.loads(out[0].value.data), [2, 4, 6, 8, 10])

    def test_an_exception_fails_the_step_with_its_traceback(self):
        wit = self.wit
        with self.assertRaises(Exception) as raised:
            self.component.Ops().execute(self.step("sum_two_sums"), [
                wit.StepInput("first_number", wit.InputArg_Single(self.value("x"))),
                wit.StepInput("second_number", wit.InputArg_Single(self.value(1))),
            ])
        failure = raised.exception.value
        self.assertTrue(failure.retryable)
        self.assertTrue(failure.message.startswith("TypeError: "), failure.message)
        self.assertIn("Traceback (most recent call last):", failure.message)
        self.assertIn("in sum_two_sums", failure.message)
        self.assertNotIn("weft/component.py", failure.message)

    def test_a_run_status_sensor_crosses_as_its_kind_and_gets_the_run(self):
        wit = self.wit
        defs = self.component.Definitions().get()
        sensor = next(s for s in defs.sensors if s.name == "materialize_after_process_numbers")
        self.assertIsInstance(sensor.kind, wit.SensorKind_RunStatus)
        self.assertEqual(sensor.kind.value.status, wit.RunEnd.SUCCESS)
        self.assertEqual(sensor.kind.value.monitored_jobs, ["process_numbers"])
        self.assertEqual(sensor.job, "process_numbers_asset")
        check_file = next(s for s in defs.sensors if s.name == "check_file_sensor")
        self.assertIsInstance(check_file.kind, wit.SensorKind_Standard)
        run = wit.EndedRun("r9", "process_numbers", "numbers", wit.RunEnd.SUCCESS, [], None, 1)
        result = self.component.Sensors().evaluate(
            "materialize_after_process_numbers", wit.SensorContext(None, None, run)
        )
        self.assertEqual(result.run_requests[0].tags, [("upstream_run_id", "r9")])

    def test_the_file_sensor_skips_without_the_file(self):
        result = self.component.Sensors().evaluate("check_file_sensor", self.wit.SensorContext(None, None, None))
        if not os.path.exists("/check"):
            self.assertEqual((result.run_requests, result.skip_reason), ([], "check file not exists"))


if __name__ == "__main__":
    unittest.main()
