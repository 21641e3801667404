"""What grading writes: grades.csv (one row per student, lab and function) and a class report of the share passing
and the most common named mistakes per function, as a Markdown table and an HTML page with a bar chart."""
from __future__ import annotations

import csv
import html
import re
from collections import Counter, defaultdict
from pathlib import Path

from course.grade.run import Grade

MISTAKE = "likely mistake: "


def mistake_name(detail: str) -> str:
    """The name of a check's mistake, so that equal mistakes count together: the text after "likely mistake:",
    else the first clause of the detail (numbers and positions vary from student to student)."""
    if MISTAKE in detail:
        return detail.split(MISTAKE, 1)[1].split(": ")[0].strip()
    return re.split(r": at index|; | \(", detail, maxsplit=1)[0].strip()


def write_csv(grades: list[Grade], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["student", "lab", "function", "status", "detail"])
        for g in grades:
            writer.writerow([g.student, g.lab, g.function, g.status, g.detail])


def summarize(grades: list[Grade]) -> list[dict]:
    """Per (lab, function), in the labs' order: submissions, share passing, counts of each status, and the most
    common named mistakes as (name, count, share) sorted by count."""
    rows = defaultdict(list)
    for g in grades:
        rows[(g.lab, g.function)].append(g)
    summary = []
    for (lab, function), group in rows.items():
        n = len(group)
        statuses = Counter(g.status for g in group)
        mistakes = Counter(mistake_name(g.detail) for g in group if g.status == "mistake")
        summary.append({"lab": lab, "function": function, "submissions": n, "passed": statuses["passed"] / n,
                        "statuses": dict(statuses),
                        "mistakes": [(name, count, count / n) for name, count in mistakes.most_common(3)]})
    return summary


def markdown(summary: list[dict]) -> str:
    lines = ["| lab | function | submissions | passed | most common mistakes |", "|---|---|---|---|---|"]
    for s in summary:
        mistakes = "; ".join(f"{share:.0%} {name}" for name, _, share in s["mistakes"]) or "–"
        lines.append(f"| {s['lab']} | {s['function']} | {s['submissions']} | {s['passed']:.0%} | {mistakes} |")
    return "\n".join(lines) + "\n"


def html_report(summary: list[dict]) -> str:
    """The class report as an HTML page: per function, a bar of the share passing and the mistakes to address."""
    colors = {"passed": "#2e7d32", "mistake": "#c62828", "not implemented": "#9e9e9e", "crashed": "#6a1b9a",
              "timed out": "#ef6c00"}
    rows = []
    for s in summary:
        bar = "".join(f"<span title='{status}: {count}' style='display:inline-block;height:14px;"
                      f"width:{300 * count / s['submissions']:.0f}px;background:{colors[status]}'></span>"
                      for status, count in sorted(s["statuses"].items(), key=lambda kv: list(colors).index(kv[0])))
        mistakes = "<br>".join(f"{share:.0%} {html.escape(name)}" for name, _, share in s["mistakes"]) or "–"
        rows.append(f"<tr><td>{html.escape(s['lab'])}</td><td><b>{html.escape(s['function'])}</b></td>"
                    f"<td>{s['passed']:.0%} of {s['submissions']}</td><td>{bar}</td><td>{mistakes}</td></tr>")
    legend = " ".join(f"<span style='color:{c}'>&#9632;</span> {status}" for status, c in colors.items())
    return ("<!doctype html><meta charset='utf-8'><title>Class report</title>"
            "<style>body{font-family:sans-serif} td{padding:4px 10px;vertical-align:top} "
            "tr:nth-child(even){background:#f4f4f4}</style>"
            f"<h1>Class report</h1><p>{legend}</p><table><tr><th>lab</th><th>function</th><th>passed</th>"
            f"<th></th><th>most common mistakes</th></tr>{''.join(rows)}</table>")


def write_reports(grades: list[Grade], out: Path) -> dict:
    """grades.csv, report.md and report.html in ``out``; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(grades)
    paths = {"csv": out / "grades.csv", "markdown": out / "report.md", "html": out / "report.html"}
    write_csv(grades, paths["csv"])
    paths["markdown"].write_text(markdown(summary), encoding="utf-8")
    paths["html"].write_text(html_report(summary), encoding="utf-8")
    return paths
