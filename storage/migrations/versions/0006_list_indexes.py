"""list indexes: a trajectory's deadlines by status and due

`advies list` shows each trajectory's next running deadline: MIN(due) of its deadlines with an
active status. The index (trajectory_id, status, due) answers that from the index alone, and
SQLite's planner (without statistics) takes it instead of scanning every running deadline
through (status, due) for each trajectory. It replaces the index on trajectory_id alone, its
prefix.

Revision ID: f7a1c4d9e2b6
Revises: e5c3f9a2b0d1
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = 'f7a1c4d9e2b6'
down_revision = 'e5c3f9a2b0d1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_deadline_trajectory_status_due', 'deadline',
                    ['trajectory_id', 'status', 'due'])
    op.drop_index('ix_deadline_trajectory_id', table_name='deadline')


def downgrade() -> None:
    op.create_index('ix_deadline_trajectory_id', 'deadline', ['trajectory_id'])
    op.drop_index('ix_deadline_trajectory_status_due', table_name='deadline')
