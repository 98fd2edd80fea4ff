"""Config: a Config class with defaults, a config_schema of Fields, and config the schema
refuses (both refuse it before anything runs)."""
import dagster as dg


class ScaleConfig(dg.Config):
    factor: int = 2
    label: str = "x"


@dg.op
def scaled(config: ScaleConfig):
    return [config.factor * n for n in [1, 2, 3]]


@dg.op(config_schema={"offset": dg.Field(int, default_value=1), "name": str})
def shifted(context, values):
    return {"name": context.op_config["name"], "values": [v + context.op_config["offset"] for v in values]}


@dg.job
def config_job():
    shifted(scaled())


defs = dg.Definitions(jobs=[config_job])

COMPAT_RUNS = [
    ("config_job", {"ops": {"shifted": {"config": {"name": "defaults"}}}}),
    ("config_job", {"ops": {"scaled": {"config": {"factor": 5}}, "shifted": {"config": {"offset": 10, "name": "given"}}}}),
    # Refused: `factor` is not an int, and shifted's `name` is missing.
    ("config_job", {"ops": {"scaled": {"config": {"factor": "five"}}}}),
]
