"""Tests of hooks (Dagster's ``@success_hook`` / ``@failure_hook``): the decorators, which
nodes get which hooks (``@job(hooks=)``, ``with_hooks``, graphs), what is refused, and the
component's ``hooks.run`` export and the definitions' hooks through the real bindings.

    python3 -m unittest discover -s guest-sdk/python/tests
"""

import unittest
from unittest import mock

from support import HAVE_BINDINGS  # puts the bindings, the SDK and the example on sys.path

import weft as dg  # noqa: E402
from weft.hook import UNSUPPORTED  # noqa: E402


@dg.success_hook
def cheer(context):
    context.log.info(f"cheer: {context.step_key}")


@dg.failure_hook
def alarm(context):
    """Says what failed."""
    context.log.info(f"alarm: {context.op.name} failed: {context.op_exception}")


@dg.failure_hook(name="sulk", required_resource_keys={"slack"})
def sulking(context):
    raise RuntimeError("sulk hook fails")


@dg.success_hook(name="medal")
def award(_context):
    return "medal"


@dg.op
def seed():
    return 1


@dg.op
def inc(x):
    return x + 1


@dg.graph
def twice(x):
    return inc(inc(x))


def hooks_of(job):
    return {node.name: job.node_hooks(node) for node in job.nodes}


class DecoratorTest(unittest.TestCase):
    def test_bare_and_called_decorators_make_hooks(self):
        self.assertEqual((cheer.name, cheer.on, cheer.description), ("cheer", "success", None))
        self.assertEqual((alarm.name, alarm.on, alarm.description), ("alarm", "failure", "Says what failed."))
        self.assertEqual((sulking.name, sulking.on, sulking.required_resource_keys), ("sulk", "failure", frozenset({"slack"})))
        self.assertEqual((award.name, award.on), ("medal", "success"))
        # Dagster's failure_hook takes its name positionally too.
        positional = dg.failure_hook("named")(lambda context: None)
        self.assertEqual(positional.name, "named")
        self.assertIsInstance(cheer, dg.HookDefinition)

    def test_a_hook_function_takes_the_context_first_and_nothing_else(self):
        with self.assertRaises(dg.DefinitionError) as refused:
            dg.success_hook(lambda ctx_x: None)
        self.assertIn("must take the hook's context as its first positional parameter, named `context`", str(refused.exception))
        with self.assertRaises(dg.DefinitionError) as refused:

            @dg.failure_hook
            def two(context, event_list):
                pass

        self.assertIn("takes only the context; event_list would have no value", str(refused.exception))
        dg.success_hook(lambda _: None)  # Dagster's other names for it
        dg.success_hook(lambda context, extra=1: None)

    def test_bad_arguments_are_refused(self):
        with self.assertRaises(dg.DefinitionError):
            dg.success_hook(lambda context: None, required_resource_keys={"a"})
        with self.assertRaises(dg.DefinitionError):
            dg.success_hook(required_resource_keys="slack")
        with self.assertRaises(TypeError):
            dg.success_hook(description="not Dagster's")  # Dagster has no such argument either

    def test_a_hook_runs_when_called_with_a_context(self):
        seen = []

        @dg.failure_hook
        def record(context):
            seen.append((context.run_id, context.job_name, context.step_key, context.op.name,
                         context.op.definition.name, str(context.op_exception), context.hook_def.name))
            return "done"

        context = dg.build_hook_context(op=inc.alias("inc_7"), run_id="r1", job_name="j", op_exception=ValueError("bad"))
        self.assertEqual(record(context), "done")
        self.assertEqual(seen, [("r1", "j", "inc_7", "inc_7", "inc", "bad", "record")])
        self.assertEqual(award(dg.build_hook_context()), "medal")
        with self.assertRaises(dg.DefinitionError):
            record("not a context")
        with self.assertRaises(dg.DefinitionError):
            dg.build_hook_context(instance=object())


