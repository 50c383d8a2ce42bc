"""`python -m benchmarks.children.rss FILE COMMAND...`: run COMMAND, its output passing straight
through, then write its peak RSS in kB to FILE and exit with its code.

The peak comes from `getrusage(RUSAGE_CHILDREN).ru_maxrss` of this small process, whose only child
is COMMAND. Measured from the benchmark's own (large) process it would not be right: a child's
peak counts the memory of the process it was forked from.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path


def main(file: Path, command: list[str]) -> int:
    code = subprocess.call(command)
    file.write_text(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
    return code


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))
