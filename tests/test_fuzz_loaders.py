"""Fuzzing the six loaders with mutated valid files and random input.

Every example must end in a result or in the documented error family
(:class:`symkb.ir.errors.FileFormatError`, never one marked ``internal``),
within a time bound and a peak-memory bound. The examples are derandomised
and few, so the suite stays fast; a longer run (docs/trust.md)::

    SYMKB_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz_loaders.py -m fuzz
"""
import json
import os
import random
import signal
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symkb
from symkb import backend as K
from symkb import ir, layers
from symkb.inspect_cmd import load_any
from symkb.ir.errors import FileFormatError
from symkb.models import load_model, model_from_json

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("SYMKB_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=EXAMPLES <= 100, deadline=None,
                database=None, suppress_health_check=list(HealthCheck), print_blob=True)
# A mutated `units` can make a legitimately large layer (an Orthogonal-initialised
# 2000-unit SimpleRNN traces about 150 MB and runs for seconds): the bounds catch what
# the limits exist for (gigabytes, hangs), not that.
PEAK_BYTES = 256 << 20  # no example may trace more
SECONDS = 60            # nor run longer


def _models():
    K.clear_session()
    seq = symkb.Sequential([layers.Input((4, 3)), layers.LSTM(3, return_sequences=True),
                            layers.SimpleRNN(2), layers.Dense(2, activation="relu")], name="seq")
    x = layers.Input((3,), name="x")
    a, b = layers.Dense(2, name="a")(x), layers.Dense(2, name="b")(x)
    fun = symkb.Model(x, layers.Activation("tanh")(layers.Add()([a, b])), name="fun")
    return seq, fun


class _Seeds(dict):
    def __repr__(self):  # failure reports show the drawn case, not every seed file
        return "<seed files>"


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """Valid files of every kind: the starting points of the mutations."""
    folder = tmp_path_factory.mktemp("seeds")
    out = _Seeds(model_json=[], graph_json=[], printed=[], archive=[], graph=[])
    for model in _models():
        out["model_json"].append(model.to_json())
        out["graph_json"].append(ir.to_json(model.graph))
        out["printed"].append(ir.format_graph(model.graph, full=True))
        path = folder / f"{model.name}.symkb"
        model.save(path)
        out["archive"].append(path.read_bytes())
        out["graph"].append(model.graph)
    K.clear_session()
    return out


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang(f"a loader ran longer than {SECONDS} s")


def _check(load, payload):
    """Run ``load(payload)``: a result or the documented family, in time and memory."""
    K.clear_session()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS)
    tracemalloc.start()
    try:
        load(payload)
    except FileFormatError as exc:
        assert not exc.internal, f"internal error: {exc!r} caused by {exc.__cause__!r}"
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert peak <= PEAK_BYTES, f"peak memory {peak} bytes"


# -- mutations ---------------------------------------------------------------------------

_ATOMS = [None, True, False, 0, 1, -1, 7, 2 ** 31, 10 ** 12, 0.5, -1e308, "", "x", "f32[?,3]",
          "f32[1000000,1000000]", "float32", "object", "relu", "Dense", "\x1b[2J", [], {},
          [0, 0], [1, 0], [10 ** 9], {"variable": 0}, {"array": {"dtype": "float32",
                                                                 "shape": [3], "data": []}}]
_KEYS = ["name", "op", "type", "units", "shape", "dtype", "config", "class_name", "layers",
         "variable", "array", "graph", "nodes", "inputs", "outputs", "attrs", "value",
         "inbound_nodes", "batch_input_shape", "data", "base64"]


def _atom(r: random.Random):
    value = r.choice(_ATOMS)
    if r.random() < 0.2:
        return [value, _atom(r)] if r.random() < 0.5 else {r.choice(_KEYS): value}
    return json.loads(json.dumps(value))


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


