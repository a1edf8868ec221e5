"""flags: when the practice's out-of-hours contact was texted about a flag raised while it was closed
(issue 14)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 19:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('out_of_hours_texted_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_column('out_of_hours_texted_at')
