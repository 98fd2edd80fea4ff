"""Asset checks: an asset with a blocking check and a non-blocking check at severity WARN
(taking the asset's value under another name, and the context), and an asset downstream of
it; runs where both checks pass, where the blocking one fails (the downstream asset is not
materialized; Weft reports it skipped, Dagster nothing) and where only the WARN one fails
(the run succeeds). The score comes from run config."""
import dagster as dg


class ScoreConfig(dg.Config):
    score: float = 1.0


@dg.asset
def scored(config: ScoreConfig):
    return config.score


@dg.asset
def scored_twice(scored):
    return scored * 2


@dg.asset_check(asset=scored, blocking=True)
def scored_is_positive(scored):
    """The score is above zero."""
    return dg.AssetCheckResult(passed=scored > 0, metadata={"score": float(scored), "sign": "+" if scored > 0 else "-"})


@dg.asset_check(asset="scored", description="The score is below ten")
def scored_is_small(context, value):
    context.log.info(f"checking {value}")
    return dg.AssetCheckResult(passed=value < 10, severity=dg.AssetCheckSeverity.WARN, metadata={"limit": 10})


checked_job = dg.define_asset_job("checked_job", selection=dg.AssetSelection.assets(scored).downstream())

defs = dg.Definitions(
    assets=[scored, scored_twice],
    asset_checks=[scored_is_positive, scored_is_small],
    jobs=[checked_job],
)

# (job, run config) pairs the compat runner runs on both sides (a literal: compare.py reads it).
COMPAT_RUNS = [
    ("checked_job", None),
    # The blocking check fails: its step fails, scored_twice is not materialized.
    ("checked_job", {"ops": {"scored": {"config": {"score": -1.0}}}}),
    # Only the WARN check fails: the run succeeds.
    ("checked_job", {"ops": {"scored": {"config": {"score": 20.0}}}}),
]
