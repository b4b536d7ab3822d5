"""Tables of the civic credit points and grades: the current score of every subject, and the runs.

- ``score_current``: one row per subject — the model it came from (``model_id``, e.g. ``civic-2025.1``),
  the total, the band, the dimension totals, the day it was computed for. No identifier, no name: the
  subject is reached through ``subject_id`` only (personal identifiers stay in ``subject``).
  Written by the batch (``chengxin scores recompute``) and, for one subject, in the same transaction
  as a change of its records (``scores.service.refresh_subjects``) or when the subject reads it.
- ``score_run``: one row per batch run or comparison — counts per band and the histogram the portal
  charts, so the distribution is shown without scanning a million rows per page view.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, JsonDoc, UtcDateTime, utcnow


class ScoreCurrent(Base):
    __tablename__ = "score_current"
    __table_args__ = (Index("ix_score_current_model_band", "model_id", "band"),)

    # No foreign key (migration 0023): derived data rewritten in bulk from ids read out of ``subject``; the
    # check's row locks on a million subjects cost more than the whole write.
    subject_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    model_id: Mapped[str] = mapped_column(String(40))
    total: Mapped[int] = mapped_column(Integer)
    band: Mapped[str] = mapped_column(String(16))
    dimensions: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)  # dimension code → clipped total
    as_of: Mapped[dt.date] = mapped_column(Date)  # the day the rules were applied for (decay, display ends)
    computed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(16))  # batch | change | read


class ScoreRun(Base):
    __tablename__ = "score_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # recompute | compare
    model_id: Mapped[str] = mapped_column(String(40), index=True)
    other_model_id: Mapped[str | None] = mapped_column(String(40))  # compare: the new model
    as_of: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    seconds: Mapped[float] = mapped_column(Float)
    subjects: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(128))
    # {"bands": {code: n}, "histogram": {"edges": [...], "counts": [...]}, "moves": {...} (compare)}
    summary: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
