"""Progress goes to stderr only when asked for (or when stderr is a terminal)."""

from __future__ import annotations

import io

from llm_soc2.report.progress import Progress


def test_progress_writes_stages_and_a_bar() -> None:
    stream = io.StringIO()
    progress = Progress(True, stream)
    progress.stage("reading")
    progress.records(50, 100)
    progress.stage("writing")
    progress.close()
    text = stream.getvalue()
    assert "reading" in text
    assert "50.0 %" in text
    assert "50/100 records" in text
    assert text.index("50/100") < text.index("writing")


def test_progress_is_silent_when_off_or_not_a_terminal() -> None:
    stream = io.StringIO()
    quiet = Progress(False, stream)
    quiet.stage("x")
    quiet.records(1, 2)
    quiet.close()
    assert stream.getvalue() == ""
    assert not Progress.auto(None).enabled  # pytest's stderr is not a terminal
    assert Progress.auto(True).enabled
