"""E-commerce risk (电商信用风险): findings from detection runs, analyst decisions, shop risk warnings and notices, platform assessment (issue #7)."""
