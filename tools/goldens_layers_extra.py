#!/usr/bin/env python
"""Generate ``tests/goldens/layers_extra.{json,npz}``: the activation layers
(ReLU, LeakyReLU, ELU, ThresholdedReLU, PReLU, Softmax), Identity, Rescaling,
Normalization (given statistics and ``adapt``), UnitNormalization,
ActivityRegularization, AlphaDropout, SpatialDropout3D and the Dot merge
layer from REAL tf_keras.

Run with a Python that has tensorflow-cpu and tf-keras (never a test
dependency of symkb)::

    /opt/tfenv/bin/python tools/goldens_layers_extra.py [--out DIR]

``cases``: one layer each, made by ``code`` (a ``layers.X(...)`` expression)
and called by ``call`` (a snippet reading the ``layer``, the inputs ``x0``,
``x1`` and the mask ``m0``, assigning ``out``). Recorded: the config without
name/trainable/dtype, the weight shapes, the parameter count,
``compute_output_shape`` of the inputs with an unknown batch, the weights
(``<id>/w<k>``, uniform values), inputs (``<id>/x<i>``, values from -3 to 3
with exact zeros and the layer's thresholds among them), mask
(``<id>/m0``) and output (``<id>/out``). A case with ``adapt`` (the data's
shape) first adapts the layer on ``<id>/adapt`` (``adapt_batch``: its batch
size, default tf_keras's 32) and keeps the adapted weights.
"""
import argparse
import json
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CUDA_VISIBLE_DEVICES"] = ""

import numpy as np  # noqa: E402
import tf_keras as keras  # noqa: E402
from tf_keras import layers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ONE = "out = layer(x0)"
TWO = "out = layer([x0, x1])"

# (id, code, input shapes with the batch, call, mask shape or None)
CASES = [
    ("relu", "layers.ReLU()", [(2, 3, 4)], ONE, None),
    ("relu6", "layers.ReLU(max_value=6.0)", [(3, 5)], ONE, None),
    ("relu_all", "layers.ReLU(max_value=2.5, negative_slope=0.1, threshold=0.5)", [(3, 7)],
     ONE, None),
    ("leaky", "layers.LeakyReLU()", [(2, 6)], ONE, None),
    ("leaky_01", "layers.LeakyReLU(alpha=0.1)", [(2, 3, 4)], ONE, None),
    ("elu", "layers.ELU()", [(3, 5)], ONE, None),
    ("elu_half", "layers.ELU(alpha=0.5)", [(2, 2, 5)], ONE, None),
    ("thresholded", "layers.ThresholdedReLU(theta=0.7)", [(3, 6)], ONE, None),
    ("prelu", "layers.PReLU()", [(2, 3, 4)], ONE, None),
    ("prelu_shared", "layers.PReLU(shared_axes=[1, 2])", [(2, 3, 4, 5)], ONE, None),
    ("prelu_one", "layers.PReLU(alpha_initializer='ones', shared_axes=1, "
     "alpha_regularizer='l2', alpha_constraint='non_neg')", [(2, 4, 3)], ONE, None),
    ("softmax", "layers.Softmax()", [(2, 3, 5)], ONE, None),
    ("softmax_axis1", "layers.Softmax(axis=1)", [(2, 4, 3)], ONE, None),
    ("softmax_axes", "layers.Softmax(axis=[1, 2])", [(2, 3, 4)], ONE, None),
    ("softmax_mask", "layers.Softmax()", [(2, 3, 5)], "out = layer(x0, mask=m0)", (2, 3, 5)),
    ("identity", "layers.Identity()", [(2, 3)], ONE, None),
    ("rescaling", "layers.Rescaling(1.0 / 255)", [(2, 4, 4, 3)], ONE, None),
    ("rescaling_offset", "layers.Rescaling(2.0, offset=-1.0)", [(2, 5)], ONE, None),
    ("dot", "layers.Dot(axes=1)", [(3, 4), (3, 4)], TWO, None),
    ("dot_22", "layers.Dot(axes=(2, 2))", [(2, 3, 4), (2, 5, 4)], TWO, None),
    ("dot_12", "layers.Dot(axes=[1, 2])", [(2, 3, 4), (2, 5, 3)], TWO, None),
    ("dot_norm", "layers.Dot(axes=-1, normalize=True)", [(3, 6), (3, 6)], TWO, None),
    ("norm_given", "layers.Normalization(mean=[1.0, 2.0, -1.0], variance=[4.0, 0.25, 1.0])",
     [(3, 3)], ONE, None),
    ("norm_scalar_invert", "layers.Normalization(axis=None, mean=2.0, variance=9.0, "
     "invert=True)", [(2, 4)], ONE, None),
    ("norm_adapt", "layers.Normalization()", [(3, 4)], ONE, None, {"adapt": (70, 4)}),
    ("norm_adapt_axes", "layers.Normalization(axis=(1, 2))", [(2, 3, 2)], ONE, None,
     {"adapt": (50, 3, 2), "adapt_batch": 16}),
    ("norm_adapt_none", "layers.Normalization(axis=None)", [(2, 5)], ONE, None,
     {"adapt": (40, 5)}),
    ("unit", "layers.UnitNormalization()", [(3, 5)], ONE, None),
    ("unit_axes", "layers.UnitNormalization(axis=[1, 2])", [(2, 3, 4)], ONE, None),
    ("activity_reg", "layers.ActivityRegularization(l1=0.01, l2=0.1)", [(2, 3)], ONE, None),
    ("alpha_dropout", "layers.AlphaDropout(0.3)", [(2, 4)], ONE, None),
    ("spatial_dropout3d", "layers.SpatialDropout3D(0.4)", [(1, 2, 2, 2, 3)], ONE, None),
]


