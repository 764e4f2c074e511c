"""A progress bar printing what tf_keras's ``Progbar`` prints (no metrics).

``verbose=1`` redraws one line per update (``\\b`` and ``\\r``, as tf_keras
does on POSIX whatever the terminal), ending with
``3/3 [==============================] - 0s 2ms/step``; ``verbose=2`` prints
one line at the end: ``3/3 - 0s - 6ms/epoch - 2ms/step``.
"""
from __future__ import annotations

import sys
import time


def format_time(seconds: float, unit: str) -> str:
    """`` 2ms/step``: a duration per unit, in s, ms or us as tf_keras writes it."""
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit}"
    return f" {seconds * 1e6:.0f}us/{unit}"


class Progbar:
    """Progress of ``target`` steps (see the module docstring).

    Args:
        target: the number of steps.
        verbose: 0 (silent), 1 (a bar redrawn per update) or 2 (one line at
            the end).
        width: the bar's width in characters.
        interval: the least time in seconds between two redraws.
        stream: where to write (default ``sys.stdout`` at each write).
    """

    def __init__(self, target: int, verbose: int = 1, width: int = 30,
                 interval: float = 0.05, stream=None):
        self.target, self.verbose, self.width = int(target), verbose, width
        self.interval, self.stream = interval, stream
        self._start = self._epoch_start = time.time()
        self._last_update = 0.0
        self._after_first = None
        self._total_width = 0

    def _write(self, text: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(text)
        stream.flush()

    def _step_time(self, current: int, now: float) -> float:
        if not current:
            return 0.0
        if self._after_first is not None and current > 1:
            per_step = (now - self._after_first) / (current - 1)
        else:
            per_step = (now - self._start) / current
        if current == 1:
            self._after_first = now
        return per_step

    def update(self, current: int) -> None:
        """Show that ``current`` steps of ``target`` are done."""
        finalize = current >= self.target
        now = time.time()
        info = f" - {now - self._start:.0f}s"
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            previous = self._total_width
            digits = len(str(self.target))
            bar = f"{current:{digits}d}/{self.target} ["
            done = int(self.width * current / self.target)
            if done > 0:
                bar += "=" * (done - 1) + (">" if current < self.target else "=")
            bar += "." * (self.width - done) + "]"
            per_step = self._step_time(current, now)
            if finalize:
                info += format_time(per_step, "step")
            else:
                info = f" - ETA: {_eta(per_step * (self.target - current))}"
            self._total_width = len(bar) + len(info)
            if previous > self._total_width:
                info += " " * (previous - self._total_width)
            self._write("\b" * previous + "\r" + bar + info + ("\n" if finalize else ""))
        elif self.verbose == 2 and finalize:
            digits = len(str(self.target))
            elapsed = now - self._epoch_start
            self._write(f"{current:{digits}d}/{self.target}{info} -"
                        f"{format_time(elapsed, 'epoch')} -"
                        f"{format_time(elapsed / self.target, 'step')}\n")
        self._last_update = now


def _eta(seconds: float) -> str:
    if seconds > 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds > 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds
