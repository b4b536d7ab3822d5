"""E-commerce credit (电子商务信用): platforms, shops, ratings, fraud and risk, logistics, traceability.

Sub-packages per feature (DESIGN.md): ``trade`` (platforms, shops, licence display, orders, ratings,
credit points), ``detection`` (pure fraud detectors), ``risk`` (findings, analyst work, effects).
"""
