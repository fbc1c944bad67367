"""release_events: the steps of each release's deploy (services/deploy_events.py)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('release_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('app_id', sa.String(length=63), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('app_id', 'version', 'seq')
    )
    with op.batch_alter_table('release_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_release_events_app_id'), ['app_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('release_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_release_events_app_id'))
    op.drop_table('release_events')
