"""Tests of scripts/svgchart.py: valid XML, labels, legends, odd data."""

import io
import shutil
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts import svgchart  # noqa: E402
from scripts.svgchart import bar_chart, format_tick, line_chart, nice_ticks, range_chart  # noqa: E402

NS = "{http://www.w3.org/2000/svg}"


def texts(svg):
    """All text content of the chart's <text> elements."""
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter(NS + "text")]


class NiceTicksTest(unittest.TestCase):
    def test_covers_range_with_round_steps(self):
        for lo, hi in ((0, 1), (0, 7.3), (0, 1234), (3, 97), (-5, 5), (0.001, 0.0042), (0, 1e9)):
            ticks = nice_ticks(lo, hi)
            self.assertLessEqual(ticks[0], lo)
            self.assertGreaterEqual(ticks[-1], hi)
            self.assertGreaterEqual(len(ticks), 2)
            self.assertLessEqual(len(ticks), 12)
            steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:])}
            self.assertEqual(len(steps), 1, ticks)
            step = steps.pop()
            mantissa = step / 10 ** __import__("math").floor(__import__("math").log10(step))
            self.assertIn(round(mantissa, 6), (1, 2, 2.5, 5))

    def test_degenerate(self):
        self.assertEqual(nice_ticks(0, 0)[0], 0)
        self.assertGreater(nice_ticks(5, 5)[-1], 5)
        self.assertEqual(len(nice_ticks(float("nan"), 1)) >= 2, True)
        self.assertLess(nice_ticks(10, 0)[0], 1)  # swapped bounds

    def test_format_tick(self):
        self.assertEqual(format_tick(1500), "1,500")
        self.assertEqual(format_tick(2.5), "2.5")
        self.assertEqual(format_tick(0.25), "0.25")
        self.assertEqual(format_tick(1.0), "1")
        self.assertEqual(format_tick(float("nan")), "")


class ChartsTest(unittest.TestCase):
    SERIES = {"TCP": [(1, 900.5), (5, 310), (10, 160)], "UDP raw": [(1, 420), (5, None), (10, 70)],
              "UDP <reliable> & co": [(10, 22), (1, 150), (5, 40)]}

    def check_common(self, svg, title, y_title):
        root = ET.fromstring(svg)
        self.assertEqual(root.tag, NS + "svg")
        for attr in ("width", "height", "viewBox"):
            self.assertIn(attr, root.attrib)
        self.assertEqual(root.get("font-family"), "sans-serif")
        all_text = texts(svg)
        self.assertIn(title, all_text)
        self.assertIn(y_title, all_text)
        # every text is black (printable)
        for t in root.iter(NS + "text"):
            self.assertEqual(t.get("fill"), "#000000")
        return root, all_text

    def test_line_chart(self):
        svg = line_chart(self.SERIES, "Rate vs clients", "Clients", "Per-client rate", y_unit="MB/s")
        root, all_text = self.check_common(svg, "Rate vs clients", "Per-client rate (MB/s)")
        self.assertIn("Clients", all_text)
        for name in self.SERIES:
            self.assertIn(name, all_text)  # legend, escaped and parsed back
        for tick in ("1", "5", "10"):
            self.assertIn(tick, all_text)  # x ticks on the data values
        lines = [p for p in root.iter(NS + "polyline")]
        # "UDP raw" has a gap at x=5, so its two points are markers without a line
        self.assertEqual(len(lines), 2)
        dashes = {p.get("stroke-dasharray") for p in lines}
        self.assertEqual(len(dashes), 2)  # series differ by dash pattern, not only colour
        colours = {p.get("stroke") for p in lines}
        self.assertEqual(len(colours), 2)
        markers = [e for e in root.iter() if e.tag in (NS + "circle", NS + "rect", NS + "polygon")
                   and e.get("stroke") in svgchart.COLOURS]
        self.assertGreaterEqual(len(markers), 8)  # 8 points (+ legend keys)

    def test_bar_chart(self):
        svg = bar_chart(["100 MiB x 1", "100 MiB x 5"], {"TCP": [950, 1500], "UDP raw": [None, 600.25]},
                        "Aggregate", "File x clients", "Aggregate rate", y_unit="MB/s")
        root, all_text = self.check_common(svg, "Aggregate", "Aggregate rate (MB/s)")
        self.assertIn("n/a", all_text)
        self.assertIn("100 MiB x 5", all_text)
        fills = {r.get("fill") for r in root.iter(NS + "rect") if r.find(NS + "title") is not None}
        self.assertEqual(len(fills), 2)
        self.assertTrue(any(f.startswith("url(#") for f in fills))  # hatching for grey printing
        ids = [p.get("id") for p in root.iter(NS + "pattern")]
        for f in fills:
            if f.startswith("url(#"):
                self.assertIn(f[5:-1], ids)

    def test_range_chart(self):
        svg = range_chart(["1", "5", "10"], {"TCP": [(0.1, 0.1, 0.1), (0.3, 0.35, 0.4), None],
                                            "UDP": [(0.5, 0.2, 0.9), "bad", (1, 2, 3)]},
                          "Time spread", "Clients", "Client time", y_unit="s")
        root, all_text = self.check_common(svg, "Time spread", "Client time (s)")
        titles = [t.text for t in root.iter(NS + "title")]
        self.assertTrue(any("UDP, 1: min 0.2, median 0.2, max 0.9" in (t or "") for t in titles), titles)

    def test_empty_and_single(self):
        for svg in (line_chart({}, "Empty"), line_chart({"a": []}, "Empty"), bar_chart([], {}, "Empty"),
                    range_chart([], {}, "Empty"), bar_chart(["x"], {"a": [None]}, "Empty")):
            self.assertIn("no data", texts(svg))
        svg = line_chart({"only": [(5, 42.0)]}, "Single", "Clients", "Rate", y_unit="MB/s")
        root = ET.fromstring(svg)
        self.assertEqual(len(list(root.iter(NS + "polyline"))), 0)
        self.assertIn("5", texts(svg))
        svg = bar_chart(["a"], {"s": [0.0]}, "Zero")
        ET.fromstring(svg)
        svg = line_chart([("neg", [(0, -3), (1, 4)])], "Negative")
        ET.fromstring(svg)

    def test_many_series_wrap_legend_and_escape(self):
        series = [("series number {} <&>\x01".format(i), [(1, i), (2, i + 1)]) for i in range(12)]
        svg = line_chart(series, 'Title "quoted" & <b>', "x", "y")
        root = ET.fromstring(svg)
        self.assertIn('Title "quoted" & <b>', texts(svg))
        self.assertGreaterEqual(int(root.get("height")), 400)

    def test_ids_differ_between_charts(self):
        a = bar_chart(["x"], {"a": [1], "b": [2]}, "One")
        b = bar_chart(["x"], {"a": [1], "b": [3]}, "Two")
        ida = {p.get("id") for p in ET.fromstring(a).iter(NS + "pattern")}
        idb = {p.get("id") for p in ET.fromstring(b).iter(NS + "pattern")}
        self.assertTrue(ida and idb and not (ida & idb))

    def test_demo_cli(self):
        tmp = tempfile.mkdtemp(prefix="svgchart-")
        try:
            with redirect_stdout(io.StringIO()):
                self.assertEqual(svgchart.main([tmp]), 0)
            names = sorted(p.name for p in Path(tmp).iterdir())
            self.assertEqual(names, ["demo-bar.svg", "demo-line.svg", "demo-range.svg"])
            for name in names:
                ET.parse(str(Path(tmp) / name))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
