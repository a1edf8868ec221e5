"""safety_labels: coordinators mark texts the safety screen missed and flags that were not a concern
(issue 13, item 4)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('safety_labels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inbound_message_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=20), nullable=False),
    sa.Column('screen_said', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['inbound_message_id'], ['inbound_messages.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('inbound_message_id')
    )


def downgrade() -> None:
    op.drop_table('safety_labels')
