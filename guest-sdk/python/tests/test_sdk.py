"""Host-side tests of the Weft Python SDK, with the real componentize-py bindings.

Run from the repository root (needs componentize-py for the bindings):

    python3 -m unittest discover -s guest-sdk/python/tests
"""

import datetime
import json
import os
import sys
import unittest
from unittest import mock

from support import HAVE_BINDINGS  # puts the bindings, the SDK and the example on sys.path

import weft as dg  # noqa: E402


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

    def test_dagster_tags_keep_their_values_as_json_and_assets_take_op_tags(self):
        config = {"container_config": {"resources": {"limits": {"cpu": "2"}}}}

        @dg.op(tags={"dagster-k8s/config": config, "team": "data", "n": 3})
        def tagged():
            return 1

        self.assertEqual(json.loads(tagged.tags["dagster-k8s/config"]), config)
        self.assertEqual((tagged.tags["team"], tagged.tags["n"]), ("data", "3"))

        @dg.asset(tags={"team": "data"}, op_tags={"dagster-k8s/config": config})
        def sized():
            return 1

        self.assertEqual(sized.tags["team"], "data")
        self.assertEqual(json.loads(sized.tags["dagster-k8s/config"]), config)

    def test_executor_def_tags_the_job_and_anything_else_is_refused(self):
        @dg.job(executor_def=dg.multiprocess_executor, tags={"team": "data"})
        def fanned():
            pass

        self.assertEqual(fanned.tags, {"team": "data", "weft/executor": "multiprocess"})
        assets = dg.define_asset_job("a", selection="*", executor_def=dg.k8s_job_executor)
        self.assertEqual(assets.tags, {"weft/executor": "k8s-job"})
        with self.assertRaises(dg.DefinitionError) as refused:
            dg.job(executor_def="celery")(lambda: None)
        self.assertIn("executor_def must be in_process_executor", str(refused.exception))

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
        from wit_world.imports import weft_plugin_types as wit

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
            run_id="r", job="j", step_key=key, target=target_value, attempt=1, partition=None, tags=[], config=None,
            mapping_key=None,
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


