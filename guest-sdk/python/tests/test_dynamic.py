"""Dynamic fan-out (Dagster's ``DynamicOut``, ``DynamicOutput``, ``.map``, ``.collect()``,
``context.get_mapping_key()``): the nodes a job body records, what the host reads of them
through the bindings (dynamic outputs, mapped nodes' bindings, collecting inputs), and steps
producing values under mapping keys, refusing bad and repeated keys."""

import json
import unittest

from support import HAVE_BINDINGS  # puts the bindings, the SDK and the example on sys.path

import weft as dg  # noqa: E402


class FanConfig(dg.Config):
    n: int = 3


@dg.op(out=dg.DynamicOut())
def fan_out(config: FanConfig):
    for i in range(1, config.n + 1):
        yield dg.DynamicOutput(i, mapping_key=f"k{i}", metadata={"i": i} if i == 2 else None)


@dg.op
def square(x):
    return x * x


@dg.op
def add_one(x):
    return x + 1


@dg.op
def add(x, y):
    return x + y


@dg.op
def keyed(context, x):
    return [context.get_mapping_key(), x]


@dg.op
def one():
    return 1


@dg.op
def total(values):
    return sum(values)


@dg.op(out={"items": dg.DynamicOut(), "count": dg.Out(), "none": dg.DynamicOut(is_required=False)})
def listed():
    return [dg.DynamicOutput(10, mapping_key="a"), dg.DynamicOutput(20, mapping_key="b")], 2, []


@dg.graph
def squared_plus(x, y):
    return add(square(x), y)


@dg.job
def fanout_job():
    total(fan_out().map(square).map(add_one).collect())


@dg.job
def shapes_job():
    base = one()
    numbers = fan_out()
    total(numbers.map(lambda x: add(x, base)).collect())
    total(numbers.collect())
    items, count, _ = listed()
    squares, keys = items.map(lambda x: (square(x), keyed(x)))
    total(squares.collect())
    keys.map(lambda k: add(k, count))
    numbers.map(lambda x: squared_plus(x, base))


def _defs():
    return dg.Definitions(jobs=[fanout_job, shapes_job])


def _edges(job):
    """Each node's inputs: (input, [(node, output)...], fan-in, collect)."""
    return {
        n.name: [(i, [(s.node, s.output) for s in ss], f, i in n.collect) for i, ss, f in n.inputs] for n in job.nodes
    }


def _refused(body):
    with unittest.TestCase().assertRaises(dg.DefinitionError) as raised:
        dg.job(body)
    return str(raised.exception)


