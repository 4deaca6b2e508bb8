"""The load tool's live display: what the panel shows, and that disabled means silent."""

from __future__ import annotations

import threading
import time
from io import StringIO

import pytest
from rich.console import Console

from clients.load.live import LiveDisplay
from clients.load.record import Recorder

T0 = 1000.0


def _text(display: LiveDisplay, now: float) -> str:
    out = StringIO()
    Console(file=out, width=120, color_system=None).print(display.render(now))
    return out.getvalue()


def _busy_recorder() -> Recorder:
    recorder = Recorder(T0)
    for i in range(100):
        at = T0 + i / 20  # 20 calls a second for 5 s
        code = "UNAVAILABLE" if i % 25 == 0 else "OK"
        recorder.record("SubmitTimeEntries", at, at, at + 0.012, code)
    return recorder


def test_panel_shows_phase_counts_rate_errors_by_code_and_latency() -> None:
    display = LiveDisplay(_busy_recorder(), "month-end", enabled=False)
    display.phase("month-end commands")

    text = _text(display, now=T0 + 5)

    assert "q2c load: month-end" in text
    assert "month-end commands" in text
    assert "0:00:05" in text
    assert "100" in text
    assert "20.0 /s" in text
    assert "UNAVAILABLE 4" in text
    assert "p50 12.0 ms" in text
    assert "bill run" not in text


def test_panel_shows_bill_run_progress_when_there_is_one() -> None:
    recorder = _busy_recorder()
    recorder.bill_run_progress(T0 + 6, 250, 1000, 240)
    display = LiveDisplay(recorder, "month-end", enabled=False)
    display.phase("bill run")

    text = _text(display, now=T0 + 7)

    assert "bill run" in text
    assert "250/1,000 engagements, 240 invoices" in text
    assert "━" in text  # the progress bar


def test_enabled_display_draws_its_final_state_when_the_run_ends() -> None:
    out = StringIO()
    recorder = _busy_recorder()
    with LiveDisplay(recorder, "closed loop", enabled=True, console=Console(file=out, width=120)) as display:
        display.phase("checking")

    assert "q2c load: closed loop" in out.getvalue()
    assert "checking" in out.getvalue()


def test_disabled_display_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with LiveDisplay(_busy_recorder(), "quiet", enabled=False) as display:
        display.phase("seeding")

    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")
    assert display.current_phase == "seeding"


def test_enabled_display_writes_to_stderr_not_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    with LiveDisplay(_busy_recorder(), "to stderr", enabled=True):
        pass

    captured = capsys.readouterr()
    assert captured.out == ""
    assert "q2c load: to stderr" in captured.err


def test_display_redraws_itself_while_the_run_goes_on() -> None:
    out = StringIO()
    console = Console(file=out, width=120, force_terminal=True, color_system=None)
    recorder = Recorder(time.monotonic())
    with LiveDisplay(recorder, "redraw", enabled=True, console=console) as display:
        display.phase("month-end commands")
        now = time.monotonic()
        for _ in range(4321):
            recorder.record("SubmitTimeEntries", now, now, now + 0.003, "OK")
        # No one calls the display: its own thread must pick the new count up (~4 times a second).
        deadline = time.monotonic() + 5.0
        while "4,321" not in out.getvalue() and time.monotonic() < deadline:
            threading.Event().wait(0.02)
        assert "4,321" in out.getvalue()
