"""The conformance code location in Python.

conformance-rust and conformance-go define the same objects with the same names and
behaviour; tests/e2e/conformance_errors.rs runs all three and compares what a user sees:

- explode_job: explode raises ValueError("kaboom");
- flaky_job: flaky fails (retryably) on attempts 1 and 2, then returns "ok";
- chatty_job: chatty logs "chatty says hi" (info), prints "to stdout", returns 1;
- config_job: configured returns its config's factor times 7;
- resource_job: resourceful returns the resource greeting (set in weft.yaml);
- external_job: external runs a Kubernetes Job (busybox:1.36, sh -c) that prints
  "job says $GREETING" (GREETING=hello) and exits with its config's code, then returns "done";
- k8s_op_job: echo_hello, k8s_job_op.configured (described "Echoes hello in a Kubernetes
  Job"), runs busybox:1.36 printing "hello from k8s_job_op"; after_echo takes the Job's name
  (job) and returns whether it starts with "weft-job-";
- instance_job: instance returns "<$WEFT_INSTANCE_VAR> <a random number>" (the variable
  granted, the number drawn from the language's own generator: random here);
- nap_job: nap sleeps its config's ms milliseconds (a blocking WASI call), returns ms;
- flood_job: flood logs lines lines ("line <i>") each with a field payload of field_bytes
  bytes, returns lines;
- huge_job: huge returns a string of its config's mb MiB;
- fetch_job: fetch sends its config's method (GET unless given) to its url through
  weft.http, with its body as JSON when given, and returns {"status": <the status>,
  "body": <the response body as JSON, or as a string when it is not JSON>}; an error (a
  host that is not granted, say) fails it with the error's text; with times (1 unless
  given) it sends the request that many times in a row and answers the last (the
  benchmark's requests after a step's first);
- parity_job: evens_odds has two outputs, even (the even numbers of 1..upto) and the
  optional odd (the odd ones, left out when its config's odd is false); its config (a
  Config class) gives upto 4 and odd true by default. Each output has the int metadata
  count (= upto); even also the float ratio 0.5 and the url doc. total_even and
  total_odd (the op total) sum each;
- graph_job: one (1) into the graph twice (add_one twice: the nodes twice.add_one and
  twice.add_one_2), then into twice again under the alias again;
- hooks_job: fine returns 1; broken fails (not retryably) with "broken on purpose". The
  job's hooks: announce (success: logs "announce: <step key> of <job> succeeded") and
  alarm (failure: logs "alarm: <op> failed" with the field saw_failure, yes when the
  failure names "broken on purpose"); broken alone also has grumpy (failure), which
  fails with "grumpy hook fails";
- fanout_job: fan_out (a DynamicOut; its config, a Config class, gives n 3 by default)
  yields i under the mapping key k<i> for i in 1..n, in order; square is mapped over them
  (a retry policy of 1 retry, 1 ms apart): it logs "square <mapping key>", fails
  (retryably) with "square k2: first attempt fails" on k2's first attempt, fails not
  retryably with "square <key> fails on purpose" when the run's tag square_fails is its
  mapping key and the run is no re-execution (no tag weft/parent_run_id), and otherwise
  returns x * x; add_one is mapped over square's, and total collects add_one's (steps
  fan_out, square[k1..k3], add_one[k1..k3], total: 2 + 5 + 10 = 17);
- the asset scored (asset job scored_job) returns its config's score (1.0 by default),
  with the metadata score (a float, the same) and rows (the int 3);
- the asset scored_twice (of scored) returns scored * 2;
- the asset checks of scored: scored_is_positive (blocking) passes when scored > 0, with
  the metadata score (the score, as a float); scored_is_small (not blocking) passes when
  scored < 10, at severity WARN; checked_job (an asset job, selection "scored+") runs
  scored and what is downstream of it (scored_twice), and so the checks of scored;
- the multi-asset split_scores (outs low and high, both group split; can_subset) takes
  scored and materializes low (scored - 1) and high (scored + 1), each with the text
  metadata side ("low", "high"), yielding only the outputs selected; the asset spread
  (group split) of low and high returns high - low; split_job (an asset job) selects
  scored, low, high and spread (one step split_scores for low and high), low_job selects
  low alone (split_scores runs for low only);
- the graph asset boosted (default group) of scored: its graph's ops double_score (2x) and
  add_half (x + 0.5), on floats, are the nodes (steps) boosted.double_score (fed scored, its
  input x) and boosted.add_half (of double_score's result), whose result is boosted's value
  (2 * 1.0 + 0.5 = 2.5 by default); boosted_job (an asset job) selects scored and boosted;
- cursor_sensor: run key "key-<cursor>" (no cursor: "0"), new cursor <cursor> + 1;
- explode_alert: a run-failure sensor on explode_job asking for chatty_job with the tags
  failed_run, failed_status (FAILURE) and saw_kaboom (yes when the error names kaboom).

Build: weft build tests/guests/conformance-python -o conformance-python.wasm
"""
import os
import random
import time

