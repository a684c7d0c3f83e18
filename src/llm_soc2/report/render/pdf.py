"""``report.pdf`` with reportlab (extra ``[pdf]``): the summary, every criterion, evidence and samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_soc2.errors import ConfigurationError
from llm_soc2.report.evidence import Report, iso

INSTALL_HINT = "report.pdf needs reportlab: pip install 'llm-soc2[pdf]' (or pass --no-pdf)"
STATUS_COLOURS = {"effective": "#2e7d32", "exceptions": "#b8640f", "not evidenced": "#6b7785"}
# Characters outside WinAnsi (the standard PDF fonts) are replaced so the text stays extractable.
_REPLACE = str.maketrans({"≤": "<=", "≥": ">=", "→": "->", "…": "...", "✓": "ok", "−": "-"})


def available() -> bool:
    try:
        import reportlab  # noqa: F401
    except ImportError:
        return False
    return True


def _t(text: object) -> str:
    from xml.sax.saxutils import escape

    value = str(text).translate(_REPLACE)
    value = value.encode("cp1252", "replace").decode("cp1252")
    return escape(value)


def render(report: Report, path: Path) -> None:
    try:
        from reportlab.graphics.charts.barcharts import VerticalBarChart
        from reportlab.graphics.shapes import Drawing, String
        from reportlab.lib import colors
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
        from reportlab.lib.units import mm
        from reportlab.platypus import (
            KeepTogether,
            PageBreak,
            Paragraph,
            SimpleDocTemplate,
            Spacer,
            Table,
        )
    except ImportError as exc:
        raise ConfigurationError(INSTALL_HINT) from exc

    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10)
    mono = ParagraphStyle("mono", parent=small, fontName="Courier", fontSize=7, leading=8.5)
    h1, h2, h3 = styles["Title"], styles["Heading2"], styles["Heading3"]
    kind = "Type I (design)" if report.report_type == 1 else "Type II (operating effectiveness)"
    services = ", ".join(report.system.get("services", [])) or "LLM application"
    story: list[Any] = [
        Paragraph(_t(f"SOC 2 {kind} evidence"), h1),
        Paragraph(_t(services), styles["Heading2"]),
        Paragraph(_t(f"Period {iso(report.period.start)} to {iso(report.period.end)}"), body),
        Paragraph(
            _t(
                f"Generated {iso(report.generated_at)} by llm-soc2 {report.version}; report {report.report_id}"
            ),
            body,
        ),
        Spacer(1, 6 * mm),
    ]
    counts = report.status_counts()
    story.append(
        Paragraph(
            _t(
                f"{counts['effective']} criteria effective, {counts['exceptions']} with exceptions, "
                f"{counts['not evidenced']} not evidenced."
            ),
            styles["Heading3"],
        )
    )
    rows: list[list[Any]] = [["Criterion", "Status", "Control", "Result"]]
    for result in report.criteria:
        rows.append(
            [
                Paragraph(_t(result.criterion.id), small),
                Paragraph(
                    f'<font color="{STATUS_COLOURS[result.status]}"><b>{_t(result.status)}</b></font>', small
                ),
                Paragraph(_t(f"{result.control.id}: {result.control.title}"), small),
                Paragraph(_t(result.summary), small),
            ]
        )
    table = Table(rows, colWidths=[18 * mm, 24 * mm, 55 * mm, 83 * mm], repeatRows=1)
    table.setStyle(_grid(colors))
    story += [table, Spacer(1, 6 * mm)]

    daily = report.charts.get("daily", [])
    if daily:
        step = 1 if len(daily) <= 92 else 7
        calls = [sum(r["ok"] + r["errors"] for r in daily[i : i + step]) for i in range(0, len(daily), step)]
        drawing = Drawing(180 * mm, 60 * mm)
        chart = VerticalBarChart()
        chart.x, chart.y, chart.width, chart.height = 12 * mm, 8 * mm, 165 * mm, 44 * mm
        chart.data = [calls]
        chart.bars[0].fillColor = colors.HexColor("#2f6fbf")
        chart.bars.strokeWidth = 0
        chart.categoryAxis.categoryNames = ["" for _ in calls]
        chart.valueAxis.valueMin = 0
        chart.valueAxis.labels.fontSize = 6
        drawing.add(chart)
        drawing.add(
            String(12 * mm, 55 * mm, f"LLM interactions per {'day' if step == 1 else 'week'}", fontSize=8)
        )
        story += [drawing]

    story.append(PageBreak())
    story.append(Paragraph("Criteria in detail", h2))
    for result in report.criteria:
        block: list[Any] = [
            Paragraph(_t(f"{result.criterion.id} - {result.control.title} [{result.status}]"), h3),
            Paragraph(_t(f"Criterion: {result.criterion.title}"), small),
            Paragraph(
                _t(f"Control {result.control.id} ({result.control.nature}): {result.control.rule}"), small
            ),
            Paragraph(_t(result.summary), body),
        ]
        if result.reason:
            block.append(Paragraph(_t(f"Reason: {result.reason}"), body))
        if result.figures:
            figure_rows = [
                [Paragraph(_t(k), small), Paragraph(_t(_fmt(v)), small)] for k, v in result.figures.items()
            ]
            figures = Table(figure_rows, colWidths=[70 * mm, 110 * mm])
            figures.setStyle(_grid(colors, header=False))
            block.append(figures)
        story.append(KeepTogether(block[:4]))
        story += block[4:]
        if result.exceptions:
            story.append(Paragraph(_t(f"Exceptions: {result.exceptions_total:,}"), small))
            exception_rows = [["Exception", "Reference", "Records"]] + [
                [Paragraph(_t(e.description), small), Paragraph(_t(e.reference), small), f"{e.count:,}"]
                for e in result.exceptions[:20]
            ]
            exceptions = Table(exception_rows, colWidths=[115 * mm, 45 * mm, 20 * mm], repeatRows=1)
            exceptions.setStyle(_grid(colors))
            story.append(exceptions)
        for note in result.notes:
            story.append(Paragraph(_t(note), small))
        story.append(Spacer(1, 4 * mm))

    story.append(PageBreak())
    story.append(Paragraph("Evidence", h2))
    for item in report.evidence:
        story.append(Paragraph(_t(f"{item.title} ({item.id})"), h3))
        story.append(Paragraph(_t(f"Source: {item.source} {item.location}"), small))
        story.append(Paragraph(_t(f"Query: {item.query}"), mono))
        story.append(Paragraph(_t(f"Parameters: {item.parameters}"), mono))
        story.append(
            Paragraph(
                _t(
                    f"Period {iso(item.period.start)} to {iso(item.period.end)}; {item.record_count:,} records; "
                    f"generated {iso(item.generated_at)}"
                ),
                small,
            )
        )
        for ref in item.files:
            story.append(Paragraph(_t(f"{ref.path}  sha256 {ref.sha256}"), mono))
    story.append(Paragraph("Samples", h2))
    sample_rows: list[list[Any]] = [["Population", "Size", "Sample", "Seed", "Why"]]
    for sample in report.samples:
        sample_rows.append(
            [
                Paragraph(_t(sample.population), small),
                f"{sample.population_size:,}",
                str(sample.size),
                Paragraph(_t(sample.seed), mono),
                Paragraph(_t(sample.rationale), small),
            ]
        )
    samples = Table(sample_rows, colWidths=[32 * mm, 20 * mm, 14 * mm, 45 * mm, 69 * mm], repeatRows=1)
    samples.setStyle(_grid(colors))
    story.append(samples)
    story.append(Spacer(1, 4 * mm))
    story.append(
        Paragraph(
            _t(
                "Every file of the bundle is listed with its SHA-256 in manifest.json, signed in manifest.sig; "
                "check it with: llm-soc2 report verify <directory>. Criterion titles are paraphrases of the 2017 "
                "Trust Services Criteria, not the AICPA text."
            ),
            small,
        )
    )

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(15 * mm, 8 * mm, _t(f"llm-soc2 report {report.report_id}"))
        canvas.drawRightString(195 * mm, 8 * mm, f"page {doc.page}")
        canvas.restoreState()

    document = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"SOC 2 {kind} evidence",
        author="llm-soc2",
        invariant=1,
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def _grid(colors: Any, header: bool = True) -> Any:
    from reportlab.platypus import TableStyle

    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#c9d1da")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
    ]
    if header:
        commands += [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f6")),
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ]
    return TableStyle(commands)
