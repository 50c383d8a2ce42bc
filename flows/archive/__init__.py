"""Older versions of flows, kept while trajectories still run on them (see flows/__init__.py).

Each module here builds one old version (`<flow>_v<N>.py`) and names its compiled flow
`COMPILED`; `flows.flow_versions()` finds it. None is needed yet: every flow is at version 1.
"""
