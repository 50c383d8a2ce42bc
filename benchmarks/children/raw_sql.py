"""The SQL behind a listing, alone: `python -m benchmarks.children.raw_sql URL SQL`.

Runs SQL once on URL (SQLAlchemy, no ORM), fetches every row, and prints the seconds that took
and the number of rows as JSON. The parent reads its peak RSS.
"""

from __future__ import annotations

import json
import sys
import time

from sqlalchemy import create_engine, text


def main(url: str, sql: str) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))  # connected before the clock starts
        started = time.perf_counter()
        rows = conn.execute(text(sql)).all()
        seconds = time.perf_counter() - started
    engine.dispose()
    sys.stdout.write(json.dumps({"seconds": seconds, "rows": len(rows)}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
