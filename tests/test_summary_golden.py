"""model.summary() prints exactly what tf_keras prints, for every golden model
(recurrent ones included: chain-like functional models drop 'Connected to',
multi-output layers show nested lists of shapes)."""
import io
import json
import pathlib

import numpy as np
import pytest

from symkb import backend as K
from symkb import layers
from symkb.layers import Input
from symkb.models import Model, Sequential

GOLDEN = pathlib.Path(__file__).parent / "goldens"
CASES = [c for name in ("layers.json", "dense.json")
         for c in json.loads((GOLDEN / name).read_text())["cases"]
         if not c.get("built_by_predict")]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_summary_matches_tf_keras(case):
    K.clear_session()
    namespace = {"layers": layers, "Input": Input, "Model": Model, "Sequential": Sequential,
                 "np": np}
    exec(case["code"], namespace)  # the golden file's own construction code
    buf = io.StringIO()
    namespace["model"].summary(print_fn=lambda line: buf.write(line + "\n"))
    assert buf.getvalue().rstrip("\n") == case["summary"].rstrip("\n")
