#!/usr/bin/env python3
"""Compares two criterion runs of `cargo bench -p staticnet-benches`: the
default build and a `-C target-cpu=native` build.

Usage: python3 benches/native.py DEFAULT_DIR NATIVE_DIR

Each directory is a run's `target/criterion`. For every bench whose id names
staticnet (and every `simd` kernel, dispatched), prints criterion's median
in both builds and default / native: how much faster the native build is.
Reads local files only.
"""

import json
import sys
from pathlib import Path


def medians(root):
    """{bench id: median ns} for every bench of a run."""
    found = {}
    for path in Path(root).glob("**/new/estimates.json"):
        bench = path.parent.parent.relative_to(root).as_posix()
        found[bench] = json.loads(path.read_text())["median"]["point_estimate"]
    return found


def time(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.3g} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.3g} µs"
    return f"{ns:.3g} ns"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    default, native = medians(sys.argv[1]), medians(sys.argv[2])
    print("| bench | default build | native build | default / native |")
    print("|---|---:|---:|---:|")
    for bench in sorted(default):
        ours = "staticnet" in bench or "dispatched" in bench or bench.startswith("activation")
        if not ours or bench not in native:
            continue
        d, n = default[bench], native[bench]
        print(f"| {bench} | {time(d)} | {time(n)} | {d / n:.2f} |")


if __name__ == "__main__":
    main()