class NodeHooksTest(unittest.TestCase):
    def test_job_hooks_reach_every_node_and_with_hooks_one_sorted_and_once(self):
        @dg.job(hooks={cheer, alarm})
        def hooked():
            one = seed()
            inc.with_hooks({award})(one)
            inc.alias("again").with_hooks({sulking, cheer})(one)
            inc.with_hooks({award}).alias("later").with_hooks({award})(one)
            twice(one)

        self.assertEqual(hooks_of(hooked), {
            "seed": ["alarm", "cheer"],
            "inc": ["alarm", "cheer", "medal"],
            "again": ["alarm", "cheer", "sulk"],
            "later": ["alarm", "cheer", "medal"],
            "twice.inc": ["alarm", "cheer"],
            "twice.inc_2": ["alarm", "cheer"],
        })
        self.assertEqual(sorted(h.name for h in hooked.all_hooks()), ["alarm", "cheer", "medal", "sulk"])

    def test_a_job_without_hooks_has_none_and_nodes_keep_only_theirs(self):
        @dg.job
        def plain():
            seed()
            inc.with_hooks([alarm])(seed())  # a list works as well as a set

        self.assertEqual(hooks_of(plain), {"seed": [], "inc": ["alarm"], "seed_2": []})

    def test_graphs_take_hooks_for_every_node_of_a_call(self):
        @dg.job
        def graphs():
            one = seed()
            twice.with_hooks({alarm})(one)
            twice.alias("again").with_hooks({cheer})(one)
            twice(one)

        self.assertEqual(hooks_of(graphs), {
            "seed": [], "twice.inc": ["alarm"], "twice.inc_2": ["alarm"],
            "again.inc": ["cheer"], "again.inc_2": ["cheer"], "twice_2.inc": [], "twice_2.inc_2": [],
        })

        @dg.graph
        def alone():
            inc.with_hooks({award})(seed())

        job = alone.to_job(name="alone_job", hooks={alarm})
        self.assertEqual(hooks_of(job), {"seed": ["alarm"], "inc": ["alarm", "medal"]})

    def test_a_hook_decorating_a_job_or_with_hooks_adds_it_to_a_copy(self):
        @dg.job
        def base():
            seed()

        @cheer
        @dg.job(hooks={alarm})
        def decorated():
            seed()

        self.assertEqual(hooks_of(decorated), {"seed": ["alarm", "cheer"]})
        more = base.with_hooks({sulking})
        self.assertEqual((hooks_of(base), hooks_of(more)), ({"seed": []}, {"seed": ["sulk"]}))

    def test_definitions_list_the_hooks_of_their_jobs(self):
        @dg.job(hooks={cheer})
        def one():
            inc.with_hooks({alarm})(seed())

        @dg.job
        def other():
            seed.with_hooks({cheer, award})()

        defs = dg.Definitions(jobs=[one, other])
        self.assertEqual(sorted(defs.hooks), ["alarm", "cheer", "medal"])
        self.assertIs(defs.get_hook("medal"), award)
        self.assertIsNone(defs.get_hook("nope"))

    def test_what_is_refused(self):
        twin = dg.success_hook(name="cheer")(lambda context: None)

        @dg.job(hooks={cheer})
        def first():
            seed()

        @dg.job(hooks={twin})
        def second():
            seed()

        with self.assertRaises(dg.DefinitionError) as refused:
            dg.Definitions(jobs=[first, second])
        self.assertEqual(str(refused.exception), "two different hooks are named `cheer`")
        cases = [
            (lambda: dg.job(hooks=cheer)(lambda: None), "job `<lambda>`: hooks is a set of hooks ({cheer}), not one hook"),
            (lambda: inc.with_hooks({"cheer"}), "op `inc`: with_hooks: 'cheer' is not a hook; make it one with @success_hook or @failure_hook"),
            (lambda: dg.job(hooks={"a": cheer}), None),
            (lambda: dg.define_asset_job("a", selection="*", hooks={cheer}), "define_asset_job: Weft does not support hooks"),
            (lambda: cheer(dg.asset(lambda: 1)), "hook `cheer` on an asset: Weft runs hooks after the steps of a job's nodes"),
            (lambda: inc.with_hooks({cheer})(1), "an aliased, tagged or hooked op is called only in a @job or @graph body"),
        ]
        for make, message in cases:
            with self.assertRaises(dg.DefinitionError) as refused:
                job = make()
                if callable(job):
                    job(lambda: None)
            if message:
                self.assertIn(message, str(refused.exception))

    def test_what_a_hook_is_not_told_raises(self):
        context = dg.build_hook_context()
        for name in ("op_config", "op_output_values", "op_output_metadata", "instance", "step"):
            with self.assertRaises(NotImplementedError) as raised:
                getattr(context, name)
            self.assertEqual(str(raised.exception), f"HookContext.{name}: {UNSUPPORTED}")
        self.assertEqual(
            UNSUPPORTED, "Weft does not support it; a hook is told run_id, job_name, step_key, op and op_exception"
        )
        self.assertEqual(context.required_resource_keys, frozenset())


