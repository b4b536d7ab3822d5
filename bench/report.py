"""Benchmark: one PDF credit report (render HTML + sign + WeasyPrint PDF), against a trivial-PDF baseline.

    .venv/bin/python bench/report.py [--sizes 10,50,200] [--full 50] [--repeat 7]

Target (issue #3): one PDF report in under 500 ms for a large file (50 items). Files: ``N items`` is
the test sample (3 fields an item); ``N full`` has 12 catalog fields an item with long texts and
labels (tests/unit/reports/sample.py:large_org_file), closer to real administrative penalties.

The baseline is a one-line Chinese PDF through the same ``render_pdf`` (stylesheet, fonts, font
subsetting, PDF writer). Every report run is paired with a baseline run right before it, so both
see the same load on a shared machine; ``ratio`` is report / baseline (medians). CPU is this
process's CPU time (``time.process_time``): it moves much less than wall time when other
processes share the cores. Offline verification is timed on the untouched PDF (fast path: text
read from the content streams) and on a PDF with one printed digit changed (the failure path:
pypdf's full text extraction before saying which value is missing).
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def _run(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall ms, CPU ms, result) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,50,200", help="item counts of the sample file (3 fields an item)")
    parser.add_argument("--full", default="50", help="item counts of the full file (12 fields an item); '' for none")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from pypdf import PdfReader
    from tests.unit.reports.sample import NOW, large_org_file, org_file
    from tests.unit.reports.tamper import tamper_text

    from chengxin.core.crypto import KeyRing
    from chengxin.reports.render import ReportMeta, content_for, render_html, render_pdf
    from chengxin.reports.signing import ENVELOPE_NAME, sign_content, verify_pdf

    keyring = KeyRing.open(Path(tempfile.mkdtemp()) / "keys")
    trivial = "<html><body><p>信用报告 CX2026</p></body></html>"

    def report(file: Any) -> bytes:
        meta = ReportMeta.new(NOW, key_id=keyring.key_id)
        signed = sign_content(keyring, content_for(file, meta))
        meta = dataclasses.replace(meta, verification_code=signed.code)
        return render_pdf(render_html(file, meta), {ENVELOPE_NAME: signed.envelope()})

    report(org_file(2))  # warm-up: report font (built once per machine), font configuration, stylesheet
    render_pdf(trivial)

    files = [(f"{n} items", org_file(n)) for n in (int(x) for x in args.sizes.split(",") if x)]
    files += [(f"{n} full", large_org_file(n)) for n in (int(x) for x in args.full.split(",") if x)]
    print(f"{'report':>10} {'pages':>5} {'KB':>5} | {'wall med':>8} {'max':>7} {'CPU med':>7} | "
          f"{'baseline wall':>13} {'CPU':>5} | {'ratio':>5} | {'verify wall':>11} {'CPU':>5} | {'tampered':>8}")
    for label, file in files:
        walls, cpus, base_walls, base_cpus = [], [], [], []
        pdf = b""
        for _ in range(args.repeat):
            bw, bc, _ = _run(lambda: render_pdf(trivial))
            w, c, pdf = _run(lambda file=file: report(file))
            walls.append(w), cpus.append(c), base_walls.append(bw), base_cpus.append(bc)
        verify = [_run(lambda pdf=pdf: verify_pdf(pdf, keyring.public_key)) for _ in range(args.repeat)]
        assert all(v[2].ok for v in verify), verify[0][2].reason
        forged = tamper_text(pdf, "1.50", "7.50")  # the fine of the first item
        tampered = [_run(lambda forged=forged: verify_pdf(forged, keyring.public_key)) for _ in range(max(1, args.repeat // 3))]
        assert not any(t[2].ok for t in tampered)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        med = statistics.median
        print(f"{label:>10} {pages:>5} {len(pdf) // 1024:>5} | {med(walls):8.1f} {max(walls):7.1f} {med(cpus):7.1f} | "
              f"{med(base_walls):13.1f} {med(base_cpus):5.1f} | {med(walls) / med(base_walls):5.1f} | "
              f"{med(v[0] for v in verify):11.1f} {med(v[1] for v in verify):5.1f} | "
              f"{med(t[0] for t in tampered):8.1f}", flush=True)


if __name__ == "__main__":
    main()
