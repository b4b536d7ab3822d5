"""E-commerce fraud detection (电商失信行为检测, issue #7): pure detectors over polars / numpy / scipy frames.

Entry point: :func:`chengxin.ecommerce.detection.pipeline.run_detectors` (frames of
:mod:`~chengxin.ecommerce.detection.frames` in, :class:`~chengxin.ecommerce.detection.pipeline.DetectionResult`
out). Detectors: FRAUDAR order-brushing rings (``fraudar``), REV2 malicious reviewers (``rev2``), fake-traffic
bursts and copied texts (``bursts``), empty parcels (``parcels``); thresholds and weights in the dated
``data/detection.yaml`` (``params``). No database tables: ``ecommerce.risk`` stores the findings.

Contract notes (additions to the shared schema, nothing removed or renamed):

* ``DetectionResult`` also carries ``buyer_ids`` / ``shop_ids`` (the ids the score arrays are aligned with),
  ``order_scores`` (kind → (order ids, scores)), ``params_version``, ``window`` (the lookback window used)
  and ``stats``; ``run_detectors`` takes an optional ``kinds`` to run a subset.
* ``Detection.fingerprint`` = sha256 of kind + sorted shop ids + sorted buyer ids (order ids are left out, so
  a ring's finding keeps its fingerprint when later orders of the same ring arrive).
* Frames are filtered to ``lookback_days`` before ``now`` (orders by ``placed_at``, ratings by ``rated_at``,
  shipments by ``shipped_at`` or else ``signed_at``); only ``buyer_to_shop`` ratings are used.
"""
