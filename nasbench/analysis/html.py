"""``report.html``: the Markdown report as one self-contained page (figures inline, tables sortable), to open in
any browser or send to a colleague. Markdown is rendered by the maintained ``markdown`` package."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

_IMG = re.compile(r'<img alt="([^"]*)" src="([^"/\\]+\.png)"\s*/?>')

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 1em 0; display: block; overflow-x: auto; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e5e5e5; text-align: right; white-space: nowrap; }
th { background: #f4f4f4; cursor: pointer; position: sticky; top: 0; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
tr:nth-child(even) td { background: #fafafa; }
img { max-width: 100%; height: auto; display: block; margin: 1em 0; }
code { background: #f4f4f4; padding: 0 3px; border-radius: 3px; }
"""

# Click a column header to sort by it (numbers numerically, "94.26 ± 0.20" by its first number).
SCRIPT = """
document.querySelectorAll("table").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.title = "sort by this column";
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.from(body.rows), up = th.dataset.up !== "1";
      var key = function (row) { var t = row.cells[col].textContent.trim(), n = parseFloat(t);
                                 return isNaN(n) ? t : n; };
      rows.sort(function (a, b) { var x = key(a), y = key(b); return (x > y ? 1 : x < y ? -1 : 0) * (up ? 1 : -1); });
      th.dataset.up = up ? "1" : "0";
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def render_html(markdown_text: str, folder: Path, title: str) -> str:
    """The page for ``markdown_text``, whose figures (PNG files in ``folder``) are embedded as data URIs."""
    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables", "fenced_code"], output_format="html")

    def inline(match: re.Match[str]) -> str:
        path = folder / match.group(2)
        if not path.is_file():
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'<img alt="{match.group(1)}" src="data:image/png;base64,{data}">'

    body = _IMG.sub(inline, body)
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{html.escape(title)}</title>\n'
        f"<style>{STYLE}</style>\n</head>\n<body>\n{body}\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )
