"""next reminder: the day each deadline's next step is due, stored and indexed

The sweep used to recompute the reminder days of every deadline ending within 70 days on every
pass. It now stores the first day on which a deadline has a step to plan (`next_step_on`) and
asks the index (status, next_step_on, due) which deadlines have come due.

The column starts empty for the existing rows, on purpose: the sweep computes it for every
deadline that has none (a row written before this migration, a new deadline, a moved end), in
its first pass after the upgrade, with the organisation's reminder steps and the flow's own
reminders that only the application knows. The migration itself stays a quick DDL change, also
with a million deadlines.

Revision ID: a3d8e1f5c7b2
Revises: f7a1c4d9e2b6
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'a3d8e1f5c7b2'
down_revision = 'f7a1c4d9e2b6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deadline') as batch:
        batch.add_column(sa.Column('next_step_on', sa.Date(), nullable=True))
    op.create_index('ix_deadline_status_next_step', 'deadline', ['status', 'next_step_on', 'due'])


def downgrade() -> None:
    op.drop_index('ix_deadline_status_next_step', table_name='deadline')
    with op.batch_alter_table('deadline') as batch:
        batch.drop_column('next_step_on')
