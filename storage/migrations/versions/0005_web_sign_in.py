"""web sessions, sign-in links, calendar feeds

Revision ID: e5c3f9a2b0d1
Revises: d4b2e8f1a9c3
Create Date: 2026-11-28 15:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = 'e5c3f9a2b0d1'
down_revision = 'd4b2e8f1a9c3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_session',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('csrf', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_web_session_person_id', 'web_session', ['person_id'])
    op.create_table(
        'sign_in_used',
        sa.Column('jti', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.PrimaryKeyConstraint('jti'),
    )
    op.create_index('ix_sign_in_used_person_id', 'sign_in_used', ['person_id'])
    op.create_table(
        'calendar_feed',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('secret_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('secret_hash'),
    )
    op.create_index('ix_calendar_feed_person_id', 'calendar_feed', ['person_id'])


def downgrade() -> None:
    op.drop_index('ix_calendar_feed_person_id', table_name='calendar_feed')
    op.drop_table('calendar_feed')
    op.drop_index('ix_sign_in_used_person_id', table_name='sign_in_used')
    op.drop_table('sign_in_used')
    op.drop_index('ix_web_session_person_id', table_name='web_session')
    op.drop_table('web_session')
