"""Weight initialisers against tf_keras (tests/goldens/initializers.json, written
by tools/goldens_initializers.py): every name and alias, configs, exact values
of the deterministic ones, the statistics of the random ones, Orthogonal's
Gram matrices and the errors."""
import json
import math
import pathlib

import numpy as np
import pytest

from symkb.layers import initializers as I

GOLDEN = json.loads((pathlib.Path(__file__).parent / "goldens" /
                     "initializers.json").read_text())
NS = {name: getattr(I, name) for name in (
    "Zeros", "Ones", "Constant", "RandomUniform", "RandomNormal", "TruncatedNormal",
    "VarianceScaling", "Orthogonal", "Identity", "GlorotUniform", "GlorotNormal",
    "LecunUniform", "LecunNormal", "HeUniform", "HeNormal", "get")}
# tf_keras also lists its abstract base class under these two names; it makes
# no values, so symkb does not accept it as an initialiser.
ABSTRACT = {"Initializer", "initializer"}
ALIASES = sorted(set(GOLDEN["aliases"]) - ABSTRACT)


def test_every_tf_keras_name_is_known_and_nothing_more():
    assert sorted(I.names()) == ALIASES


@pytest.mark.parametrize("name", ALIASES)
def test_alias_gives_tf_keras_class_and_config(name):
    expected = GOLDEN["aliases"][name]
    init = I.get(name)
    assert type(init).__name__ == expected["class_name"]
    assert init.get_config() == expected["config"]


def test_abstract_base_is_refused_with_the_name():
    with pytest.raises(ValueError, match="Unknown initializer: 'Initializer'"):
        I.get("Initializer")


@pytest.mark.parametrize("case", GOLDEN["configs"], ids=[c["code"] for c in GOLDEN["configs"]])
def test_serialize_and_round_trip_match_tf_keras(case):
    init = eval(case["code"], dict(NS))
    ser = I.serialize(init)
    assert json.loads(json.dumps(ser)) == case["serialized"]
    back = I.get(case["serialized"])
    assert type(back) is type(init)
    assert json.loads(json.dumps(back.get_config())) == case["round_trip_config"]


@pytest.mark.parametrize("case", GOLDEN["values"],
                         ids=[f"{c['code']}-{c['shape']}-{c['dtype']}" for c in GOLDEN["values"]])
def test_deterministic_values(case):
    value = eval(case["code"], dict(NS))(tuple(case["shape"]), case["dtype"])
    assert value.dtype == np.dtype(case["result_dtype"])
    np.testing.assert_array_equal(value, np.array(case["value"], dtype=case["dtype"]))


def _formula(code, shape):
    """(mean, std, bound) of the draws by tf_keras's formulas; bound is the
    largest |value - mean| allowed (None: unbounded)."""
    init = eval(code, dict(NS))
    if isinstance(init, I.TruncatedNormal):
        # a unit normal truncated at +-2 has std 0.8796...
        return init.mean, init.stddev * 0.87962566103423978, 2 * init.stddev
    if isinstance(init, I.RandomNormal):
        return init.mean, init.stddev, None
    if isinstance(init, I.RandomUniform):
        width = init.maxval - init.minval
        return (init.minval + init.maxval) / 2, width / math.sqrt(12), width / 2
    if isinstance(init, I.Orthogonal):
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        return 0.0, init.gain / math.sqrt(max(rows, cols)), None
    fan_in, fan_out = I.compute_fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[init.mode]
    var = init.scale / max(1.0, n)
    if init.distribution == "uniform":
        return 0.0, math.sqrt(var), math.sqrt(3 * var)
    if init.distribution == "untruncated_normal":
        return 0.0, math.sqrt(var), None
    return 0.0, math.sqrt(var), 2 * math.sqrt(var) / 0.87962566103423978


@pytest.mark.parametrize("case", GOLDEN["stats"],
                         ids=[f"{c['code']}-{c['shape']}" for c in GOLDEN["stats"]])
