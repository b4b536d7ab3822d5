"""异议 (objections), 本人声明 (statements) and the second-level contest (复核): issue #4 §1, RULES §3."""