class K8sJobSpecTest(unittest.TestCase):
    """``execute_k8s_job``'s arguments as the contract's ``job-spec`` (no host needed)."""

    def spec(self, **kwargs):
        from weft import k8s

        kwargs.setdefault("image", "busybox:1.36")
        return k8s.job_spec(**kwargs)

    def invalid(self, saying, **kwargs):
        with self.assertRaises(dg.K8sJobError) as raised:
            if "context" in kwargs:
                dg.execute_k8s_job(**kwargs)
            else:
                self.spec(**kwargs)
        self.assertIn(saying, raised.exception.message)
        self.assertFalse(raised.exception.allow_retries, "a job the SDK can tell is wrong is not retried")

    def test_the_spec_is_deterministic(self):
        spec = self.spec(
            command=["sh", "-c"],
            args=("echo $GREETING",),
            env_vars=["ZED=z", "GREETING=hello=world", "ALPHA=a"],
            resources={"requests": {"memory": "64Mi", "cpu": "100m"}, "limits": {"memory": "128Mi"}},
            timeout=1.5,
            k8s_job_config={"pod_spec_config": {"node_selector": {"pool": "batch"}}, "container_config": {"working_dir": "/w"}},
        )
        self.assertEqual(spec, {
            "image": "busybox:1.36",
            "command": ["sh", "-c"],
            "args": ["echo $GREETING"],
            "env": [("ALPHA", "a"), ("GREETING", "hello=world"), ("ZED", "z")],
            "resources": ([("cpu", "100m"), ("memory", "64Mi")], [("memory", "128Mi")]),
            "config": '{"container_config": {"working_dir": "/w"}, "pod_spec_config": {"node_selector": {"pool": "batch"}}}',
            "timeout_seconds": 2,
        })
        # A dict of env vars makes the same pairs, in name order.
        self.assertEqual(self.spec(env_vars={"ZED": "z", "ALPHA": 1})["env"], [("ALPHA", "1"), ("ZED", "z")])

    def test_defaults_are_empty_and_none(self):
        self.assertEqual(self.spec(), {
            "image": "busybox:1.36", "command": [], "args": [], "env": [],
            "resources": None, "config": None, "timeout_seconds": None,
        })
        self.assertEqual(self.spec(resources={})["resources"], ([], []), "given, even empty, it replaces")
        self.assertIsNone(self.spec(k8s_job_config="  ")["config"])

    def test_timeouts_round_up_to_whole_seconds(self):
        for timeout, seconds in [(None, None), (0, None), (0.0, None), (1, 1), (1.001, 2), (600, 600),
                                 (datetime.timedelta(minutes=2, milliseconds=1), 121), (10**12, 2**32 - 1)]:
            self.assertEqual(self.spec(timeout=timeout)["timeout_seconds"], seconds, timeout)

    def test_a_bare_env_var_takes_the_granted_value(self):
        with mock.patch.dict(os.environ, {"WEFT_TEST_TOKEN": "s3cret"}):
            self.assertEqual(self.spec(env_vars=["WEFT_TEST_TOKEN", "B=2"])["env"], [("B", "2"), ("WEFT_TEST_TOKEN", "s3cret")])
        with mock.patch.dict(os.environ, {}, clear=True):
            self.invalid("not granted", env_vars=["WEFT_TEST_TOKEN"])

    def test_dagster_config_fields_merge_into_the_config(self):
        spec = self.spec(
            k8s_job_config='{"container_config": {"working_dir": "/w"}, "job_metadata": {"labels": {"a": "b"}}}',
            container_config={"image_pull_policy": "Always"},
            merge_behavior="shallow",
        )
        self.assertEqual(json.loads(spec["config"]), {
            "container_config": {"image_pull_policy": "Always"},
            "job_metadata": {"labels": {"a": "b"}},
            "merge_behavior": "SHALLOW",
        })

    def test_bad_jobs_are_refused_before_starting(self):
        self.invalid("no image", image=" ")
        self.invalid("list of strings", command="echo hi")
        self.invalid("KEY=VALUE", env_vars=[("A", "1")])
        self.invalid("takes `requests` and `limits`", resources={"cpu": "1"})
        self.invalid("not JSON", k8s_job_config="{nope")
        self.invalid("JSON object", k8s_job_config="[1]")
        self.invalid("DEEP or SHALLOW", merge_behavior="sideways")
        self.invalid("0 or more seconds", timeout=-1)
        self.invalid("number of seconds", timeout="10")
        self.invalid("`namespace`: the Job runs in the step's namespace",
                     context=dg.OpExecutionContext(), image="busybox", namespace="other")
        self.invalid("takes the op's or asset's context first",
                     context=dg.SensorEvaluationContext(), image="busybox")

    def test_outside_the_host_it_fails_clearly(self):
        with self.assertRaises(dg.K8sJobError) as raised:
            dg.execute_k8s_job(dg.OpExecutionContext(), image="busybox")
        error = raised.exception
        self.assertEqual((error.message, error.job_name, error.exit_code), ("k8s jobs run only inside the Weft host", None, None))
        self.assertIsInstance(error, dg.Failure)


class K8sJobErrorTest(unittest.TestCase):
    def test_the_error_carries_name_exit_code_and_message(self):
        error = dg.K8sJobError("Job weft-job-x failed: exit code 3", job_name="weft-job-x", exit_code=3)
        self.assertEqual((error.message, error.job_name, error.exit_code), ("Job weft-job-x failed: exit code 3", "weft-job-x", 3))
        self.assertEqual(str(error), "Job weft-job-x failed: exit code 3")
        self.assertTrue(error.allow_retries)
        self.assertEqual(error.metadata, {"k8s_job": "weft-job-x", "exit_code": 3})
        self.assertIn("exit_code=3", repr(error))


