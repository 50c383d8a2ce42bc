"""The pure core of Adviestraject: flow definitions, guards, effects, terms and the machine.

Nothing in this package (outside `engine.runtime`) touches a database, a mail server or the
system clock.
"""
