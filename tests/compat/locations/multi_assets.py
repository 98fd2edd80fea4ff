"""Multi-assets: an outs multi-asset that cannot be subset (split: evens and odds of numbers,
a tuple of Outputs with metadata), an asset downstream of both its assets (total), a specs
multi-asset that can be subset and yields a MaterializeResult for each selected asset
(publish: report and archive/report, the second's output archive__report as Dagster names
it; it reads total), and a plain asset returning a MaterializeResult (audit). Runs: every
asset, then publish's report alone (a subset; it reads no value, so Dagster's fresh
instance runs it too)."""
import dagster as dg


@dg.asset
def numbers():
    return [1, 2, 3, 4, 5]


@dg.multi_asset(outs={"evens": dg.AssetOut(group_name="split"), "odds": dg.AssetOut(group_name="split")})
def split(context: dg.AssetExecutionContext, numbers):
    """Splits the numbers by parity."""
    context.log.info(f"splitting {len(numbers)} numbers")
    evens = [n for n in numbers if n % 2 == 0]
    odds = [n for n in numbers if n % 2]
    return dg.Output(evens, metadata={"count": len(evens)}), dg.Output(odds, metadata={"count": len(odds)})


@dg.asset
def total(evens, odds):
    return sum(evens) + sum(odds)


REPORTS = [dg.AssetKey("report"), dg.AssetKey(["archive", "report"])]


@dg.multi_asset(
    specs=[dg.AssetSpec("report", deps=[total]), dg.AssetSpec(["archive", "report"], deps=["report"])],
    can_subset=True,
)
def publish(context: dg.AssetExecutionContext):
    for key in [k for k in REPORTS if k in context.selected_asset_keys]:
        yield dg.MaterializeResult(asset_key=key, metadata={"where": "/".join(key.path)})


@dg.asset(deps=[split])
def audit():
    return dg.MaterializeResult(metadata={"audited": True})


everything = dg.define_asset_job("everything", selection=dg.AssetSelection.all())
report_only = dg.define_asset_job("report_only", selection=dg.AssetSelection.assets("report"))

defs = dg.Definitions(assets=[numbers, split, total, publish, audit], jobs=[everything, report_only])

COMPAT_RUNS = [("everything", None), ("report_only", None)]
