"""订阅与推送 — subscriptions to list changes, delivered as signed webhooks (issue #5 §5)."""
