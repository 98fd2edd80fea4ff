"""Several outputs (``out=``, ``Output``, tuples, yields), typed metadata and config
(``Config`` classes, Dagster's config dicts), as the host sees them through the bindings."""

import json
import unittest

from support import HAVE_BINDINGS  # puts the bindings, the SDK and the example on sys.path

import weft as dg  # noqa: E402


class ScaleConfig(dg.Config):
    factor: int
    label: str = "x"


@dg.op(out={"even": dg.Out(), "odd": dg.Out(is_required=False)})
def split(context, numbers):
    context.add_output_metadata({"total": len(numbers)})
    evens = [n for n in numbers if n % 2 == 0]
    odds = [n for n in numbers if n % 2]
    yield dg.Output(evens, output_name="even", metadata={"ratio": 0.5, "link": dg.MetadataValue.url("http://x")})
    if odds:
        yield dg.Output(odds, output_name="odd")


@dg.op(out={"low": dg.Out(), "high": dg.Out()})
def halves(numbers):
    middle = len(numbers) // 2
    return numbers[:middle], dg.Output(numbers[middle:], metadata={"rows": len(numbers) - middle})


@dg.op
def scale(config: ScaleConfig, numbers):
    return [n * config.factor for n in numbers]


@dg.op(config_schema={"factor": int, "offset": dg.Field(int, default_value=0, description="added")})
def shift(context, numbers):
    return [n * context.op_config["factor"] + context.op_config["offset"] for n in numbers]


@dg.op
def total(values):
    return sum(values)


@dg.op
def numbers():
    return [1, 2, 3, 4]


@dg.job
def parity():
    even, odd = split(numbers())
    total(even)
    total(odd)
    low = halves(even).low
    total(scale(low))


def _defs():
    return dg.Definitions(jobs=[parity], assets=[])


class ConfigTest(unittest.TestCase):
    def test_a_config_class_is_json_schema_and_builds_an_instance(self):
        schema = ScaleConfig.json_schema()
        self.assertEqual(schema["required"], ["factor"])
        self.assertEqual(schema["properties"]["factor"], {"type": "integer"})
        self.assertEqual(schema["properties"]["label"], {"type": "string", "default": "x"})
        self.assertFalse(schema["additionalProperties"])
        self.assertEqual(ScaleConfig(factor=2), ScaleConfig(factor=2, label="x"))
        with self.assertRaises(dg.DefinitionError):
            ScaleConfig(factor=2, nope=1)
        self.assertEqual(json.loads(dg.config.schema_text(scale.config_schema))["required"], ["factor"])

    def test_dagster_config_dicts_become_json_schema(self):
        schema = json.loads(dg.config.schema_text(shift.config_schema))
        self.assertEqual(schema["required"], ["factor"])
        self.assertEqual(schema["properties"]["offset"], {"type": "integer", "default": 0, "description": "added"})
        self.assertEqual(dg.config.to_json_schema(int), {"type": "integer"})
        self.assertEqual(dg.config.to_json_schema({"type": "object"}), {"type": "object"})
        with self.assertRaises(dg.DefinitionError):
            dg.op(config_schema={"x": object()})(lambda: 1)


class GraphTest(unittest.TestCase):
    def test_several_outputs_wire_by_name(self):
        nodes = {n.name: n for n in parity.nodes}
        sources = [(s.node, s.output) for _, ss, _ in nodes["total"].inputs for s in ss]
        self.assertEqual(sources, [("split", "even")])
        self.assertEqual([(s.node, s.output) for _, ss, _ in nodes["total_2"].inputs for s in ss], [("split", "odd")])
        self.assertEqual([(s.node, s.output) for _, ss, _ in nodes["scale"].inputs for s in ss], [("halves", "low")])

    def test_several_outputs_cannot_feed_one_input(self):
        with self.assertRaises(dg.DefinitionError):

            @dg.job
            def bad():
                total(split(numbers()))


