"""奖惩措施清单 — the published measures of joint rewards and punishments, and the check scenarios."""
