#!/usr/bin/env python3
"""Prints the BENCHMARKS.md tables from criterion's results.

Usage: python3 benches/medians.py [CRITERION_DIR ...]

Each CRITERION_DIR is the `target/criterion` directory of one run of
`cargo bench -p staticnet-benches` (default: target/criterion; copy it aside
between runs to keep several). For every bench the script reads criterion's
median, `median.point_estimate` (ns) in
`<group>/<function>/<parameter>/new/estimates.json`. With one directory the
tables show that run; with several they show, per bench, the median over the
runs of criterion's medians, and for each baseline the ratio
baseline / staticnet within every run (staticnet and its baselines run back
to back) and the median of those ratios. A ratio above 1 means staticnet is
faster. A bench missing from a run (not run, or not written yet, such as
`staticnet-2-threads` before `BatchRunner` exists) shows as "–".
Reads local files only.
"""

import json
import statistics
import sys
from pathlib import Path

NETS = ["2-16-16-1", "8-32-32-4", "64-128-128-10", "784-128-10"]
BATCHES = ["32", "128", "512"]
CNN_BATCH = "64"
MISSING = "–"


def median(root, group, function, parameter):
    """criterion's median in ns, or None when the bench is not there."""
    path = Path(root) / group / function / parameter / "new" / "estimates.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text())["median"]["point_estimate"]


def time(ns):
    if ns is None:
        return MISSING
    if ns >= 1e6:
        return f"{ns / 1e6:.3g} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.3g} µs"
    return f"{ns:.3g} ns"


def across(roots, group, function, parameter):
    """The median over the runs that have the bench (None if none has it),
    and each run's value (None where missing)."""
    values = [median(r, group, function, parameter) for r in roots]
    present = [v for v in values if v is not None]
    return (statistics.median(present) if present else None), values


def ratios(ours, theirs):
    """theirs / ours in every run that has both."""
    return [t / o for o, t in zip(ours, theirs) if o is not None and t is not None]


def ratio_cells(rs):
    """The bold median ratio and the list of per-run ratios."""
    if not rs:
        return MISSING, MISSING
    return f"**{statistics.median(rs):.2f}**", " ".join(f"{r:.2f}" for r in rs)


def compare(roots, title, group, rows, reference, baselines, per_second=None):
    """One table. `rows` is (first column's heading, [(label, parameter)]);
    `reference` (staticnet) and each of `baselines` is (function, heading).
    The columns: the reference's and every baseline's time, then for each
    baseline the median ratio baseline / reference and the per-run ratios.
    With `per_second` (a row label to samples per step), samples/s columns
    are added after the times."""
    print(f"### {title}\n")
    first, rows = rows
    ref_function, ref_heading = reference
    headings = [ref_heading] + [h for _, h in baselines]
    header = [first, *headings]
    if per_second:
        header += [f"{h} samples/s" for h in headings]
    for _, h in baselines:
        header += [f"{h} / {ref_heading}", "each run"]
    print("| " + " | ".join(header) + " |")
    align = ["---" if i == 0 or h == "each run" else "---:" for i, h in enumerate(header)]
    print("|" + "|".join(align) + "|")
    for label, parameter in rows:
        ours, our_runs = across(roots, group, ref_function, parameter)
        times = [ours]
        cells = []
        for function, _ in baselines:
            theirs, their_runs = across(roots, group, function, parameter)
            times.append(theirs)
            cells += ratio_cells(ratios(our_runs, their_runs))
        line = [label] + [time(t) for t in times]
        if per_second:
            n = per_second(label)
            line += [MISSING if t is None else f"{n / (t * 1e-9):,.0f}" for t in times]
        print("| " + " | ".join(line + cells) + " |")
    print()


def one_sample(roots, group, title):
    compare(
        roots,
        title,
        group,
        ("network", [(net, net) for net in NETS]),
        ("staticnet", "staticnet"),
        [("hand-written", "hand-written"), ("nalgebra", "nalgebra")],
    )


def minibatch(roots):
    rows = ("batch", [(batch, batch) for batch in BATCHES])
    compare(
        roots,
        "Minibatch SGD step, 784-128-10, one thread",
        "minibatch",
        rows,
        ("staticnet", "staticnet"),
        [("nalgebra-gemm", "nalgebra `gemm`")],
        per_second=int,
    )
    compare(
        roots,
        "Minibatch SGD step, 784-128-10, staticnet's `BatchRunner` on one thread",
        "minibatch",
        rows,
        ("staticnet-1-thread", "staticnet 1 thread"),
        [("nalgebra-gemm", "nalgebra `gemm`")],
        per_second=int,
    )
    compare(
        roots,
        "Minibatch SGD step, 784-128-10, two threads",
        "minibatch",
        rows,
        ("staticnet-2-threads", "staticnet 2 threads"),
        [("nalgebra-gemm-2-threads", "nalgebra `gemm` 2 threads")],
        per_second=int,
    )


def convolution(roots):
    compare(
        roots,
        "Convolution, the lecture's layer (3×32×32 → 10 filters of 5×5, padding 2), one sample",
        "conv_forward",
        ("layer", [("3x32x32-10x5x5", "3x32x32-10x5x5")]),
        ("staticnet", "staticnet"),
        [("hand-written", "hand-written"), ("nalgebra", "nalgebra")],
    )
    compare(
        roots,
        "`cnn_mnist`, one-sample inference",
        "cnn_mnist",
        ("workload", [("one sample", "inference")]),
        ("staticnet", "staticnet"),
        [("hand-written", "hand-written"), ("nalgebra", "nalgebra")],
    )
    compare(
        roots,
        f"`cnn_mnist`, one SGD step on a batch of {CNN_BATCH}",
        "cnn_mnist",
        ("batch", [(CNN_BATCH, f"training-step-{CNN_BATCH}")]),
        ("staticnet", "staticnet"),
        [("nalgebra-gemm", "nalgebra `gemm`")],
        per_second=int,
    )


EVERY = [
    ("inference", ["staticnet", "hand-written", "nalgebra"], NETS),
    ("sgd_step", ["staticnet", "hand-written", "nalgebra"], NETS),
    (
        "minibatch",
        [
            "staticnet",
            "staticnet-1-thread",
            "staticnet-2-threads",
            "nalgebra-gemm",
            "nalgebra-gemm-2-threads",
        ],
        BATCHES,
    ),
    ("conv_forward", ["staticnet", "hand-written", "nalgebra"], ["3x32x32-10x5x5"]),
    ("cnn_mnist", ["staticnet", "hand-written", "nalgebra"], ["inference"]),
    ("cnn_mnist", ["staticnet", "nalgebra-gemm"], [f"training-step-{CNN_BATCH}"]),
]


def every_run(roots):
    header = " | ".join(f"run {i + 1}" for i in range(len(roots)))
    print("### Every median\n")
    print(f"| bench | {header} |")
    print("|---|" + "---:|" * len(roots))
    for group, functions, parameters in EVERY:
        for parameter in parameters:
            for function in functions:
                values = [median(r, group, function, parameter) for r in roots]
                if all(v is None for v in values):
                    continue
                cells = " | ".join(time(v) for v in values)
                print(f"| {group}/{function}/{parameter} | {cells} |")
    print()


def main():
    roots = sys.argv[1:] or ["target/criterion"]
    one_sample(roots, "inference", "Single-sample inference (`forward`)")
    one_sample(roots, "sgd_step", "One-sample SGD step")
    minibatch(roots)
    convolution(roots)
    if len(roots) > 1:
        every_run(roots)


if __name__ == "__main__":
    main()