def mutate_json(r: random.Random, doc):
    """``doc`` with 1 to 3 entries replaced, removed, tweaked, copied or given new keys."""
    doc = json.loads(json.dumps(doc))
    for _ in range(r.randint(1, 3)):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            return _atom(r)
        path = r.choice(paths)
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        key, action = path[-1], r.randrange(5)
        value = parent[key]
        if action == 0:
            parent[key] = _atom(r)
        elif action == 1:
            del parent[key]
        elif action == 2 and isinstance(value, int) and not isinstance(value, bool):
            parent[key] = r.choice([value + 1, value - 1, -value, value * 1000, 0])
        elif action == 2 and isinstance(value, str):
            parent[key] = r.choice([value[:-1], value + "x", value.upper(), ""])
        elif action == 3:
            other = doc
            for k in r.choice(paths):
                other = other[k]
            parent[key] = json.loads(json.dumps(other))
        elif isinstance(value, dict):
            value[r.choice(_KEYS)] = _atom(r)
        else:
            parent[key] = _atom(r)
    return doc


def mutate_bytes(r: random.Random, data: bytes) -> bytes:
    """``data`` with a few bytes changed, cut, inserted or repeated."""
    data = bytearray(data)
    for _ in range(r.randint(1, 4)):
        if not data:
            break
        i, action = r.randrange(len(data)), r.randrange(5)
        if action == 0:
            data[i] = r.randrange(256)
        elif action == 1:
            del data[i:i + r.randint(1, 32)]
        elif action == 2:
            del data[i:]
        elif action == 3:
            data[i:i] = bytes(r.randrange(256) for _ in range(r.randint(1, 8)))
        else:
            j = r.randrange(len(data))
            data[i:i] = data[j:j + r.randint(1, 64)]
    return bytes(data)