import weft as dg
from weft import http

FACTOR_SCHEMA = '{"type":"object","properties":{"factor":{"type":"integer"}},"required":["factor"]}'
NAP_SCHEMA = '{"type":"object","properties":{"ms":{"type":"integer"}},"required":["ms"]}'
FLOOD_SCHEMA = (
    '{"type":"object","properties":{"lines":{"type":"integer"},"field_bytes":{"type":"integer"}},'
    '"required":["lines","field_bytes"]}'
)
HUGE_SCHEMA = '{"type":"object","properties":{"mb":{"type":"integer"}},"required":["mb"]}'
CODE_SCHEMA = '{"type":"object","properties":{"code":{"type":"integer"}},"required":["code"]}'
FETCH_SCHEMA = '{"type":"object","properties":{"url":{"type":"string"},"method":{"type":"string"},"times":{"type":"integer","minimum":1}},"required":["url"]}'


@dg.op
def explode():
    raise ValueError("kaboom")


@dg.op(retry_policy=dg.RetryPolicy(max_retries=3, delay=0.001))
def flaky(context):
    if context.attempt < 3:
        raise dg.Failure(f"flaky: attempt {context.attempt} fails")
    return "ok"


@dg.op
def chatty(context):
    context.log.info("chatty says hi")
    print("to stdout")
    return 1


@dg.op(config_schema=FACTOR_SCHEMA)
def configured(context):
    return context.op_config["factor"] * 7


@dg.op
def resourceful(context):
    return context.resources.greeting


@dg.op(config_schema=CODE_SCHEMA)
def external(context):
    code = context.op_config["code"]
    dg.execute_k8s_job(
        context,
        image="busybox:1.36",
        command=["sh", "-c"],
        args=[f"echo job says $GREETING; exit {code}"],
        env_vars={"GREETING": "hello"},
    )
    return "done"


@dg.op
def instance():
    return f"{os.environ.get('WEFT_INSTANCE_VAR', '')} {random.getrandbits(64)}"


@dg.op(config_schema=NAP_SCHEMA)
def nap(context):
    ms = context.op_config["ms"]
    time.sleep(ms / 1000)
    return ms


@dg.op(config_schema=FLOOD_SCHEMA)
def flood(context):
    lines = context.op_config["lines"]
    payload = "x" * context.op_config["field_bytes"]
    for i in range(lines):
        context.log.info(f"line {i}", payload=payload)
    return lines


@dg.op(config_schema=HUGE_SCHEMA)
def huge(context):
    return "x" * (context.op_config["mb"] << 20)


@dg.op(config_schema=FETCH_SCHEMA)
def fetch(context):
    config = context.op_config
    body = {"json": config["body"]} if "body" in config else {}
    try:
        for _ in range(max(config.get("times") or 1, 1)):
            response = http.request(config.get("method") or "GET", config["url"], **body)
    except http.RequestError as error:
        raise dg.Failure(str(error)) from None
    try:
        answer = response.json()
    except ValueError:
        answer = response.text
    return {"status": response.status_code, "body": answer}


class ParityConfig(dg.Config):
    upto: int = 4
    odd: bool = True


@dg.op(out={"even": dg.Out(), "odd": dg.Out(is_required=False)})
def evens_odds(context, config: ParityConfig):
    numbers = range(1, config.upto + 1)
    context.add_output_metadata({"count": config.upto})
    yield dg.Output(
        [n for n in numbers if n % 2 == 0],
        output_name="even",
        metadata={"ratio": 0.5, "doc": dg.MetadataValue.url("https://docs.dagster.io")},
    )
    if config.odd:
        yield dg.Output([n for n in numbers if n % 2], output_name="odd")


@dg.op
def total(values):
    return sum(values)


@dg.job
def parity_job():
    even, odd = evens_odds()
    total.alias("total_even")(even)
    total.alias("total_odd")(odd)


@dg.op
def one():
    return 1


@dg.op
def add_one(x):
    return x + 1


@dg.graph
def twice(x):
    return add_one(add_one(x))


@dg.job
def graph_job():
    two = twice(one())
    twice.alias("again")(two)


@dg.op
def fine():
    return 1


@dg.op
def broken():
    raise dg.Failure("broken on purpose", allow_retries=False)


@dg.success_hook
def announce(context):
    context.log.info(f"announce: {context.step_key} of {context.job_name} succeeded")


@dg.failure_hook
def alarm(context):
    saw = "broken on purpose" in str(context.op_exception)
    context.log.info(f"alarm: {context.op.name} failed", saw_failure="yes" if saw else "no")


@dg.failure_hook
def grumpy(context):
    raise RuntimeError("grumpy hook fails")


@dg.job(hooks={announce, alarm})
def hooks_job():
    fine()
    broken.with_hooks({grumpy})()


