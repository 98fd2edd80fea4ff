"""A Python code location downstream of the Rust one: cross-location lineage.

`doubled_sum` depends on `summed_two_sums`, an asset of the `numbers` location (Rust,
examples/numbers), declared by its key: the parameter's name. Materialize them together,

    weft materialize numbers.wasm lineage_python.wasm --select +doubled_sum

or materialize `numbers` first and this location alone: its input is then read from
the stored value of `summed_two_sums`.
"""
from weft import Definitions, asset


@asset(group_name="lineage", description="Twice the sum of the numbers location", kinds=["python"])
def doubled_sum(summed_two_sums):
    return summed_two_sums * 2


defs = Definitions(assets=[doubled_sum])
