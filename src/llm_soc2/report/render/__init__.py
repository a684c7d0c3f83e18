"""Renderers: the same :class:`~llm_soc2.report.evidence.Report` as HTML, PDF, JSON and OSCAL."""
