"""Charts never depend on a font cache built before the fonts were installed."""

from __future__ import annotations

import json
import subprocess
import sys

# In a fresh interpreter: forget Liberation Sans as a cache built before fonts-liberation was
# installed would, then make a chart the way the report does, with matplotlib's log captured.
PROBE = """
import json, logging, io
from matplotlib import font_manager
font_manager.fontManager.ttflist = [
    f for f in font_manager.fontManager.ttflist if f.name != "Liberation Sans"
]
log = io.StringIO()
handler = logging.StreamHandler(log)
logging.getLogger("matplotlib").addHandler(handler)
from peelkit.report import charts
from peelkit.report.document import Bar, Chart, Num
nums = [Num(text=str(v), value=v, indicator="FIN-2", row=None, who="force", force=c)
        for c, v in (("E23000001", 85.7), ("E23000032", 70.1))]
bars = tuple(Bar(n.force, n.force, n, n.force == "E23000001") for n in nums)
chart = Chart("bars", "per 1,000 population", bars, nums[0])
svg = charts.svg(chart, "Metropolitan Police Service")
print(json.dumps({"log": log.getvalue(), "families": charts.font_families(),
                  "liberation": "Liberation Sans" in svg}))
"""


def test_a_chart_made_with_a_stale_font_cache_finds_its_font_and_warns_nothing(tmp_path):
    env_dir = tmp_path / "mpl"
    env_dir.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        env={"MPLCONFIGDIR": str(env_dir), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "findfont" not in result["log"] + done.stderr
    assert result["families"][0] == "Liberation Sans"
    assert result["liberation"]
