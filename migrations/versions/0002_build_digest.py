"""builds.digest: the manifest digest a build's image resolved to

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 22:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Builds made before have no digest (''): their releases keep running the image by its tag.
    with op.batch_alter_table('builds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=71), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('builds', schema=None) as batch_op:
        batch_op.drop_column('digest')
