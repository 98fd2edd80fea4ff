"""Typed metadata on materializations: numbers, text, a url, a path, Markdown, a bool,
JSON and a table schema, from add_output_metadata and from Output(metadata=...)."""
import dagster as dg


@dg.asset
def orders(context: dg.AssetExecutionContext):
    rows = [{"id": 1}, {"id": 2}, {"id": 3}]
    context.add_output_metadata(
        {
            "rows": len(rows),
            "ratio": 0.25,
            "source": dg.MetadataValue.url("https://example.com/orders"),
            "file": dg.MetadataValue.path("/data/orders.json"),
            "note": dg.MetadataValue.md("# Orders"),
            "fresh": True,
            "sample": dg.MetadataValue.json({"id": 1}),
            "owner": "data-team",
            "schema": dg.TableSchema(columns=[dg.TableColumn("id", "int", description="the order's id")]),
        }
    )
    return rows


@dg.asset
def order_count(orders):
    return dg.Output(len(orders), metadata={"count": len(orders)})


orders_job = dg.define_asset_job("orders_job", selection=dg.AssetSelection.all())

defs = dg.Definitions(assets=[orders, order_count], jobs=[orders_job])

COMPAT_RUNS = [("orders_job", None)]