@unittest.skipUnless(HAVE_BINDINGS, "componentize-py is not installed")
class HooksExportTest(unittest.TestCase):
    """The component's ``definitions.get`` and ``hooks.run`` through the real bindings."""

    def setUp(self):
        from componentize_py_types import Err
        from weft import component
        from wit_world.imports import weft_plugin_types as wit

        self.Err, self.component, self.wit = Err, component, wit
        self.seen = []

        @dg.failure_hook
        def record(context):
            failure = context.op_exception
            self.seen.append((context.run_id, context.job_name, context.step_key, context.op.name,
                              context.op.definition.name, failure and (type(failure).__name__, str(failure)),
                              context.hook_def.name, context.resources.greeting))
            context.log.info("recorded", step=context.step_key)

        @dg.success_hook
        def refuse(context):
            raise dg.Failure("refused on purpose", allow_retries=True)

        @dg.job(hooks={record, cheer})
        def hooked():
            twice(inc.alias("first").with_hooks({refuse, sulking})(seed()))

        self.saved = component._loaded
        component._loaded = dg.Definitions(jobs=[hooked], resources={"greeting": "hi"})

    def tearDown(self):
        self.component._loaded = self.saved

    def ctx(self, step, op, failure=None):
        return self.wit.HookContext(run_id="r1", job="hooked", step_key=step, op=op, failure=failure)

    def test_definitions_carry_the_hooks_and_each_nodes_sorted(self):
        wit = self.wit
        defs = self.component.Definitions().get()
        self.assertEqual(defs.hooks, [
            wit.HookDef(name="cheer", description=None, on=wit.HookTrigger.SUCCESS),
            wit.HookDef(name="record", description=None, on=wit.HookTrigger.FAILURE),
            wit.HookDef(name="refuse", description=None, on=wit.HookTrigger.SUCCESS),
            wit.HookDef(name="sulk", description=None, on=wit.HookTrigger.FAILURE),
        ])
        job = defs.jobs[0]
        self.assertEqual([(n.name, n.hooks) for n in job.nodes], [
            ("seed", ["cheer", "record"]),
            ("first", ["cheer", "record", "refuse", "sulk"]),
            ("twice.inc", ["cheer", "record"]),
            ("twice.inc_2", ["cheer", "record"]),
        ])

    def test_a_hook_is_told_the_step_and_its_failure(self):
        with mock.patch("weft._host.write_log") as log:
            self.assertIsNone(self.component.Hooks().run("record", self.ctx("twice.inc_2", "inc", "ValueError: bad")))
            self.component.Hooks().run("record", self.ctx("seed", "seed"))
        self.assertEqual(self.seen, [
            ("r1", "hooked", "twice.inc_2", "inc_2", "inc", ("Failure", "ValueError: bad"), "record", "hi"),
            ("r1", "hooked", "seed", "seed", "seed", None, "record", "hi"),
        ])
        log.assert_any_call("info", "recorded", [("step", "seed")])

    def test_a_failing_hook_fails_as_an_op_would_but_never_retryably(self):
        with self.assertRaises(self.Err) as raised:
            self.component.Hooks().run("sulk", self.ctx("first", "inc", "x"))
        failure = raised.exception.value
        self.assertFalse(failure.retryable)
        self.assertTrue(failure.message.startswith("RuntimeError: sulk hook fails"), failure.message)
        self.assertIn("Traceback (most recent call last):", failure.message)
        self.assertIn("in sulking", failure.message)
        self.assertNotIn("weft/component.py", failure.message)
        with self.assertRaises(self.Err) as raised:
            self.component.Hooks().run("refuse", self.ctx("first", "inc"))
        self.assertEqual(raised.exception.value, self.wit.Failure(message="refused on purpose", retryable=False))

    def test_an_unknown_hook_fails_naming_it(self):
        with self.assertRaises(self.Err) as raised:
            self.component.Hooks().run("nope", self.ctx("seed", "seed"))
        self.assertEqual(
            raised.exception.value,
            self.wit.Failure(message='no hook named "nope" in this code location', retryable=False),
        )


if __name__ == "__main__":
    unittest.main()
