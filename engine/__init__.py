"""The pure core of Adviestraject: flow definitions, guards, effects, terms and the machine.

Nothing in this package touches a database, a mail server or the system clock, and it
imports nothing else of the project (an import-linter contract checks it).
"""
