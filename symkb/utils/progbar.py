"""A progress bar printing what tf_keras's ``Progbar`` prints.

``verbose=1`` redraws one line per update (``\\b`` and ``\\r``, as tf_keras
does on POSIX whatever the terminal), ending with
``3/3 [==============================] - 0s 2ms/step - loss: 0.1234``;
``verbose=2`` prints one line at the end:
``3/3 - 0s - loss: 0.1234 - 6ms/epoch - 2ms/step``.

Values given to :meth:`Progbar.update` are shown as their running average
over the steps seen (weighted by the steps each update covers), except the
``stateful_metrics``, shown as given (a metric object's result is already an
average).
"""
from __future__ import annotations

import sys
import time

import numpy as np


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
        target: the number of steps, or None when unknown (shown as
            ``"      7/Unknown"``).
        verbose: 0 (silent), 1 (a bar redrawn per update) or 2 (one line at
            the end).
        width: the bar's width in characters.
        interval: the least time in seconds between two redraws.
        stream: where to write (default ``sys.stdout`` at each write).
        stateful_metrics: names of values shown as given, not averaged.
        unit_name: what a step is called (``step`` or ``sample``).
        clock: the time source (``time.time``; tests give a fixed one).
    """

    def __init__(self, target, verbose: int = 1, width: int = 30,
                 interval: float = 0.05, stream=None, stateful_metrics=None,
                 unit_name: str = "step", clock=None):
        self.target = None if target is None else int(target)
        self.verbose, self.width = verbose, width
        self.interval, self.stream, self.unit_name = interval, stream, unit_name
        self.stateful_metrics = set(stateful_metrics or ())
        self._clock = clock or time.time
        self._start = self._epoch_start = self._clock()
        self._epoch_end = None
        self._last_update = 0.0
        self._after_first = None
        self._total_width = 0
        self._seen = 0
        self._values: dict = {}
        self._order: list = []

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

    def _record(self, current: int, values) -> None:
        for name, value in values or ():
            if name not in self._order:
                self._order.append(name)
            if name in self.stateful_metrics:
                self._values[name] = [value, 1]
                continue
            steps = max(current - self._seen, 1)
            total = self._values.setdefault(name, [0.0, 0])
            total[0] += value * steps
            total[1] += steps
        self._seen = current

    def _averages(self, small) -> str:
        text = ""
        for name in self._order:
            total, count = self._values[name]
            avg = np.mean(total / max(1, count))
            text += f" - {name}: {avg:.4f}" if small(avg) else f" - {name}: {avg:.4e}"
        return text

    def update(self, current: int, values=None, finalize=None) -> None:
        """Show that ``current`` steps are done.

        Args:
            current: the steps done so far.
            values: ``[(name, value), ...]`` for the last steps.
            finalize: whether this is the last update (default: ``current``
                reached ``target``).
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._record(current, values)
        now = self._clock()
        if current == self.target:
            self._epoch_end = now
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._draw(current, now, finalize)
        elif self.verbose == 2 and finalize:
            self._line(current, now)
        self._last_update = now

    def _draw(self, current: int, now: float, finalize: bool) -> None:
        previous = self._total_width
        if self.target is not None:
            digits = len(str(self.target))
            bar = f"{current:{digits}d}/{self.target} ["
            done = int(self.width * current / self.target)
            if done > 0:
                bar += "=" * (done - 1) + (">" if current < self.target else "=")
            bar += "." * (self.width - done) + "]"
        else:
            bar = "%7d/Unknown" % current
        per_step = self._step_time(current, now)
        if self.target is None or finalize:
            info = f" - {now - self._start:.0f}s" + format_time(per_step, self.unit_name)
        else:
            info = f" - ETA: {_eta(per_step * (self.target - current))}"
        info += self._averages(lambda avg: abs(avg) > 1e-3)
        self._total_width = len(bar) + len(info)
        if previous > self._total_width:
            info += " " * (previous - self._total_width)
        self._write("\b" * previous + "\r" + bar + info + ("\n" if finalize else ""))

    def _line(self, current: int, now: float) -> None:
        target = self.target if self.target is not None else current
        text = f"{current:{len(str(target))}d}/{target} - {now - self._start:.0f}s"
        # tf_keras compares the signed value here (a negative one prints as 1e)
        text += self._averages(lambda avg: avg > 1e-3)
        end = self._epoch_end if self._epoch_end is not None else now
        elapsed = end - self._epoch_start
        self._epoch_start, self._epoch_end = now, None
        text += " -" + format_time(elapsed, "epoch")
        text += " -" + format_time(elapsed / max(target, 1), self.unit_name)
        self._write(text + "\n")


def _eta(seconds: float) -> str:
    if seconds > 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds > 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds
