"""联合奖惩核查 — the credit check, its feedback, statistics and batch checks."""