class CompositionTest(unittest.TestCase):
    def test_a_map_makes_mapped_nodes_and_a_collect_an_input_collecting(self):
        edges = _edges(fanout_job)
        self.assertEqual(list(edges), ["fan_out", "square", "add_one", "total"])
        self.assertEqual(edges["square"], [("x", [("fan_out", "result")], False, False)])
        self.assertEqual(edges["add_one"], [("x", [("square", "result")], False, False)])
        self.assertEqual(edges["total"], [("values", [("add_one", "result")], False, True)])
        over = {n.name: n.over for n in fanout_job.nodes}
        self.assertEqual(over, {"fan_out": None, "square": ("fan_out", "result"),
                                "add_one": ("fan_out", "result"), "total": None})

    def test_lambdas_tuples_ordinary_inputs_and_graphs_map_too(self):
        edges = _edges(shapes_job)
        self.assertEqual(edges["add"], [("x", [("fan_out", "result")], False, False), ("y", [("one", "result")], False, False)])
        self.assertEqual(edges["total"], [("values", [("add", "result")], False, True)])
        self.assertEqual(edges["total_2"], [("values", [("fan_out", "result")], False, True)])
        self.assertEqual(edges["square"], [("x", [("listed", "items")], False, False)])
        self.assertEqual(edges["keyed"], [("x", [("listed", "items")], False, False)])
        self.assertEqual(edges["total_3"], [("values", [("square", "result")], False, True)])
        self.assertEqual(edges["add_2"], [("x", [("keyed", "result")], False, False), ("y", [("listed", "count")], False, False)])
        self.assertEqual(edges["squared_plus.add"][0], ("x", [("squared_plus.square", "result")], False, False))
        over = {n.name: n.over for n in shapes_job.nodes}
        self.assertEqual(over["add_2"], ("listed", "items"))
        self.assertEqual(over["squared_plus.square"], ("fan_out", "result"))
        self.assertEqual(over["squared_plus.add"], ("fan_out", "result"))
        self.assertIsNone(over["total_3"])

    def test_what_dagster_refuses_is_refused(self):
        def direct():
            square(fan_out())

        self.assertIn("input `x` of op `square` is fed the dynamic output `result` of node `fan_out` itself: "
                      "map over it (`.map(square)`) or collect its values (`.collect()`)", _refused(direct))

        @dg.op(out=dg.DynamicOut())
        def other():
            yield dg.DynamicOutput(1, mapping_key="a")

        def two():
            fan_out().map(lambda x: other().map(lambda y: add(x, y)))

        self.assertIn('op `add` cannot be mapped over more than one dynamic output: it is over "fan_out:result" and '
                      '"other:result"', _refused(two))

        @dg.op(out=dg.DynamicOut())
        def again(x):
            yield dg.DynamicOutput(x, mapping_key="a")

        self.assertIn("op `again` is mapped over a dynamic output and has one of its own (`result`)",
                      _refused(lambda: fan_out().map(again)))
        self.assertIn("the items of a fan-in list cannot be dynamic or mapped over a dynamic output",
                      _refused(lambda: fan_out().map(lambda x: total([x, one()]))))
        self.assertIn("a collected output is an input's whole value, not an item of a fan-in list",
                      _refused(lambda: total([fan_out().collect(), one()])))

        def unpacked():
            a, b = fan_out()

        self.assertIn("output `result` of node `fan_out` is dynamic", _refused(unpacked))
        self.assertIn("the function given to .map of output `result` of node `fan_out` returned int",
                      _refused(lambda: fan_out().map(lambda x: 3)))
        self.assertIn("output `result` of node `one` is not mapped over a dynamic output, so there is nothing to collect",
                      _refused(lambda: total(fan_out().map(lambda x: one()).collect())))

    def test_a_dynamic_output_and_its_values(self):
        self.assertTrue(fan_out.outs["result"].is_dynamic)
        self.assertIsInstance(fan_out.outs["result"], dg.Out)
        self.assertEqual([(n, o.is_dynamic, o.is_required) for n, o in listed.outs.items()],
                         [("items", True, True), ("count", False, True), ("none", True, False)])
        self.assertEqual(list(fan_out(FanConfig(n=2))), [
            dg.DynamicOutput(1, mapping_key="k1"),
            dg.DynamicOutput(2, mapping_key="k2", metadata={"i": 2}),
        ])
        for bad in ("a-b", "", "k 1", "ключ", "k1\n"):
            with self.assertRaises(dg.DefinitionError) as raised:
                dg.DynamicOutput(1, mapping_key=bad)
            self.assertEqual(str(raised.exception), f'DynamicOutput: mapping_key "{bad}" is not valid: a mapping key '
                                                    "is letters, digits and _ (^[A-Za-z0-9_]+$), as it ends the key of "
                                                    "each step mapped over it (op[key])")
        with self.assertRaises(dg.DefinitionError):
            dg.DynamicOutput(1, mapping_key=5)
        self.assertIsNone(dg.OpExecutionContext().get_mapping_key())
        self.assertEqual(dg.OpExecutionContext(mapping_key="k1").get_mapping_key(), "k1")


