"""Platforms, shops, licence display (亮照亮标), orders, shipments, ratings and credit points.

Issue #7. Platforms (网络交易平台) are registered by the credit office; they push their shops, orders
and ratings over the API with their platform API keys. Shops show a verified, masked real-name owner
and a signed, expiring badge; buyers and shops earn rating points by the published rule.
"""
