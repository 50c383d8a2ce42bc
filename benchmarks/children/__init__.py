"""Programs the benchmarks run as child processes: a worker's sweep or pass, APScheduler, raw SQL.

Each imports only what it measures, so that its start-up time and peak RSS are its own.
"""
