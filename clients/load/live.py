"""The live progress display of `q2c load`: a rich panel on stderr, redrawn ~4 times a second.

rich's Live redraws from its own daemon thread and asks `render` for a fresh panel each time, so
the driver never calls into the display on its hot path. On a terminal the panel updates in
place; written to a file or pipe it appears once, as the final state, when the run ends.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from clients.load.record import BillRunProgress, LiveStats, Recorder

REFRESH_PER_SECOND = 4


class LiveDisplay:
    """rich.live.Live showing rate, commands, errors by code, p50/p99 so far (and bill-run progress
    when there is one); refreshes itself from a thread ~4x/s. enabled=False: prints nothing."""

    def __init__(
        self, recorder: Recorder, title: str, *, enabled: bool, console: Console | None = None
    ) -> None:
        self._recorder = recorder
        self._title = title
        self._enabled = enabled
        self._console = console if console is not None else Console(stderr=True)
        self._phase = "starting"
        self._live: Live | None = None

    def __enter__(self) -> LiveDisplay:
        if self._enabled:
            self._live = Live(
                console=self._console,
                get_renderable=self.render,
                refresh_per_second=REFRESH_PER_SECOND,
                transient=False,
                redirect_stdout=False,
            )
            self._live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        if self._live is not None:
            self._live.stop()  # draws the final state once more
            self._live = None

    def phase(self, text: str) -> None:
        """The run's current phase: "seeding", "month-end commands", "bill run", "checking"."""
        self._phase = text

    @property
    def current_phase(self) -> str:
        """The phase last set."""
        return self._phase

    def render(self, now: float | None = None) -> RenderableType:
        """The panel as it stands (`now`: a monotonic time, for tests; default the clock)."""
        stats = self._recorder.live(now)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold cyan", justify="right")
        grid.add_column()
        grid.add_row("phase", self._phase)
        grid.add_row("elapsed", _clock(stats.elapsed_s))
        grid.add_row("commands", f"{stats.commands:,}")
        grid.add_row("rate", f"{stats.rate_recent:,.1f} /s (last 5 s)")
        grid.add_row("errors", _errors(stats))
        grid.add_row("latency", f"p50 {stats.p50_ms:,.1f} ms   p99 {stats.p99_ms:,.1f} ms")
        parts: list[RenderableType] = [grid]
        if stats.bill_run is not None:
            parts.append(_bill_run(stats.bill_run))
        return Panel(Group(*parts), title=f"q2c load: {self._title}", expand=False)


def _clock(seconds: float) -> str:
    whole = max(int(seconds), 0)
    return f"{whole // 3600:d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _errors(stats: LiveStats) -> Text:
    if not stats.errors_by_code:
        return Text("none", style="green")
    by_code = ", ".join(f"{code} {n:,}" for code, n in sorted(stats.errors_by_code.items()))
    share = 100.0 * stats.errors / stats.commands if stats.commands else 0.0
    return Text(f"{stats.errors:,} ({share:.1f} %): {by_code}", style="red")


def _bill_run(progress: BillRunProgress) -> RenderableType:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", justify="right")
    table.add_column(width=30)
    table.add_column()
    bar = ProgressBar(total=max(progress.total, 1), completed=progress.processed, width=30)
    label = f"{progress.processed:,}/{progress.total:,} engagements, {progress.invoices:,} invoices"
    table.add_row("bill run", bar, label)
    return table
