#!/usr/bin/env python
"""Generate ``tests/goldens/mha_axes.{json,npz}``: MultiHeadAttention on inputs
of rank 4 and 5 (``attention_axes`` by default, one axis, two axes, with an
``attention_mask``) from REAL tf_keras.

Run with a Python that has tensorflow-cpu and tf-keras (never a test
dependency of symkb)::

    /opt/tfenv/bin/python tools/goldens_mha_axes.py [--out DIR]

Each case records the layer's constructor keywords, the inputs, the weights
(uniform values, ``get_weights()`` order), the mask, the outputs (the layer's
output and, asked for, its attention scores) and ``get_config()``'s
``attention_axes``.
"""
import argparse
import json
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CUDA_VISIBLE_DEVICES"] = ""

import numpy as np  # noqa: E402
import tf_keras as keras  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (id, constructor keywords, query shape, value shape, key shape or None,
#  attention mask shape or None, return_attention_scores)
CASES = [
    ("r4_default", {"num_heads": 2, "key_dim": 3}, (2, 3, 4, 5), (2, 2, 3, 5), None, None, True),
    ("r4_axis2", {"num_heads": 2, "key_dim": 3, "value_dim": 4, "output_shape": 6,
                  "attention_axes": 2}, (2, 3, 4, 5), (2, 3, 2, 5), None, None, True),
    ("r4_axis1_key", {"num_heads": 3, "key_dim": 2, "use_bias": False, "attention_axes": [1]},
     (1, 4, 2, 3), (1, 5, 2, 6), (1, 5, 2, 4), None, False),
    ("r5_axes13", {"num_heads": 3, "key_dim": 2, "attention_axes": (1, 3)},
     (1, 2, 3, 4, 5), (1, 3, 3, 2, 5), None, None, False),
    ("r4_mask", {"num_heads": 2, "key_dim": 3, "attention_axes": (2,)},
     (2, 3, 4, 5), (2, 3, 5, 5), None, (2, 4, 5), True),
    ("r4_mask_full", {"num_heads": 2, "key_dim": 2}, (2, 2, 3, 4), (2, 3, 2, 4), None,
     (2, 2, 3, 3, 2), False),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "goldens"))
    args = parser.parse_args()
    arrays, meta = {}, {}
    for k, (cid, kwargs, qs, vs, ks, ms, scores) in enumerate(CASES):
        rng = np.random.default_rng(100 + k)
        x = {"query": rng.normal(size=qs).astype("float32"),
             "value": rng.normal(size=vs).astype("float32")}
        if ks is not None:
            x["key"] = rng.normal(size=ks).astype("float32")
        call = dict(x)
        if ms is not None:
            call["attention_mask"] = rng.random(ms) > 0.3
            call["attention_mask"][..., 0] = True  # no row masked whole
        layer = keras.layers.MultiHeadAttention(name="mha", **kwargs)
        layer(**call)
        weights = [rng.uniform(-0.6, 0.6, size=w.shape).astype("float32")
                   for w in layer.get_weights()]
        layer.set_weights(weights)
        out = layer(**call, return_attention_scores=scores)
        outs = list(out) if scores else [out]
        for name, value in call.items():
            arrays[f"{cid}/{name}"] = np.asarray(value)
        for i, w in enumerate(weights):
            arrays[f"{cid}/w{i}"] = w
        for i, o in enumerate(outs):
            arrays[f"{cid}/out{i}"] = np.asarray(o)
        axes = layer.get_config()["attention_axes"]
        meta[cid] = {"kwargs": kwargs, "inputs": sorted(call), "weights": len(weights),
                     "outputs": len(outs), "scores": scores,
                     "attention_axes": None if axes is None else [int(a) for a in axes],
                     "params": int(layer.count_params())}
    os.makedirs(args.out, exist_ok=True)
    np.savez_compressed(os.path.join(args.out, "mha_axes.npz"), **arrays)
    with open(os.path.join(args.out, "mha_axes.json"), "w") as f:
        json.dump({"tf_keras": keras.__version__, "cases": meta}, f, indent=1, sort_keys=True)
    print(f"{len(meta)} cases written to {args.out}")


if __name__ == "__main__":
    main()
