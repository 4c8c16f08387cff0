"""The HTML report in a real browser: headless Chromium, network off, the chart drawn.

A string test can only show the SVG is in the file; this shows a browser lays it
out with real sizes and paints it. `make test` installs Debian's chromium when it
may; without it the test skips and says why.
"""

from __future__ import annotations

import json
import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingestguard import Guard
from ingestguard.demo import synthetic_table
from ingestguard.reports.evidence import Evidence
from ingestguard.reports.render import DARK, heat_map, to_html

CHROMIUM = Path("/usr/bin/chromium")
KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
WIDTH, HEIGHT = 1280, 1200

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed at /usr/bin/chromium (make test installs it as root)",
)

# Measures the laid-out chart and writes the numbers into the DOM, for --dump-dom to carry out.
PROBE = """<script>
const svg = document.getElementById("findings-chart").getBoundingClientRect();
const rects = [...document.querySelectorAll("#findings-chart rect")].map(r => {
  const b = r.getBoundingClientRect();
  return {count: Number(r.dataset.count), width: b.width, height: b.height, fill: getComputedStyle(r).fill};
});
const pre = document.createElement("pre");
pre.id = "probe";
pre.textContent = JSON.stringify({svg: {width: svg.width, height: svg.height}, rects});
document.body.appendChild(pre);
</script>"""


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Evidence]:
    """A real protect run's evidence."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INGESTGUARD_KEY", KEY)
        mp.setenv("INGESTGUARD_HOME", str(tmp_path_factory.mktemp("home")))
        yield Guard().protect(synthetic_table(120, seed=3))[1]


def chromium(tmp_path: Path, page: Path, *action: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with a fresh profile and every way out to the network closed."""
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--proxy-server=127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--hide-scrollbars",
            f"--window-size={WIDTH},{HEIGHT}",
            *action,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and RGB pixels of an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos : pos + 4]), data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    prev, pixels = bytearray(stride), []
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        pixels += [tuple(line[i : i + 3]) for i in range(0, stride, bpp)]
        prev = line
    return width, height, pixels


def test_chart_is_laid_out_with_real_sizes(evidence: Evidence, tmp_path: Path):
    chart = heat_map(evidence)
    assert chart is not None
    page = tmp_path / "probe.html"
    html = to_html(evidence)
    # The report forbids scripts by CSP; this test-only copy drops that line to run the probe.
    page.write_text(
        "\n".join(line for line in html.splitlines() if "Content-Security-Policy" not in line).replace(
            "</body>", PROBE + "</body>"
        ),
        encoding="utf-8",
    )
    dom = chromium(tmp_path, page, "--dump-dom").stdout
    probe = json.loads(dom.split('<pre id="probe">')[1].split("</pre>")[0].replace("&quot;", '"'))
    assert probe["svg"]["width"] >= chart.width - 1 and probe["svg"]["height"] >= chart.height - 1
    rects = probe["rects"]
    assert len(rects) == len(chart.cells)
    assert all(r["width"] > 20 and r["height"] > 10 for r in rects)
    assert sorted(r["count"] for r in rects) == sorted(c.count for c in chart.cells)
    darkest = "rgb({}, {}, {})".format(*DARK)
    assert [r["fill"] == darkest for r in rects] == [c.count == chart.peak for c in chart.cells]


def test_screenshot_shows_the_chart(evidence: Evidence, tmp_path: Path):
    page, shot = tmp_path / "report.html", tmp_path / "report.png"
    page.write_text(to_html(evidence), encoding="utf-8")
    dom = chromium(tmp_path, page, "--dump-dom").stdout
    assert dom.count("<rect ") == len(heat_map(evidence).cells)  # the unaltered page, CSP and all
    chromium(tmp_path, page, f"--screenshot={shot}")
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    assert len(set(pixels)) > 50  # not a blank page
    # The busiest cells are painted in the darkest shade: at least one whole cell's worth.
    assert pixels.count(DARK) > 0.5 * 62 * 28
