#!/usr/bin/env python3
"""Prints the BENCHMARKS.md tables from criterion's results.

Usage: python3 benches/medians.py [CRITERION_DIR ...]

Each CRITERION_DIR is the `target/criterion` directory of one run of
`cargo bench -p staticnet-benches` (default: target/criterion; copy it aside
between runs to keep several). For every bench the script reads criterion's
median, `median.point_estimate` (ns) in
`<group>/<function>/<parameter>/new/estimates.json`. With one directory the
tables show that run; with several they show, per bench, the median over the
runs of criterion's medians, and for each pair the ratio within every run
(staticnet and its baseline run back to back) and the median of those
ratios.
Reads local files only.
"""

import json
import statistics
import sys
from pathlib import Path

NETS = ["2-16-16-1", "8-32-32-4", "64-128-128-10", "784-128-10"]
BATCHES = ["32", "128"]


def median(root, group, function, parameter):
    path = Path(root) / group / function / parameter / "new" / "estimates.json"
    return json.loads(path.read_text())["median"]["point_estimate"]


def time(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.3g} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.3g} µs"
    return f"{ns:.3g} ns"


def across(roots, group, function, parameter):
    """The median over runs, and each run's value."""
    values = [median(r, group, function, parameter) for r in roots]
    return statistics.median(values), values


def one_sample(roots, group, title):
    print(f"### {title}\n")
    print("| network | staticnet | hand-written | hand-written / staticnet | each run |")
    print("|---|---:|---:|---:|---|")
    for net in NETS:
        ours, our_runs = across(roots, group, "staticnet", net)
        theirs, their_runs = across(roots, group, "hand-written", net)
        ratios = [t / o for o, t in zip(our_runs, their_runs)]
        runs = " ".join(f"{r:.2f}" for r in ratios)
        ratio = statistics.median(ratios)
        print(f"| {net} | {time(ours)} | {time(theirs)} | **{ratio:.2f}** | {runs} |")
    print()


def minibatch(roots):
    print("### Minibatch SGD step, 784-128-10\n")
    print(
        "| batch | staticnet | nalgebra `gemm` | staticnet samples/s "
        "| nalgebra `gemm` samples/s | nalgebra time / staticnet time | each run |"
    )
    print("|---:|---:|---:|---:|---:|---:|---|")
    for batch in BATCHES:
        ours, our_runs = across(roots, "minibatch", "staticnet", batch)
        theirs, their_runs = across(roots, "minibatch", "nalgebra-gemm", batch)
        ratios = [t / o for o, t in zip(our_runs, their_runs)]
        runs = " ".join(f"{r:.2f}" for r in ratios)
        per_second = lambda ns: int(batch) / (ns * 1e-9)  # noqa: E731
        print(
            f"| {batch} | {time(ours)} | {time(theirs)} | {per_second(ours):,.0f} "
            f"| {per_second(theirs):,.0f} | **{statistics.median(ratios):.2f}** | {runs} |"
        )
    print()


def every_run(roots):
    header = " | ".join(f"run {i + 1}" for i in range(len(roots)))
    print("### Every median\n")
    print(f"| bench | {header} |")
    print("|---|" + "---:|" * len(roots))
    benches = [
        (group, function, parameter)
        for group, functions, parameters in [
            ("inference", ["staticnet", "hand-written"], NETS),
            ("sgd_step", ["staticnet", "hand-written"], NETS),
            ("minibatch", ["staticnet", "nalgebra-gemm"], BATCHES),
        ]
        for parameter in parameters
        for function in functions
    ]
    for group, function, parameter in benches:
        cells = " | ".join(time(median(r, group, function, parameter)) for r in roots)
        print(f"| {group}/{function}/{parameter} | {cells} |")
    print()


def main():
    roots = sys.argv[1:] or ["target/criterion"]
    one_sample(roots, "inference", "Single-sample inference (`forward`)")
    one_sample(roots, "sgd_step", "One-sample SGD step")
    minibatch(roots)
    if len(roots) > 1:
        every_run(roots)


if __name__ == "__main__":
    main()
