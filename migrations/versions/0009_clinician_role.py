"""users: a coordinator, a clinician or both, and separately an administrator (issue 14)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 17:30:00

`users.role` (coordinator | admin) becomes three flags. Every existing user stays a coordinator;
an administrator stays an administrator (and a coordinator, as before).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_coordinator', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('is_clinician', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('is_admin', sa.Boolean(), server_default=sa.false(), nullable=False))
    users = sa.table('users', sa.column('role', sa.String), sa.column('is_admin', sa.Boolean))
    op.execute(users.update().where(users.c.role == 'admin').values(is_admin=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('role')


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=20), server_default='coordinator', nullable=False))
    users = sa.table('users', sa.column('role', sa.String), sa.column('is_admin', sa.Boolean))
    op.execute(users.update().where(users.c.is_admin == sa.true()).values(role='admin'))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_admin')
        batch_op.drop_column('is_clinician')
        batch_op.drop_column('is_coordinator')
