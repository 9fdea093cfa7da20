"""secops: the risk register (questionnaire, answers, subjects, assessments)

Revision ID: secops_0002
Revises: secops_0001
"""

import sqlalchemy as sa
from alembic import op

import shuzhi.db.base
from shuzhi.secops.risk_questions import DEFAULT_QUESTIONS

revision = "secops_0002"
down_revision = "secops_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    questions = op.create_table(
        "secops_risk_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text_zh", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secops_risk_question")),
        sa.UniqueConstraint("code", name=op.f("uq_secops_risk_question_code")),
    )
    op.create_table(
        "secops_risk_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("question", sa.String(length=40), nullable=False),
        sa.Column("answer", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.String(length=200), nullable=False),
        sa.Column("answered_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secops_risk_answer")),
        sa.UniqueConstraint("subject", "question", name="uq_secops_risk_answer"),
    )
    with op.batch_alter_table("secops_risk_answer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_secops_risk_answer_subject"), ["subject"], unique=False
        )
    op.create_table(
        "secops_risk_subject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("current_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("important", sa.Boolean(), nullable=False),
        sa.Column("assessed_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("stale_reason", sa.String(length=60), nullable=False),
        sa.Column("stale_since", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.Column("reviewed_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secops_risk_subject")),
        sa.UniqueConstraint("subject", name=op.f("uq_secops_risk_subject_subject")),
    )
    with op.batch_alter_table("secops_risk_subject", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_secops_risk_subject_unit_id"), ["unit_id"], unique=False
        )
    op.create_table(
        "secops_risk_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("important", sa.Boolean(), nullable=False),
        sa.Column("reasons", shuzhi.db.base.JSONText(), nullable=False),
        sa.Column("facts", shuzhi.db.base.JSONText(), nullable=False),
        sa.Column("trigger", sa.String(length=60), nullable=False),
        sa.Column("assessed_by", sa.String(length=200), nullable=False),
        sa.Column("assessed_at", shuzhi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secops_risk_assessment")),
    )
    with op.batch_alter_table("secops_risk_assessment", schema=None) as batch_op:
        batch_op.create_index("ix_secops_risk_assessment_subject", ["subject", "id"], unique=False)
    op.bulk_insert(
        questions,
        [
            {
                "code": code,
                "kind": kind,
                "position": i,
                "text_zh": zh,
                "text_en": en,
                "points": points,
                "active": True,
            }
            for i, (code, kind, points, zh, en) in enumerate(DEFAULT_QUESTIONS)
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("secops_risk_assessment", schema=None) as batch_op:
        batch_op.drop_index("ix_secops_risk_assessment_subject")
    op.drop_table("secops_risk_assessment")
    with op.batch_alter_table("secops_risk_subject", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_secops_risk_subject_unit_id"))
    op.drop_table("secops_risk_subject")
    with op.batch_alter_table("secops_risk_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_secops_risk_answer_subject"))
    op.drop_table("secops_risk_answer")
    op.drop_table("secops_risk_question")
