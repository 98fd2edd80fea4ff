"""Graph-backed assets: an upstream asset (readings), a graph asset reading it (summary:
its ops clean, scale twice — the second the node scale_2 — and summarize, the steps
summary.clean, summary.scale, summary.scale_2 and summary.summarize, as Dagster keys
them; scale logs, summarize's Output has metadata, which its materialization of summary
carries), a check of summary (after summary.summarize), and a plain asset downstream of it
(report). Run: every asset."""
import dagster as dg


@dg.asset
def readings():
    return [3, 1, 4, 1, 5]


@dg.op
def clean(values):
    return sorted(v for v in values if v > 1)


@dg.op
def scale(context, values):
    context.log.info(f"scaling {len(values)} values")
    return [v * 10 for v in values]


@dg.op
def summarize(values):
    return dg.Output({"total": sum(values), "count": len(values)}, metadata={"count": len(values), "max": max(values)})


@dg.graph_asset(group_name="stats")
def summary(readings):
    """The readings above 1, scaled twice, summed and counted."""
    return summarize(scale(scale(clean(readings))))


@dg.asset_check(asset=summary)
def summary_has_values(summary):
    return dg.AssetCheckResult(passed=summary["count"] > 0, metadata={"count": summary["count"]})


@dg.asset(group_name="stats")
def report(summary):
    return f"{summary['count']} readings, total {summary['total']}"


everything = dg.define_asset_job("everything", selection=dg.AssetSelection.all())

defs = dg.Definitions(assets=[readings, summary, report], asset_checks=[summary_has_values], jobs=[everything])

COMPAT_RUNS = [("everything", None)]
