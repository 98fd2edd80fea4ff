"""The Kubernetes samples of the seed document ../shared/seeds/000_70e9ad101c78160c.txt
("Dagster on Kubernetes"), as written there, with only the imports changed (`dagster` and
`dagster_k8s` are `weft`). Where the document elides a body (`...` in its [Code 1]), the
body is the one its companion document (002, [Code 1]) gives the same job.

[Code 1] resources on a run (a job's and an asset job's `dagster-k8s/config`), [Code 2] on
an op and an asset (`op_tags`), [Code 3] a job's `dagster/max_retries`, [Code 4] an external
Job as an op (`k8s_job_op.configured`) and from an op (`execute_k8s_job`), whose input is
named `Nothing`.
"""
from weft import AssetSelection, Definitions, OpExecutionContext, asset, define_asset_job, job, op
from weft import execute_k8s_job, k8s_job_op


# --- 002 [Code 1]: the ops of process_numbers, whose body 000 [Code 1] elides -------------
@op(description="Filter even numbers from the list")
def filter_even_numbers(numbers):
    return [num for num in numbers if num % 2 == 0]

@op(description="Filter odd numbers from the list")
def filter_odd_numbers(numbers):
    return [num for num in numbers if num % 2 != 0]

@op(description="Calculate the sum of the given list of even numbers")
def sum_even_numbers(numbers):
    return sum(numbers)

@op(description="Calculate the sum of the given list of odd numbers")
def sum_odd_numbers(numbers):
    return sum(numbers)

@op(description="Sum the two numbers")
def sum_two_sums(first_number, second_number):
    return first_number + second_number


# --- 000 [Code 2] Op/Asset Resource Example --------------------------------------------
@op(description="Generate a list of numbers from 1 to 10",
    tags={
        "domain": "numbers",
        "dagster-k8s/config": {
            "container_config": {
                "resources": {
                    "requests": {"cpu": "2000m", "memory": "4096Mi"},
                    "limits": {"cpu": "2000m", "memory": "4096Mi"},
                }
            },
        }
    })
def generate_numbers():
    return list(range(1, 11))

@asset(key_prefix=["examples"], 
    group_name="numbers",
    description="Generated a list of numbers from 1 to 10", 
    kinds=["python"],
    op_tags={
        "dagster-k8s/config": {
            "container_config": {
                "resources": {
                    "requests": {"cpu": "2000m", "memory": "4096Mi"},
                    "limits": {"cpu": "2000m", "memory": "4096Mi"},
                }
            },
        }
    })
def generated_numbers():
    return list(range(1, 11))


# --- 000 [Code 1] Run Resource Example -------------------------------------------------
@job(tags={
        "dagster-k8s/config": {
            "container_config": {
                "resources": {
                    "requests": {"cpu": "2000m", "memory": "4096Mi"},
                    "limits": {"cpu": "2000m", "memory": "4096Mi"},
                }
            }
        }
    })
def process_numbers():
    numbers = generate_numbers()
    
    even_numbers = filter_even_numbers(numbers)
    odd_numbers = filter_odd_numbers(numbers)

    even_sum = sum_even_numbers(even_numbers)
    odd_sum = sum_odd_numbers(odd_numbers)

    sum_two_sums(even_sum, odd_sum)

process_numbers_asset = define_asset_job(
    name="process_numbers_asset",
    selection=AssetSelection.groups("numbers"),
    tags={
        "domain": "numbers",
        "dagster-k8s/config": {
            "container_config": {
                "resources": {
                    "requests": {"cpu": "2000m", "memory": "4096Mi"},
                    "limits": {"cpu": "2000m", "memory": "4096Mi"},
                }
            },
            "pod_spec_config": {
                "node_selector": {
                    "node-group.dp.ssup2": "worker"
                }
            }
        }
    })


# --- 000 [Code 3] Op/Asset Resource Example (a run's retries) ---------------------------
@job(tags={"dagster/max_retries": 3})
def sample_job():
    pass


# --- 000 [Code 4] k8s_job_op, execute_k8s_job Example ----------------------------------
echo_hello_job_op = k8s_job_op.configured(
    {
        "image": "busybox",
        "command": ["/bin/sh", "-c"],
        "args": ["echo HELLO"],
        "resources": {
            "requests": {"cpu": "125m", "memory": "256Mi"},
            "limits": {"cpu": "250m", "memory": "512Mi"},
        }
    },
    name="echo_hello_job_op",
)

@op(description="Echo goodbye")
def echo_goodbye_job_k8s(context: OpExecutionContext, Nothing):
    execute_k8s_job(
        context=context,
        image="busybox",
        command=["/bin/sh", "-c"],
        args=["echo GOODBYE"],
        resources={
            "requests": {"cpu": "125m", "memory": "256Mi"},
            "limits": {"cpu": "250m", "memory": "512Mi"},
        }
    )

@job
def process_words_k8s_job():
    echo_goodbye_job_k8s(echo_hello_job_op())


defs = Definitions(
    assets=[generated_numbers],
    jobs=[process_numbers, process_numbers_asset, sample_job, process_words_k8s_job],
)
