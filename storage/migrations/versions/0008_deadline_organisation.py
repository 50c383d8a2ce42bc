"""deadline organisation: each deadline names its organisation, indexed with status and due

The secretariat's overview shows an organisation's deadlines of this week and the overdue ones.
Read through the organisation's trajectories, PostgreSQL took the whole country's deadlines of
the week and kept the organisation's (46 ms with 100,000 trajectories); with the organisation on
the deadline, the index (organisation_id, status, due) gives the first 50 at once.

The column is filled from each deadline's trajectory in one UPDATE, then made NOT NULL.

Revision ID: c5e2b7d9a1f4
Revises: a3d8e1f5c7b2
Create Date: 2026-11-29 01:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'c5e2b7d9a1f4'
down_revision = 'a3d8e1f5c7b2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deadline') as batch:
        batch.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
    op.execute("UPDATE deadline SET organisation_id = (SELECT organisation_id FROM trajectory "
               "WHERE trajectory.id = deadline.trajectory_id)")
    with op.batch_alter_table('deadline') as batch:
        batch.alter_column('organisation_id', existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key('fk_deadline_organisation_id_organisation', 'organisation',
                                 ['organisation_id'], ['id'])
    op.create_index('ix_deadline_organisation_status_due', 'deadline',
                    ['organisation_id', 'status', 'due'])


def downgrade() -> None:
    op.drop_index('ix_deadline_organisation_status_due', table_name='deadline')
    with op.batch_alter_table('deadline') as batch:
        batch.drop_constraint('fk_deadline_organisation_id_organisation', type_='foreignkey')
        batch.drop_column('organisation_id')