@unittest.skipUnless(HAVE_BINDINGS, "componentize-py is not installed")
class ComponentOutputsTest(unittest.TestCase):
    def setUp(self):
        from weft import component
        from wit_world.imports import weft_plugin_types as wit

        self.component, self.wit = component, wit
        component._loaded = _defs()

    def tearDown(self):
        self.component._loaded = None

    def run_op(self, op, numbers, config=None):
        wit = self.wit
        ctx = wit.StepContext(
            run_id="r", job="parity", step_key=op, target=wit.StepTarget_Op(op), attempt=1,
            partition=None, tags=[], config=json.dumps(config) if config is not None else None,
            mapping_key=None,
        )
        arg = wit.InputArg_Single(wit.Value(codec="json", data=json.dumps(numbers).encode()))
        return self.component.Ops().execute(ctx, [wit.StepInput("numbers", arg)])

    def test_the_definitions_say_which_outputs_are_optional(self):
        ops = {o.name: o for o in self.component.Definitions().get().ops}
        self.assertEqual([(o.name, o.required) for o in ops["split"].outputs], [("even", True), ("odd", False)])
        self.assertEqual([o.name for o in ops["total"].outputs], ["result"])
        self.assertEqual(json.loads(ops["scale"].config_schema)["required"], ["factor"])

    def test_yields_and_tuples_become_outputs_with_typed_metadata(self):
        wit = self.wit
        out = self.run_op("split", [1, 2, 4])
        self.assertEqual([(o.name, json.loads(o.value.data)) for o in out], [("even", [2, 4]), ("odd", [1])])
        self.assertEqual(
            out[0].metadata,
            [("total", wit.MetadataValue_Int(3)), ("ratio", wit.MetadataValue_Float(0.5)),
             ("link", wit.MetadataValue_Url("http://x"))],
        )
        self.assertEqual(out[1].metadata, [("total", wit.MetadataValue_Int(3))])
        self.assertEqual([o.name for o in self.run_op("split", [2])], ["even"])
        out = self.run_op("halves", [1, 2, 3])
        self.assertEqual([(o.name, json.loads(o.value.data)) for o in out], [("low", [1]), ("high", [2, 3])])
        self.assertEqual(out[1].metadata, [("rows", wit.MetadataValue_Int(2))])

    def test_a_config_class_parameter_gets_an_instance(self):
        out = self.run_op("scale", [1, 2], config={"factor": 3, "label": "x"})
        self.assertEqual(json.loads(out[0].value.data), [3, 6])

    def test_a_wrong_return_shape_fails_the_step_clearly(self):
        @dg.op(out={"a": dg.Out(), "b": dg.Out()})
        def lonely(numbers):
            return numbers

        self.component._loaded = dg.Definitions(jobs=[dg.job(lambda: lonely(numbers()), name="lonely_job")])
        with self.assertRaises(Exception) as raised:
            self.run_op("lonely", [1])
        message = raised.exception.value.message
        self.assertIn("has outputs a, b: return a tuple of 2 values", message)
        self.assertFalse(raised.exception.value.retryable)


class GraphsTest(unittest.TestCase):
    def test_ops_in_a_graph_are_named_graph_dot_op(self):
        @dg.op
        def one():
            return 1

        @dg.op
        def inc(x):
            return x + 1

        @dg.graph
        def twice(x):
            return inc(inc(x))

        @dg.graph(out={"a": dg.GraphOut(), "b": dg.GraphOut()})
        def pair(x):
            return {"a": inc(x), "b": twice(x)}

        @dg.job
        def graphs_job():
            a, b = pair(one())
            twice.alias("again")(a)
            inc(b)

        names = [n.name for n in graphs_job.nodes]
        self.assertEqual(
            names, ["one", "pair.inc", "pair.twice.inc", "pair.twice.inc_2", "again.inc", "again.inc_2", "inc"]
        )
        edges = {n.name: [(s.node, s.output) for _, ss, _ in n.inputs for s in ss] for n in graphs_job.nodes}
        self.assertEqual(edges["again.inc"], [("pair.inc", "result")])
        self.assertEqual(edges["inc"], [("pair.twice.inc_2", "result")])
        with self.assertRaises(dg.DefinitionError):
            twice.to_job()  # it has an input

        @dg.graph
        def top():
            inc(one())

        self.assertEqual([n.name for n in top.to_job(name="top_job").nodes], ["one", "inc"])
        with self.assertRaises(dg.DefinitionError):
            top()
