"""Hooks: a success hook and a failure hook on a job whose ops succeed and fail (and on the
ops of a graph in it), hooks given to one invocation with with_hooks (also under an
alias), a failure hook that fails, and hooks on an op whose first attempt fails and is
retried (RetryPolicy): every hook is skipped after the attempt that will be retried."""
import dagster as dg


@dg.success_hook
def cheer(context):
    context.log.info(f"cheer: {context.step_key} of {context.job_name} succeeded")


@dg.failure_hook
def alarm(context):
    context.log.info(f"alarm: {context.op.name} failed: {context.op_exception}")


@dg.success_hook(name="medal")
def award(context):
    context.log.info(f"medal for {context.step_key}")


@dg.failure_hook(name="sulk")
def sulking(context):
    raise RuntimeError("sulk hook fails")


@dg.op
def fine():
    return 1


@dg.op
def add_one(x):
    return x + 1


@dg.op
def broken(x):
    raise dg.Failure("broken on purpose", allow_retries=False)


@dg.graph
def twice(x):
    return add_one(add_one(x))


@dg.job(hooks={cheer, alarm})
def hooks_job():
    one = fine()
    add_one.with_hooks({award})(one)
    add_one.alias("add_again").with_hooks({award, sulking})(one)
    twice(one)
    broken.with_hooks({sulking})(one)


@dg.op(retry_policy=dg.RetryPolicy(max_retries=1))
def flaky(context):
    if context.retry_number == 0:
        raise ValueError("the first attempt fails")
    return "ok"


@dg.job(hooks={cheer, alarm})
def retry_job():
    flaky.with_hooks({award})()


defs = dg.Definitions(jobs=[hooks_job, retry_job])

# (job, run config) pairs the compat runner runs on both sides.
COMPAT_RUNS = [("hooks_job", None), ("retry_job", None)]
