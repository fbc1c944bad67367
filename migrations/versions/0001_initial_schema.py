"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 21:07:05.844130
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('apps',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
    sa.Column('uuid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('structure', sa.JSON(), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uuid')
    )
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_apps_owner'), ['owner'], unique=False)

    op.create_table('certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=253), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('certificate', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('common_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('expires', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('starts', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('san', sa.JSON(), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_name'), ['name'], unique=True)
        batch_op.create_index(batch_op.f('ix_certificates_owner'), ['owner'], unique=False)

    op.create_table('keys',
    sa.Column('uuid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('public', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('uuid'),
    sa.UniqueConstraint('public')
    )
    with op.batch_alter_table('keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_keys_id'), ['id'], unique=True)
        batch_op.create_index(batch_op.f('ix_keys_owner'), ['owner'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('password', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('first_name', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('last_name', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('is_superuser', sa.Boolean(), nullable=False),
    sa.Column('is_staff', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('last_login', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('date_joined', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_username'), ['username'], unique=True)

    op.create_table('app_permissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('app_id', sa.String(length=63), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('app_id', 'username')
    )
    with op.batch_alter_table('app_permissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_permissions_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_app_permissions_username'), ['username'], unique=False)

    op.create_table('app_settings',
    sa.Column('uuid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('app_id', sa.String(length=63), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('maintenance', sa.Boolean(), nullable=False),
    sa.Column('routable', sa.Boolean(), nullable=False),
    sa.Column('whitelist', sa.JSON(), nullable=False),
    sa.Column('autoscale', sa.JSON(), nullable=False),
    sa.Column('label', sa.JSON(), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('uuid')
    )
    with op.batch_alter_table('app_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_settings_app_id'), ['app_id'], unique=False)

    op.create_table('builds',
    sa.Column('uuid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('app_id', sa.String(length=63), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('image', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
    sa.Column('sha', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('procfile', sa.JSON(), nullable=False),
    sa.Column('dockerfile', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('uuid')
    )
    with op.batch_alter_table('builds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_builds_app_id'), ['app_id'], unique=False)

    op.create_table('configs',
    sa.Column('uuid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('app_id', sa.String(length=63), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('memory', sa.JSON(), nullable=False),
    sa.Column('cpu', sa.JSON(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('registry', sa.JSON(), nullable=False),
    sa.Column('healthcheck', sa.JSON(), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('uuid')
    )
    with op.batch_alter_table('configs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_configs_app_id'), ['app_id'], unique=False)

    op.create_table('domains',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('app_id', sa.String(length=63), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('domain', sqlmodel.sql.sqltypes.AutoString(length=253), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=True),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_domains_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_domains_domain'), ['domain'], unique=True)

    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('app_id', sa.String(length=63), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_created'), ['created'], unique=False)

    op.create_table('tls',
    sa.Column('uuid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('app_id', sa.String(length=63), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('https_enforced', sa.Boolean(), nullable=True),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('uuid')
    )
    with op.batch_alter_table('tls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tls_app_id'), ['app_id'], unique=False)

    op.create_table('tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('encrypted', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id')
    )
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tokens_digest'), ['digest'], unique=True)

    op.create_table('releases',
    sa.Column('uuid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('app_id', sa.String(length=63), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('failed', sa.Boolean(), nullable=False),
    sa.Column('failure', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('config_uuid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('build_uuid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['build_uuid'], ['builds.uuid'], ),
    sa.ForeignKeyConstraint(['config_uuid'], ['configs.uuid'], ),
    sa.PrimaryKeyConstraint('uuid'),
    sa.UniqueConstraint('app_id', 'version')
    )
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_releases_app_id'), ['app_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_releases_app_id'))

    op.drop_table('releases')
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tokens_digest'))

    op.drop_table('tokens')
    with op.batch_alter_table('tls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tls_app_id'))

    op.drop_table('tls')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_created'))
        batch_op.drop_index(batch_op.f('ix_events_app_id'))

    op.drop_table('events')
    with op.batch_alter_table('domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_domains_domain'))
        batch_op.drop_index(batch_op.f('ix_domains_app_id'))

    op.drop_table('domains')
    with op.batch_alter_table('configs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_configs_app_id'))

    op.drop_table('configs')
    with op.batch_alter_table('builds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_builds_app_id'))

    op.drop_table('builds')
    with op.batch_alter_table('app_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_settings_app_id'))

    op.drop_table('app_settings')
    with op.batch_alter_table('app_permissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_permissions_username'))
        batch_op.drop_index(batch_op.f('ix_app_permissions_app_id'))

    op.drop_table('app_permissions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_username'))

    op.drop_table('users')
    with op.batch_alter_table('keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_keys_owner'))
        batch_op.drop_index(batch_op.f('ix_keys_id'))

    op.drop_table('keys')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_owner'))
        batch_op.drop_index(batch_op.f('ix_certificates_name'))

    op.drop_table('certificates')
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_apps_owner'))

    op.drop_table('apps')