def _inputs(rng, shapes):
    xs = []
    for s in shapes:
        x = rng.uniform(-3, 3, size=s).astype("float32")
        flat = x.reshape(-1)
        flat[:4] = [0.0, 0.5, 0.7, 6.0][:flat.size]  # zeros and thresholds
        xs.append(x)
    return xs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "goldens"))
    args = parser.parse_args()
    arrays, cases = {}, []
    for k, (cid, code, shapes, call, mask, *more) in enumerate(CASES):
        opts = more[0] if more else {}
        rng = np.random.default_rng(200 + k)
        xs = _inputs(rng, shapes)
        ns = {f"x{i}": x for i, x in enumerate(xs)}
        if mask is not None:
            ns["m0"] = rng.random(mask) > 0.4
        layer = eval(code)
        if "adapt" in opts:
            data = (rng.normal(size=opts["adapt"]) * 3 + 1).astype("float32")
            arrays[f"{cid}/adapt"] = data
            layer.adapt(data, batch_size=opts.get("adapt_batch"))
        local = dict(ns, layer=layer)
        exec(call, {}, local)
        if "adapt" in opts:
            weights = layer.get_weights()
        else:
            weights = [rng.uniform(-0.8, 0.8, size=w.shape).astype("float32")
                       for w in layer.get_weights()]
            layer.set_weights(weights)
        local = dict(ns, layer=layer)
        exec(call, {}, local)
        config = layer.get_config()
        for key in ("name", "trainable", "dtype"):
            config.pop(key, None)
        shapes_none = [(None,) + tuple(s[1:]) for s in shapes]
        out_shape = layer.compute_output_shape(shapes_none if len(shapes) > 1
                                               else shapes_none[0])
        cases.append({"id": cid, "code": code, "call": call, "n_inputs": len(xs),
                      "mask": mask is not None, "adapt_batch": opts.get("adapt_batch"),
                      "adapt": "adapt" in opts,
                      "config": json.loads(json.dumps(config, default=float)),
                      "weight_shapes": [list(w.shape) for w in weights],
                      "params": int(layer.count_params()),
                      "output_shape": [d for d in out_shape]})
        for i, x in enumerate(xs):
            arrays[f"{cid}/x{i}"] = x
        if mask is not None:
            arrays[f"{cid}/m0"] = ns["m0"]
        for i, w in enumerate(weights):
            arrays[f"{cid}/w{i}"] = w
        arrays[f"{cid}/out"] = np.asarray(local["out"])
    os.makedirs(args.out, exist_ok=True)
    np.savez_compressed(os.path.join(args.out, "layers_extra.npz"), **arrays)
    with open(os.path.join(args.out, "layers_extra.json"), "w") as f:
        json.dump({"tf_keras": keras.__version__, "cases": cases}, f, indent=1)
    print(f"{len(cases)} cases written to {args.out}")


if __name__ == "__main__":
    main()
