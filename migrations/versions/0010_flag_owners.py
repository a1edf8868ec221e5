"""flags: who acknowledged (the owner), contacted the patient and closed each flag or review, and
when the patient was contacted (issue 14)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 18:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acknowledged_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('contacted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('contacted_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('resolved_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_flags_acknowledged_by_users', 'users', ['acknowledged_by'], ['id'])
        batch_op.create_foreign_key('fk_flags_contacted_by_users', 'users', ['contacted_by'], ['id'])
        batch_op.create_foreign_key('fk_flags_resolved_by_users', 'users', ['resolved_by'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_constraint('fk_flags_resolved_by_users', type_='foreignkey')
        batch_op.drop_constraint('fk_flags_contacted_by_users', type_='foreignkey')
        batch_op.drop_constraint('fk_flags_acknowledged_by_users', type_='foreignkey')
        batch_op.drop_column('resolved_by')
        batch_op.drop_column('contacted_by')
        batch_op.drop_column('contacted_at')
        batch_op.drop_column('acknowledged_by')