@unittest.skipUnless(HAVE_BINDINGS, "componentize-py is not installed")
class ComponentDynamicTest(unittest.TestCase):
    def setUp(self):
        from componentize_py_types import Err
        from weft import component
        from wit_world.imports import weft_plugin_types as wit

        self.component, self.wit, self.Err = component, wit, Err
        self.saved = component._loaded
        component._loaded = _defs()

    def tearDown(self):
        self.component._loaded = self.saved

    def execute(self, op, inputs=None, config=None, mapping_key=None, fan_in=()):
        wit = self.wit

        def value(v):
            return wit.Value(codec="json", data=json.dumps(v).encode())

        ctx = wit.StepContext(
            run_id="r", job="fanout_job", step_key=f"{op}[{mapping_key}]" if mapping_key else op,
            target=wit.StepTarget_Op(op), attempt=1, partition=None, tags=[],
            config=json.dumps(config) if config is not None else None, mapping_key=mapping_key,
        )
        args = [
            wit.StepInput(k, wit.InputArg_FanIn([value(x) for x in v]) if k in fan_in else wit.InputArg_Single(value(v)))
            for k, v in (inputs or {}).items()
        ]
        return self.component.Ops().execute(ctx, args)

    def outputs(self, op, **kwargs):
        return [(o.name, o.mapping_key, json.loads(o.value.data), o.metadata) for o in self.execute(op, **kwargs)]

    def failure(self, op, **kwargs):
        with self.assertRaises(self.Err) as raised:
            self.execute(op, **kwargs)
        return raised.exception.value

    def test_the_definitions_say_which_outputs_are_dynamic_and_which_inputs_collect(self):
        defs = self.component.Definitions().get()
        ops = {o.name: o for o in defs.ops}
        self.assertEqual([(o.name, o.dynamic, o.required) for o in ops["fan_out"].outputs], [("result", True, True)])
        self.assertEqual([(o.name, o.dynamic, o.required) for o in ops["listed"].outputs],
                         [("items", True, True), ("count", False, True), ("none", True, False)])
        self.assertEqual([o.dynamic for o in ops["square"].outputs], [False])
        jobs = {j.name: j for j in defs.jobs}
        bindings = {
            n.name: [(b.input, [(s.node, s.output) for s in b.sources], b.fan_in, b.collect) for b in n.inputs]
            for n in jobs["fanout_job"].nodes
        }
        self.assertEqual(bindings, {
            "fan_out": [],
            "square": [("x", [("fan_out", "result")], False, False)],
            "add_one": [("x", [("square", "result")], False, False)],
            "total": [("values", [("add_one", "result")], False, True)],
        })
        shapes = {n.name: n for n in jobs["shapes_job"].nodes}
        self.assertEqual([(b.input, b.collect) for b in shapes["total_2"].inputs], [("values", True)])
        self.assertEqual([(b.input, b.collect) for b in shapes["add"].inputs], [("x", False), ("y", False)])

    def test_a_dynamic_output_is_one_step_output_per_key(self):
        wit = self.wit
        self.assertEqual(self.outputs("fan_out", config={"n": 3}), [
            ("result", "k1", 1, []),
            ("result", "k2", 2, [("i", wit.MetadataValue_Int(2))]),
            ("result", "k3", 3, []),
        ])
        self.assertEqual(self.outputs("fan_out", config={"n": 0}), [])
        self.assertEqual(self.outputs("listed"), [
            ("items", "a", 10, []), ("items", "b", 20, []), ("count", None, 2, []),
        ])

    def test_a_mapped_step_knows_its_key_and_a_collecting_one_gets_a_list(self):
        self.assertEqual(self.outputs("keyed", inputs={"x": 2}, mapping_key="k2"), [("result", None, ["k2", 2], [])])
        self.assertEqual(self.outputs("keyed", inputs={"x": 2}), [("result", None, [None, 2], [])])
        self.assertEqual(self.outputs("square", inputs={"x": 3}, mapping_key="k3"), [("result", None, 9, [])])
        self.assertEqual(self.outputs("total", inputs={"values": [2, 5, 10]}, fan_in={"values"}),
                         [("result", None, 17, [])])
        self.assertEqual(self.outputs("total", inputs={"values": []}, fan_in={"values"}), [("result", None, 0, [])])

    def load(self, op):
        self.component._loaded = dg.Definitions(jobs=[dg.job(lambda: op(), name=f"{op.name}_job")])

    def test_bad_and_repeated_keys_fail_the_step_for_good(self):
        @dg.op(retry_policy=dg.RetryPolicy(max_retries=2), out=dg.DynamicOut())
        def bad_key():
            yield dg.DynamicOutput(1, mapping_key="a-b")

        @dg.op(out=dg.DynamicOut())
        def twice():
            yield dg.DynamicOutput(1, mapping_key="a")
            yield dg.DynamicOutput(2, mapping_key="a")

        self.load(bad_key)
        self.assertEqual(self.failure("bad_key"), self.wit.Failure(
            message='DynamicOutput: mapping_key "a-b" is not valid: a mapping key is letters, digits and _ '
                    "(^[A-Za-z0-9_]+$), as it ends the key of each step mapped over it (op[key])",
            retryable=False,
        ))
        self.load(twice)
        self.assertEqual(self.failure("twice"), self.wit.Failure(
            message='op `twice` produced a DynamicOutput with mapping_key "a" twice (output `result`): each value '
                    "of a dynamic output has a key of its own",
            retryable=False,
        ))

    def test_values_that_are_not_dynamic_outputs_of_a_dynamic_out_fail_the_step(self):
        @dg.op(out=dg.DynamicOut())
        def plain():
            yield dg.Output(1)

        @dg.op(out=dg.DynamicOut())
        def returns_int():
            return 1

        @dg.op
        def not_dynamic():
            yield dg.DynamicOutput(1, mapping_key="a")

        @dg.op(out={"d": dg.DynamicOut(), "p": dg.Out()})
        def pair():
            return [dg.DynamicOutput(1, mapping_key="a")], 5

        cases = [
            (plain, "op `plain`: output `result` is a DynamicOut: yield DynamicOutput(value, mapping_key=...) for "
                    "each of its values, or return a list of them"),
            (returns_int, "op `returns_int`: output `result` is a DynamicOut, which takes a list of "
                          "DynamicOutput(value, mapping_key=...), not int: return the list, or yield each DynamicOutput"),
            (not_dynamic, "op `not_dynamic` produced a DynamicOutput for output `result`, which is not a DynamicOut: "
                          "declare it out=DynamicOut(), or produce Output(value)"),
        ]
        for op, message in cases:
            self.load(op)
            self.assertEqual(self.failure(op.name), self.wit.Failure(message=message, retryable=False), op.name)
        self.load(pair)
        self.assertEqual(self.outputs("pair"), [("d", "a", 1, []), ("p", None, 5, [])])

    def test_output_metadata_of_a_dynamic_output_names_its_key(self):
        wit = self.wit

        @dg.op(out=dg.DynamicOut())
        def noted(context):
            yield dg.DynamicOutput(1, mapping_key="a", metadata={"own": 1})
            context.add_output_metadata({"later": 2}, mapping_key="b")
            yield dg.DynamicOutput(2, mapping_key="b")

        @dg.op(out=dg.DynamicOut())
        def unkeyed(context):
            context.add_output_metadata({"all": 1})
            yield dg.DynamicOutput(1, mapping_key="a")

        self.load(noted)
        self.assertEqual(self.outputs("noted"), [
            ("result", "a", 1, [("own", wit.MetadataValue_Int(1))]),
            ("result", "b", 2, [("later", wit.MetadataValue_Int(2))]),
        ])
        self.load(unkeyed)
        self.assertEqual(self.failure("unkeyed"), wit.Failure(
            message="step `unkeyed` added metadata for dynamic output `result` without a mapping key: say which "
                    "value it is for with add_output_metadata(..., mapping_key=...)",
            retryable=False,
        ))


if __name__ == "__main__":
    unittest.main()