def mutate_archive(r: random.Random, data: bytes) -> bytes:
    """A saved model with its config and/or weights mutated, repacked, maybe damaged."""
    import io
    import zipfile
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    if r.random() < 0.7:
        members["config.json"] = json.dumps(mutate_json(r, json.loads(members["config.json"])))
    if r.random() < 0.4:
        members["model.weights.npz"] = mutate_bytes(r, members["model.weights.npz"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, member in members.items():
            if r.random() > 0.05:  # now and then a member goes missing
                archive.writestr(name, member)
    out = buffer.getvalue()
    return mutate_bytes(r, out) if r.random() < 0.2 else out


def _write(tmp_path, data, name="input.bin") -> str:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    return str(path)


_seeded = st.tuples(st.integers(0, 1), st.randoms(use_true_random=False))


# -- the six loaders ------------------------------------------------------------------------

@FUZZ
@given(case=_seeded)
def test_fuzz_model_from_json(seeds, case):
    which, r = case
    doc = mutate_json(r, json.loads(seeds["model_json"][which]))
    _check(model_from_json, json.dumps(doc))


@FUZZ
@given(case=_seeded)
def test_fuzz_from_json(seeds, case):
    which, r = case
    doc = mutate_json(r, json.loads(seeds["graph_json"][which]))
    _check(ir.from_json, json.dumps(doc))


@FUZZ
@given(case=_seeded)
def test_fuzz_parse(seeds, case):
    which, r = case
    text = mutate_bytes(r, seeds["printed"][which].encode()).decode("utf-8", "replace")
    _check(ir.parse, text)


@FUZZ
@given(case=_seeded)
def test_fuzz_load_model(seeds, tmp_path_factory, case):
    which, r = case
    path = _write(tmp_path_factory.mktemp("f"), mutate_archive(r, seeds["archive"][which]),
                  "m.symkb")
    _check(load_model, path)


@FUZZ
@given(case=_seeded, kind=st.sampled_from(["archive", "model_json", "graph_json", "printed"]))
def test_fuzz_inspect(seeds, tmp_path_factory, case, kind):
    which, r = case
    seed = seeds[kind][which]
    if kind == "archive":
        data = mutate_archive(r, seed)
    elif kind == "printed" or r.random() < 0.3:
        data = mutate_bytes(r, seed.encode())
    else:
        data = json.dumps(mutate_json(r, json.loads(seed)))
    _check(load_any, _write(tmp_path_factory.mktemp("f"), data))


def _mutate_nx(r: random.Random, G):
    """A networkx layout with node data, edges or graph data damaged."""
    G = G.copy()
    for _ in range(r.randint(1, 3)):
        nodes = list(G.nodes)
        action = r.randrange(6)
        key = r.choice(nodes)
        data = G.nodes[key]
        if action == 0 and data:
            data[r.choice(sorted(data))] = _atom(r)
        elif action == 1 and data:
            del data[r.choice(sorted(data))]
        elif action == 2:
            G.add_edge(key, r.choice(nodes), key=r.randrange(3), operand=_atom(r),
                       output=r.choice([0, 1, -1, "x"]))
        elif action == 3 and G.number_of_edges():
            u, v, k = r.choice(list(G.edges(keys=True)))
            G.remove_edge(u, v, k)
        elif action == 4:
            G.remove_node(key)
        else:
            G.graph[r.choice(["inputs", "outputs", "name"])] = _atom(r)
    return G


@FUZZ
@given(case=_seeded)
def test_fuzz_from_networkx(seeds, case):
    which, r = case
    _check(ir.from_networkx, _mutate_nx(r, ir.to_networkx(seeds["graph"][which])))


# -- random input ---------------------------------------------------------------------------

@FUZZ
@given(data=st.binary(max_size=3000), text=st.text(max_size=300))
def test_fuzz_random_input_to_every_loader(tmp_path_factory, data, text):
    for payload in (data, text):
        _check(model_from_json, payload)
        _check(ir.from_json, payload)
    _check(ir.parse, text)
    folder = tmp_path_factory.mktemp("r")
    for name, payload in (("a.symkb", data), ("b.bin", data), ("c.txt", text)):
        path = _write(folder, payload, name)
        _check(load_model, path)
        _check(load_any, path)


@FUZZ
@given(node=st.dictionaries(st.sampled_from(_KEYS + ["types", "index", "bodies"]),
                            st.sampled_from(_ATOMS), max_size=5),
       name=st.sampled_from(_ATOMS))
def test_fuzz_random_networkx_graphs(node, name):
    import networkx as nx
    G = nx.MultiDiGraph(name=name, inputs=["0"], outputs=[("0", 0)])
    G.add_node("0", **node)
    _check(ir.from_networkx, G)


def test_the_mutations_produce_loadable_and_refused_examples(seeds):
    # the fuzzer is only worth its time if mutated files are sometimes still valid and
    # sometimes refused: both outcomes occur over a few seeds
    outcomes = set()
    for seed in range(30):
        doc = mutate_json(random.Random(seed), json.loads(seeds["model_json"][1]))
        try:
            model_from_json(json.dumps(doc))
            outcomes.add("loaded")
        except FileFormatError:
            outcomes.add("refused")
    assert outcomes == {"loaded", "refused"}


# -- Keras files (tf_keras's .keras archive and legacy .h5, tests/goldens/keras_files) -----

KERAS_GOLDENS = os.path.join(os.path.dirname(__file__), "goldens", "keras_files")


def mutate_keras_archive(r: random.Random, data: bytes) -> bytes:
    """A tf_keras .keras archive with its config and/or weights file mutated."""
    import io
    import zipfile
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    if r.random() < 0.6:
        members["config.json"] = json.dumps(mutate_json(r, json.loads(members["config.json"])))
    if r.random() < 0.5:
        members["model.weights.h5"] = mutate_bytes(r, members["model.weights.h5"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, member in members.items():
            if r.random() > 0.05:
                archive.writestr(name, member)
    return buffer.getvalue()


@FUZZ
@given(r=st.randoms(use_true_random=False), name=st.sampled_from(["lstm", "dense_stack"]),
       kind=st.sampled_from([".tfk.keras", ".tfk.h5"]))
def test_fuzz_keras_files(tmp_path_factory, r, name, kind):
    pytest.importorskip("h5py")
    with open(os.path.join(KERAS_GOLDENS, name + kind), "rb") as f:
        data = f.read()
    data = mutate_keras_archive(r, data) if kind.endswith(".keras") else mutate_bytes(r, data)
    _check(load_model, _write(tmp_path_factory.mktemp("k"), data, "m" + kind))
