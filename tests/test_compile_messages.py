"""What compiling tells the user: ``passes_report`` printed as lines, and
the first ``predict`` of a model saying (at ``verbose``) that it compiles."""
from __future__ import annotations

import re

import numpy as np

import symkb
from symkb import backend as K
from symkb import layers
from symkb.ir import Graph
from symkb.lower import PIPELINE, compile_graph, resolve_target
from symkb.lower.passes import PassReport, pass_name

LINE = re.compile(r"^(?P<name>\w+): (no change|(?P<a>\d+) -> (?P<b>\d+) nodes \((?P<what>.*)\))$")


def test_print_passes_report_reads_as_one_line_per_pass(capsys):
    x = K.placeholder(shape=(None, 3))
    y = K.exp(x) + K.exp(x)  # a repeated expression for cse to merge
    compiled = compile_graph(Graph([x], [y], name="twice"), "interpreter")
    assert str(compiled.passes_report) == "(no passes ran)"
    from symkb.lower import run_pipeline
    _, report = run_pipeline(Graph([x], [y], name="twice"))
    assert isinstance(report, PassReport)
    print(report)
    lines = capsys.readouterr().out.splitlines()
    assert [LINE.match(line)["name"] for line in lines] == [pass_name(p) for p in PIPELINE]
    assert lines[0] == "verify: no change"
    cse = next(line for line in lines if line.startswith("cse:"))
    m = LINE.match(cse)
    assert int(m["a"]) - int(m["b"]) == 1 and "exp -1" in m["what"], cse
    assert repr(report) == str(report)


def test_first_predict_says_it_compiles_at_verbose(capsys):
    model = symkb.Sequential([layers.Input((4,)), layers.Dense(3, activation="relu")])
    x = np.ones((2, 4), np.float32)
    model.predict(x, verbose=1)
    out = capsys.readouterr().err.splitlines()  # stdout carries the progress bar
    target = resolve_target("auto")  # cpu here, cuda on a GPU machine
    assert out[0] == (f"sequential: compiling the graph for the {target} target (the first "
                      "predict; later calls reuse it)...")
    assert re.fullmatch(r"sequential: compiled in \d+\.\d\d s \((cold compile|loaded from the "
                        r"cache|the cuda target)\)", out[1]), out[1]
    assert len(out) == 2
    model.predict(x, verbose=1)  # compiled already: nothing to say
    assert capsys.readouterr().err == ""
    quiet = symkb.Sequential([layers.Input((4,)), layers.Dense(3)])
    quiet.predict(x, verbose=0)
    assert capsys.readouterr() == ("", "")