def test_random_draws_follow_the_formula_like_tf_keras(case):
    shape = tuple(case["shape"])
    mean, std, bound = _formula(case["code"], shape)
    init = eval(case["code"], dict(NS))
    init.seed = 7
    value = init(shape, "float64").astype(np.float64)
    assert value.shape == shape
    if case["size"] == 1:   # a scalar: one draw, only its range can be checked
        assert bound is None or abs(float(value) - mean) <= bound
        return
    # both samples agree with the formula (tf's proves the formula is tf_keras's)
    n = case["size"]
    tol_mean = 6 * std / math.sqrt(n)
    for got_mean, got_std in ((value.mean(), value.std()), (case["mean"], case["std"])):
        assert abs(got_mean - mean) <= tol_mean
        assert abs(got_std - std) <= 0.02 * std
    if bound is not None:
        assert np.abs(value - mean).max() <= bound * (1 + 1e-9)
        assert abs(case["max"] - mean) <= bound * (1 + 1e-6)
        # the sample reaches close to the bound, as tf_keras's does
        assert np.abs(value - mean).max() >= 0.98 * bound


@pytest.mark.parametrize("case", GOLDEN["orthogonal"],
                         ids=[f"{c['code']}-{c['shape']}" for c in GOLDEN["orthogonal"]])
def test_orthogonal_gram_matrix(case):
    q = eval(case["code"], dict(NS))(tuple(case["shape"]), "float64")
    assert q.shape == tuple(case["shape"])
    flat = q.reshape(-1, case["shape"][-1])
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, np.array(case["gram"]), atol=1e-4)


def test_orthogonal_sign_fix_makes_r_diagonal_positive():
    q = I.Orthogonal(seed=3)((6, 4), "float64")
    _, r = np.linalg.qr(q)
    # q has orthonormal columns, so q = q @ I: its own QR is (+-q, +-I); the
    # sign convention shows in the draw: same seed, same numpy normal matrix
    a = np.random.default_rng(3).normal(0.0, 1.0, (6, 4))
    qa, ra = np.linalg.qr(a)
    np.testing.assert_allclose(q, qa * np.sign(np.diag(ra)), atol=1e-12)
    assert np.allclose(np.abs(np.diag(r)), 1.0)


def test_seeded_draws_repeat():
    for cls in (I.GlorotUniform, I.HeNormal, I.TruncatedNormal, I.Orthogonal):
        a, b = cls(seed=11)((4, 5)), cls(seed=11)((4, 5))
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("key", ["identity_rank3", "identity_rank1", "variance_scaling_scale"])
def test_errors_match_tf_keras(key):
    case = GOLDEN["errors"][key]
    assert case["raises"]
    with pytest.raises(ValueError) as info:
        eval(case["code"], dict(NS))
    assert str(info.value) == case["message"]


@pytest.mark.parametrize("key,received", [("variance_scaling_mode", "fan_x"),
                                          ("variance_scaling_distribution", "gamma"),
                                          ("unknown_name", "'not_an_initializer'")])
def test_errors_name_what_was_received(key, received):
    case = GOLDEN["errors"][key]
    assert case["raises"] and received in case["message"]
    with pytest.raises(ValueError) as info:
        eval(case["code"], dict(NS))
    # tf_keras's text up to the received value (its list of allowed values
    # prints a Python set, in hash order)
    head = case["message"].split(received)[0]
    assert str(info.value).startswith(head + received)


def test_orthogonal_needs_two_dimensions():
    with pytest.raises(ValueError, match=r"at least two-dimensional. Received: shape=\(3,\)"):
        I.Orthogonal()((3,))


def test_layer_configs_use_tf_keras_initializer_form():
    from symkb import layers
    config = layers.Dense(2, kernel_initializer="lecun_uniform").get_config()
    assert config["kernel_initializer"] == {
        "module": "keras.initializers", "class_name": "LecunUniform",
        "config": {"seed": None}, "registered_name": None}
    dense = layers.Dense(3, kernel_initializer="one", bias_initializer="normal")
    dense.build((None, 2))
    np.testing.assert_array_equal(dense.kernel.numpy(), np.ones((2, 3), np.float32))
