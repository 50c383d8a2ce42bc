"""planning: the liaison's half-year planning of expected advice requests

One row per expected request. The worker asks every minute which planned items are due for
their reminder (three weeks before the expected date) and have not had it; the index
(status, reminded_at, remind_on) answers that with one range read. The planning page and the
chairs' mail read an organisation's items by expected date: (organisation_id, expected_on).

Revision ID: d9f3a6c1e8b4
Revises: c5e2b7d9a1f4
Create Date: 2026-11-29 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = 'd9f3a6c1e8b4'
down_revision = 'c5e2b7d9a1f4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('planning_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('expected_on', sa.Date(), nullable=False),
    sa.Column('policy_adviser', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('flow', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('trajectory_id', sa.Integer(), nullable=True),
    sa.Column('remind_on', sa.Date(), nullable=False),
    sa.Column('reminded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['trajectory_id'], ['trajectory.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_planning_item_reminder', 'planning_item',
                    ['status', 'reminded_at', 'remind_on'])
    op.create_index('ix_planning_item_organisation_expected', 'planning_item',
                    ['organisation_id', 'expected_on'])


def downgrade() -> None:
    op.drop_index('ix_planning_item_organisation_expected', table_name='planning_item')
    op.drop_index('ix_planning_item_reminder', table_name='planning_item')
    op.drop_table('planning_item')
