"""Benchmark: one PDF credit report (render HTML + sign + WeasyPrint PDF), against a trivial-PDF baseline.

    .venv/bin/python bench/report.py [--sizes 10,50,200] [--repeat 5]

Target (issue #3): one PDF report in under 500 ms for a typical file (20–50 items). The baseline
in the same run is WeasyPrint rendering a one-line Chinese PDF (fonts, subsetting, PDF writer).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,50,200")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from tests.unit.reports.sample import NOW, org_file

    from chengxin.core.crypto import KeyRing
    from chengxin.reports.render import ReportMeta, content_for, render_html, render_pdf
    from chengxin.reports.signing import ENVELOPE_NAME, sign_content, verify_pdf

    keyring = KeyRing.open(Path(tempfile.mkdtemp()) / "keys")
    trivial = '<html><body style="font-family: \'Noto Sans CJK SC\'">信用报告 CX2026</body></html>'
    render_pdf(trivial)  # warm-up: font configuration, first Pango load

    def timed(fn: object, repeat: int) -> tuple[float, float]:
        runs = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn()  # type: ignore[operator]
            runs.append((time.perf_counter() - t) * 1000)
        return statistics.median(runs), max(runs)

    med, worst = timed(lambda: render_pdf(trivial), args.repeat)
    print(f"baseline  trivial one-line PDF          median {med:7.1f} ms  max {worst:7.1f} ms")
    for n in (int(x) for x in args.sizes.split(",")):
        file = org_file(n)
        out: dict[str, bytes] = {}

        def report(file: object = file, out: dict[str, bytes] = out) -> None:
            meta = ReportMeta.new(NOW, key_id=keyring.key_id)
            signed = sign_content(keyring, content_for(file, meta))  # type: ignore[arg-type]
            meta = dataclasses.replace(meta, verification_code=signed.code)
            out["pdf"] = render_pdf(render_html(file, meta), {ENVELOPE_NAME: signed.envelope()})  # type: ignore[arg-type]

        med, worst = timed(report, args.repeat)
        vmed, _ = timed(lambda out=out: verify_pdf(out["pdf"], keyring.public_key), max(1, args.repeat // 2))
        print(f"report    {n:4d} items  {len(out['pdf']) // 1024:5d} KB     median {med:7.1f} ms  max {worst:7.1f} ms"
              f"   offline verify {vmed:7.1f} ms")


if __name__ == "__main__":
    main()
