"""Release workflow: release requests and the cells of requested outputs.

Revision ID: 0002
Revises: 0001
Create Date: 2025-06-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "release_requests",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.Column("output", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("population", sa.String(80), nullable=False),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requester_id", sa.Integer, nullable=False),
        sa.Column("justification", sa.Text, nullable=False),
        sa.Column("exception", sa.Text, nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("original_sha256", sa.String(64), nullable=False),
        sa.Column("released_sha256", sa.String(64), nullable=False),
        sa.Column("record_sha256", sa.String(64)),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer),
        sa.Column("decided_at", sa.DateTime()),
        sa.Column("note", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_release_requests"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_release_requests_project_id_projects"
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name="fk_release_requests_requester_id_users"
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name="fk_release_requests_decided_by_id_users"
        ),
    )
    op.create_table(
        "release_cells",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("release_id", sa.Integer, nullable=False),
        sa.Column("population", sa.String(80), nullable=False),
        sa.Column("column_name", sa.String(64), nullable=False),
        sa.Column("cell_key", sa.Text, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("published", sa.Boolean, nullable=False),
        sa.Column("is_count", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_release_cells"),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["release_requests.id"],
            name="fk_release_cells_release_id_release_requests",
        ),
    )


def downgrade() -> None:
    op.drop_table("release_cells")
    op.drop_table("release_requests")
