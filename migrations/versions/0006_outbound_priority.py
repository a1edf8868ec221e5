"""outbound_messages.priority: safety-net texts and replies in a conversation are sent first

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 11:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.Integer(), server_default='2', nullable=False))
        batch_op.create_index('ix_outbound_messages_next', ['status', 'priority', 'id'], unique=False)
    # Texts already waiting keep their meaning: a safety net first, then replies in a conversation
    # (as outbox.priority_for decides for new ones).
    op.execute("UPDATE outbound_messages SET priority = 0 WHERE purpose = 'safety_net' "
               "OR idempotency_key LIKE 'escalate:%'")
    op.execute("UPDATE outbound_messages SET priority = 1 WHERE purpose IN ('reply', 'opt_out_notice') "
               "AND conversation_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_messages_next')
        batch_op.drop_column('priority')