@unittest.skipUnless(HAVE_BINDINGS, "componentize-py is not installed")
class K8sJobHostTest(unittest.TestCase):
    """Through the real bindings, with the host's ``k8s-jobs.execute`` faked."""

    def setUp(self):
        from componentize_py_types import Err
        from weft import component
        from wit_world.imports import k8s_jobs
        from wit_world.imports import weft_plugin_types as wit

        self.Err, self.component, self.k8s_jobs, self.wit = Err, component, k8s_jobs, wit
        self.calls = []

    def fake_host(self, spec):
        self.calls.append(spec)
        if spec.args and spec.args[0] == "fail":
            raise self.Err(self.k8s_jobs.JobError(
                name="weft-job-r-s-1-1", exit_code=3, message="Kubernetes Job weft-job-r-s-1-1 failed: exit code 3"
            ))
        if spec.args and spec.args[0] == "refuse":
            raise self.Err(self.k8s_jobs.JobError(name=None, exit_code=None, message="this code location is not granted Kubernetes Jobs"))
        return self.k8s_jobs.JobRun(name="weft-job-r-s-1-0")

    def test_the_spec_crosses_as_the_binding_record(self):
        with mock.patch.object(self.k8s_jobs, "execute", self.fake_host):
            name = dg.execute_k8s_job(
                dg.OpExecutionContext(), image="busybox", command=["echo"], args=["hi"],
                env_vars={"B": "2", "A": "1"}, resources={"limits": {"cpu": "1"}}, timeout=2.5,
                k8s_job_config={"job_spec_config": {"ttl_seconds_after_finished": 60}},
            )
        self.assertEqual(name, "weft-job-r-s-1-0")
        self.assertEqual(self.calls, [self.k8s_jobs.JobSpec(
            image="busybox", command=["echo"], args=["hi"], env=[("A", "1"), ("B", "2")],
            resources=self.k8s_jobs.Resources(requests=[], limits=[("cpu", "1")]),
            config='{"job_spec_config": {"ttl_seconds_after_finished": 60}}', timeout_seconds=3,
        )])

    def test_a_configured_k8s_job_op_runs_its_job_under_its_name(self):
        hello = dg.k8s_job_op.configured(
            {"image": "busybox", "command": ["/bin/sh", "-c"], "args": ["echo HELLO"]}, name="echo_hello"
        )
        self.assertEqual((hello.name, hello.input_names), ("echo_hello", []))
        with mock.patch.object(self.k8s_jobs, "execute", self.fake_host):
            name = hello.compute.call(dg.OpExecutionContext(), {})
        self.assertEqual(name, "weft-job-r-s-1-0")
        self.assertEqual((self.calls[0].image, self.calls[0].args), ("busybox", ["echo HELLO"]))
        bad = dg.k8s_job_op.configured({"image": "busybox", "replicas": 2}, name="bad")
        with self.assertRaises(dg.K8sJobError) as raised:
            bad.compute.call(dg.OpExecutionContext(), {})
        self.assertIn("k8s_job_op's config has replicas", str(raised.exception))

    def test_a_failed_job_raises_and_fails_the_step_with_its_message(self):
        with mock.patch.object(self.k8s_jobs, "execute", self.fake_host):
            with self.assertRaises(dg.K8sJobError) as raised:
                dg.execute_k8s_job(dg.OpExecutionContext(), image="busybox", args=["fail"])
            self.assertEqual((raised.exception.job_name, raised.exception.exit_code), ("weft-job-r-s-1-1", 3))
            with self.assertRaises(dg.K8sJobError) as raised:
                dg.execute_k8s_job(dg.OpExecutionContext(), image="busybox", args=["refuse"])
            self.assertEqual((raised.exception.job_name, raised.exception.exit_code), (None, None))

            @dg.op
            def run_job(context):
                return dg.execute_k8s_job(context, image="busybox", args=["fail"])

            @dg.op
            def run_ok(context):
                return dg.execute_k8s_job(context, image="busybox", args=["ok"])

            @dg.job
            def k8s_job():
                run_job()
                run_ok()

            wit = self.wit
            saved = self.component._loaded
            self.component._loaded = dg.Definitions(jobs=[k8s_job])
            try:
                def step(name):
                    return wit.StepContext(run_id="r", job="k8s_job", step_key=name, target=wit.StepTarget_Op(name),
                                           attempt=1, partition=None, tags=[], config=None, mapping_key=None)

                with self.assertRaises(Exception) as raised:
                    self.component.Ops().execute(step("run_job"), [])
                failure = raised.exception.value
                self.assertEqual(failure.message, "Kubernetes Job weft-job-r-s-1-1 failed: exit code 3")
                self.assertTrue(failure.retryable)
                out = self.component.Ops().execute(step("run_ok"), [])
                self.assertEqual(json.loads(out[0].value.data), "weft-job-r-s-1-0")
            finally:
                self.component._loaded = saved


if __name__ == "__main__":
    unittest.main()
