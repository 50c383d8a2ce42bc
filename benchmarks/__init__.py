"""The benchmark suite of issue 9 (`make bench`): every figure beside its reference, same run.

See BENCHMARKS.md for what each figure measures and how to reproduce it.
"""