class FanOutConfig(dg.Config):
    n: int = 3


@dg.op(out=dg.DynamicOut())
def fan_out(config: FanOutConfig):
    for i in range(1, config.n + 1):
        yield dg.DynamicOutput(i, mapping_key=f"k{i}")


@dg.op(retry_policy=dg.RetryPolicy(max_retries=1, delay=0.001))
def square(context, x):
    key = context.get_mapping_key()
    context.log.info(f"square {key}")
    if key == "k2" and context.attempt == 1:
        raise dg.Failure("square k2: first attempt fails")
    tags = context.run_tags
    if tags.get("square_fails") == key and "weft/parent_run_id" not in tags:
        raise dg.Failure(f"square {key} fails on purpose", allow_retries=False)
    return x * x


@dg.job
def fanout_job():
    total(fan_out().map(square).map(add_one).collect())


class ScoreConfig(dg.Config):
    score: float = 1.0


@dg.asset
def scored(context, config: ScoreConfig):
    context.add_output_metadata({"score": config.score, "rows": 3})
    return config.score


scored_job = dg.define_asset_job("scored_job", selection="scored")


@dg.asset
def scored_twice(scored):
    return scored * 2


@dg.asset_check(asset=scored, blocking=True)
def scored_is_positive(scored):
    return dg.AssetCheckResult(passed=scored > 0, metadata={"score": float(scored)})


@dg.asset_check(asset=scored)
def scored_is_small(scored):
    return dg.AssetCheckResult(passed=scored < 10, severity=dg.AssetCheckSeverity.WARN)


checked_job = dg.define_asset_job("checked_job", selection="scored+")


@dg.multi_asset(
    outs={"low": dg.AssetOut(group_name="split"), "high": dg.AssetOut(group_name="split")},
    can_subset=True,
)
def split_scores(context, scored):
    if "low" in context.selected_output_names:
        yield dg.Output(scored - 1, output_name="low", metadata={"side": "low"})
    if "high" in context.selected_output_names:
        yield dg.Output(scored + 1, output_name="high", metadata={"side": "high"})


@dg.asset(group_name="split")
def spread(low, high):
    return high - low


split_job = dg.define_asset_job("split_job", selection=dg.AssetSelection.assets("scored", "low", "high", "spread"))
low_job = dg.define_asset_job("low_job", selection=dg.AssetSelection.assets("low"))


@dg.op
def double_score(x: float) -> float:
    return x * 2


@dg.op
def add_half(x: float) -> float:
    return x + 0.5


@dg.graph_asset
def boosted(scored):
    return add_half(double_score(scored))


boosted_job = dg.define_asset_job("boosted_job", selection=dg.AssetSelection.assets("scored", "boosted"))


@dg.job
def explode_job():
    explode()


@dg.job
def flaky_job():
    flaky()


@dg.job
def chatty_job():
    chatty()


@dg.job
def config_job():
    configured()


@dg.job
def resource_job():
    resourceful()


@dg.job
def external_job():
    external()


echo_hello = dg.k8s_job_op.configured(
    {"image": "busybox:1.36", "command": ["sh", "-c"], "args": ["echo hello from k8s_job_op"]},
    name="echo_hello",
    description="Echoes hello in a Kubernetes Job",
)


@dg.op
def after_echo(job):
    return job.startswith("weft-job-")


@dg.job
def k8s_op_job():
    after_echo(echo_hello())


@dg.job
def instance_job():
    instance()


@dg.job
def nap_job():
    nap()


@dg.job
def flood_job():
    flood()


@dg.job
def huge_job():
    huge()


@dg.job
def fetch_job():
    fetch()


@dg.sensor(job=chatty_job, minimum_interval_seconds=30)
def cursor_sensor(context):
    cursor = context.cursor or "0"
    context.update_cursor(str(int(cursor) + 1))
    return dg.RunRequest(run_key=f"key-{cursor}")


@dg.run_failure_sensor(monitored_jobs=[explode_job], request_job=chatty_job)
def explode_alert(context):
    run = context.dagster_run
    kaboom = "kaboom" in (context.failure_event.message if context.failure_event else "")
    return dg.RunRequest(
        tags={
            "failed_run": run.run_id,
            "failed_status": run.status.value,
            "saw_kaboom": "yes" if kaboom else "no",
        }
    )


defs = dg.Definitions(
    jobs=[
        explode_job,
        flaky_job,
        chatty_job,
        config_job,
        resource_job,
        external_job,
        k8s_op_job,
        instance_job,
        nap_job,
        flood_job,
        huge_job,
        fetch_job,
        parity_job,
        graph_job,
        hooks_job,
        scored_job,
        checked_job,
        split_job,
        low_job,
        boosted_job,
        fanout_job,
    ],
    assets=[scored, scored_twice, split_scores, spread, boosted],
    asset_checks=[scored_is_positive, scored_is_small],
    sensors=[cursor_sensor, explode_alert],
)
