"""The functional Model: a graph between Input tensors and layer outputs.

``Model(inputs, outputs)`` keeps the closed IR graph (``model.graph``) and the
layers that made it, found through each tensor's call history. Calling the
model on new KerasTensors replays its graph on them; calling it on arrays (or
``predict``) runs the compiled graph. Weights are the layers' Variables, read
at call time, so ``set_weights`` never recompiles.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import Graph, KerasTensor, replay
from ..ir.variable import checked_value
from ..layers.base import Layer, history
from ..layers.core import InputLayer
from ..backend.nest import flatten, map_structure, pack_as
from ..backend.session import to_snake_case, unique_object_name
from .config import class_name_of, functional_config, functional_from_config
from .train_api import Trainable
from .predicting import predict, predict_on_batch
from .saving import model_to_json, save_model
from .summary import summarize
from .weights_io import load_weights, save_weights


class Model(Trainable, Layer):
    """A functional model (see the module docstring)."""

    # tf_keras's names for a functional model in a config entry
    _config_module = "tf_keras.src.engine.functional"
    _config_registered_name = "Functional"

    @classmethod
    def _config_class_name(cls) -> str:
        return "Functional" if cls.__name__ == "Model" else cls.__name__

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        if inputs is None or outputs is None:
            raise ValueError("Model: give both `inputs` and `outputs` (symkb builds models "
                             "from the functional API or Sequential; subclassed models are not "
                             "supported)")
        super().__init__(name=name or _default_name(type(self)), trainable=trainable, **kwargs)
        self._autocast = False  # a model's layers cast their own inputs (tf_keras)
        self._nested_inputs, self._nested_outputs = inputs, outputs
        self.inputs, self.outputs = flatten(inputs), flatten(outputs)
        for kind, seq in (("inputs", self.inputs), ("outputs", self.outputs)):
            for i, t in enumerate(seq):
                if not isinstance(t, KerasTensor):
                    raise TypeError(f"Model {self.name!r}: {kind}[{i}] must be a KerasTensor "
                                    f"(from Input or a layer), received {type(t).__name__}")
        self.graph = Graph(self.inputs, self.outputs, name=self.name)
        self._layers, self._calls, self._records = _collect_layers(self.inputs, self.outputs)
        self._build_input_shape = map_structure(lambda t: tuple(t.shape), inputs)
        self.built = True
        self._predict_fn = None
        self._training_call_fn = None

    # ---------------------------------------------------------- connectivity
    def _built_io(self, nested):
        if nested is None:
            raise AttributeError(f"Model {self.name!r} has not yet been built: its inputs are "
                                 "unknown until it is called on data or given an input shape.")
        return nested

    @property
    def input(self):
        """The model's input tensor (a list of them for several inputs)."""
        return self._built_io(self._nested_inputs)

    @property
    def output(self):
        """The model's output tensor (a list of them for several outputs)."""
        return self._built_io(self._nested_outputs)

    @property
    def input_shape(self):
        """The shape of the model's input (a list of shapes for several inputs)."""
        return map_structure(lambda t: tuple(t.shape), self.input)

    @property
    def output_shape(self):
        """The shape of the model's output (a list of shapes for several outputs)."""
        return map_structure(lambda t: tuple(t.shape), self.output)

    @property
    def input_names(self) -> list:
        """The names of the model's input layers."""
        self._built_io(self._nested_inputs)
        return [self._records[t].layer.name if t in self._records else t.name
                for t in self.inputs]

    @property
    def output_names(self) -> list:
        """The names of the layers that make the model's outputs."""
        self._built_io(self._nested_outputs)
        return [self._records[t].layer.name if t in self._records else t.name
                for t in self.outputs]

    # ---------------------------------------------------------------- layers
    @property
    def layers(self) -> list:
        """The model's layers, in tf_keras's order."""
        return list(self._layers)

    def _tracked_layers(self) -> list:
        return self.layers

    @property
    def updates(self) -> list:
        """The ``(variable, value)`` updates its layers' training calls recorded."""
        return [u for layer in self.layers for u in layer.updates]

    def get_layer(self, name=None, index=None):
        """The layer called ``name``, or at position ``index`` of ``model.layers``."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in self.layers]}.")

    def _unique_weights(self, attr) -> list:
        seen, out = set(), []
        for layer in self._layers:
            for w in getattr(layer, attr):
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def trainable_weights(self) -> list:
        return self._unique_weights("trainable_weights") if self.trainable else []

    @property
    def non_trainable_weights(self) -> list:
        if not self.trainable:
            return self._unique_weights("weights")
        return self._unique_weights("non_trainable_weights")

    @property
    def weights(self) -> list:
        # tf_keras orders a model's weights by layer, each layer's own order
        return self._unique_weights("weights")

    def get_weights(self) -> list:
        """The values of ``model.weights`` as numpy arrays, in tf_keras's order."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Set ``model.weights`` from arrays in ``get_weights``'s order (shapes checked)."""
        params, weights = self.weights, list(weights)
        if len(params) != len(weights):
            raise ValueError(f"Model {self.name!r} expects {len(params)} weight arrays, "
                             f"received {len(weights)}")
        checked = []
        for p, w in zip(params, weights):
            w = checked_value(w, p.dtype, f"Model {self.name!r}: weight {p.name}")
            if tuple(p.shape) != tuple(w.shape):
                raise ValueError(f"Model {self.name!r}: weight {p.name} has shape "
                                 f"{tuple(p.shape)}, received an array of shape {w.shape}")
            checked.append(w)
        for p, w in zip(params, checked):   # all checked first: a refusal assigns nothing
            p.assign(w)

    # ----------------------------------------------------------------- calls
    def call(self, inputs, training=None, mask=None):
        from .training_forward import call_in_training, training_forward
        leaves = flatten(inputs)
        if any(isinstance(x, KerasTensor) for x in leaves):
            outs = training_forward(self, leaves)[0] if training else replay(self.graph, leaves)
        else:
            outs = call_in_training(self, leaves) if training else None
            if outs is None:
                outs = self._compiled()(*leaves)
                outs = [outs] if len(self.outputs) == 1 else outs
        return pack_as(self._nested_outputs, outs)

    def _compiled(self):
        if self._predict_fn is None:
            from ..lower import compile_graph
            self._predict_fn = compile_graph(self.graph, "auto", single_output=True
                                             if len(self.outputs) == 1 else False,
                                             name=self.name)
        return self._predict_fn

    def _ensure_built(self, data) -> None:
        """Build from the first data seen (a functional model is built already)."""

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None,
                max_queue_size=10, workers=1, use_multiprocessing=False):
        """Run the compiled graph on arrays, in batches (tf_keras semantics).

        Args:
            x: one array, a list of arrays for several inputs, or a dict keyed
                by the input names.
            batch_size: rows per compiled call; 32 by default (with ``steps``
                and no ``batch_size``: ``ceil(rows / steps)``, as tf_keras).
            verbose: ``"auto"`` (= 1, as tf_keras), 0 (silent), 1 (progress
                bar) or 2 (one line at the end).
            steps: the number of batches to run (``None`` or -1: all).
            callbacks: not supported (symkb has no callbacks): must be None.
            max_queue_size, workers, use_multiprocessing: accepted for
                tf_keras compatibility; they only concern generator inputs,
                which symkb does not take.

        Returns:
            The outputs' values: one array, or a list for several outputs.
        """
        return predict(self, x, batch_size=batch_size, verbose=verbose, steps=steps,
                       callbacks=callbacks)

    def predict_on_batch(self, x):
        """The outputs for ``x`` (all rows at once, one compiled call, no bar)."""
        return predict_on_batch(self, x)

    def _compiled_announced(self, verbose: int):
        """:meth:`_compiled`, saying so on stderr when ``verbose`` and it compiles now
        (``symkb/lower/announce.py``; stdout carries the progress bar, as in tf_keras)."""
        if not verbose or self._predict_fn is not None:
            return self._compiled()
        from ..lower.announce import announced
        return announced(self._compiled, self.name, "auto",
                         " (the first predict; later calls reuse it)")

    def __call__(self, inputs, *args, **kwargs):
        return super().__call__(inputs, *args, **kwargs)

    def _maybe_build(self, inputs):
        pass

    # --------------------------------------------------------------- summary
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print the Keras-style summary table (tf_keras's text).

        Args:
            line_length: the table's width (default 65, or 98 with the
                ``Connected to`` column).
            positions: the columns' right edges (fractions or positions).
            print_fn: called with each line (default ``print``).
            expand_nested: also list the layers of nested models, boxed.
            show_trainable: add a ``Trainable`` column.
            layer_range: two layer names or patterns, the first and last
                layer to list (``re.match``).
        """
        summarize(self, line_length, positions, print_fn, expand_nested=expand_nested,
                  show_trainable=show_trainable, layer_range=layer_range)

    def _summary_rows(self) -> list:
        rows = []
        for layer in self._layers:
            calls = [c for c in self._calls if c.layer is layer]
            if isinstance(layer, InputLayer):
                shape = [tuple(layer.output.shape)]
            else:
                shape = self._output_shape(calls) if _one_output_shape(layer) else "multiple"
            connected = []
            for c in calls:
                for t in flatten(c.inputs):
                    src = self._records.get(t)
                    if src is not None:
                        connected.append(f"{src.layer.name}[{self.node_index(t)}][{src.index}]")
            rows.append({"name": layer.name, "class_name": class_name_of(layer),
                         "shape": shape, "params": layer.count_params(), "connected": connected,
                         "layer": layer})
        return rows

    def _output_shape(self, calls):
        """A layer's output shape as tf_keras shows it: a tuple, or (nested) lists."""
        if not calls:
            return ()

        def as_lists(s):
            if isinstance(s, dict):
                return [as_lists(s[k]) for k in sorted(s)]
            if isinstance(s, list) or (isinstance(s, tuple) and s and
                                       not all(d is None or isinstance(d, int) for d in s)):
                return [as_lists(v) for v in s]
            return s
        return as_lists(self._records[calls[0].outputs[0]].output_shapes)

    def _summary_has_connections(self) -> bool:
        """False for chain-like models, which tf_keras prints without 'Connected to'."""
        if len(self.inputs) != 1:
            return True
        seen, produced_by_previous = set(), set(self.inputs)
        for call in self._calls:
            ins = flatten(call.inputs)
            if id(call.layer) in seen or len(ins) != 1 or ins[0] not in produced_by_previous:
                return True
            seen.add(id(call.layer))
            produced_by_previous = set(call.outputs)
        return False

    def node_index(self, tensor) -> int:
        """Which call (within this model) of its layer made ``tensor``."""
        record = self._records[tensor]
        calls = [c for c in self._calls if c.layer is record.layer]
        for i, c in enumerate(calls):
            if any(o is tensor for o in c.outputs):
                return i
        return 0

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict:
        """The model's layers and their connections as plain data (``from_config``)."""
        return functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return functional_from_config(config, custom_objects)

    def count_params(self) -> int:
        """The number of scalars in the model's weights."""
        return int(sum(np.prod(w.shape, dtype=np.int64) for w in self.weights))

    # ---------------------------------------------------------------- saving
    def to_json(self, **kwargs) -> str:
        """The architecture as JSON (tf_keras's format); see ``symkb.models.model_from_json``."""
        return model_to_json(self, **kwargs)

    def save(self, filepath, overwrite=True, save_format=None, **kwargs) -> None:
        """Architecture and weights to ``filepath``: tf_keras's ``.keras``
        archive or legacy HDF5 model under those names (``.keras``, ``.h5``,
        ``.hdf5``), symkb's own format (a zip archive, or into an existing
        folder) under any other; see ``symkb.models.save_model``.
        ``save_format`` is refused: the name chooses the format."""
        if save_format is not None:
            raise ValueError("model.save: save_format is not taken: the file name chooses "
                             "the format (a name ending in '.keras' or '.h5' gets tf_keras's, "
                             "any other name symkb's own). Received: "
                             f"save_format={save_format!r}")
        save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True) -> None:
        """The weights alone to ``filepath``; see ``symkb.models.weights_io``."""
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False) -> None:
        """Weights written by ``save_weights`` (or tf_keras's ``.weights.h5``)."""
        load_weights(self, filepath, skip_mismatch=skip_mismatch)


def _one_output_shape(layer) -> bool:
    """Whether all of ``layer``'s calls give the same output shapes (tf_keras
    shows ``multiple`` in a summary otherwise)."""
    try:
        layer._shape_of_calls(1, "output")
    except AttributeError:
        return not layer._inbound
    return True


def _default_name(cls) -> str:
    return unique_object_name(to_snake_case(cls.__name__))


@dataclass
class LayerCall:
    """One call of a layer inside a model: its inputs and the outputs it made."""

    layer: Layer
    inputs: object
    kwargs: dict
    outputs: list


def _collect_layers(inputs, outputs):
    """The layers between ``inputs`` and ``outputs``, their calls in topological
    order (Input layers first, in the order of ``inputs``), and the call record
    of every tensor reached (the model keeps its own copy, so it outlives
    ``clear_session``)."""
    from ..layers.op_lambda import wrap_operator_tensors
    wrap_operator_tensors(inputs, outputs)  # ``d + x`` and the like: TFOpLambda layers
    input_set = set(inputs)
    records: dict = {}
    calls: dict = {}
    order: list = []
    state: dict = {}
    stack = [(t, False) for t in reversed(outputs)]
    while stack:
        t, expanded = stack.pop()
        record = history(t)
        if record is None:
            if t in input_set:
                continue
            raise ValueError(
                f"Model: the outputs depend on {t.name} (op {t.node.op!r}), which was not made "
                "by a layer or an Input; Python's +, -, *, / and unary - on tensors become "
                "TFOpLambda layers, other computations need a layer (a Lambda, say), or make "
                "that tensor a model input")
        records[t] = record
        key = _call_key(record)
        if expanded:
            if key not in calls:
                calls[key] = LayerCall(record.layer, record.inputs, record.kwargs, [])
                order.append(key)
            if all(o is not t for o in calls[key].outputs):
                calls[key].outputs.append(t)
            continue
        if state.get(t):
            continue
        state[t] = True
        stack.append((t, True))
        if t in input_set:
            continue
        for src in reversed(flatten(record.inputs)):
            if isinstance(src, KerasTensor) and not state.get(src):
                stack.append((src, False))
    call_list = [calls[k] for k in order]
    for c in call_list:
        c.outputs.sort(key=lambda t: records[t].index)
    layers = _layers_by_depth(inputs, outputs, records)
    _check_unique_names(layers)
    calls_out = [c for c in call_list if not isinstance(c.layer, InputLayer)]
    return layers, calls_out, records


def _check_unique_names(layers) -> None:
    """Refuse a model whose layers share a name (saved configs and weights
    refer to layers by name), as tf_keras does when the model is built."""
    counts: dict = {}
    for layer in layers:
        counts[layer.name] = counts.get(layer.name, 0) + 1
    for name, count in counts.items():
        if count != 1:
            raise ValueError(f'The name "{name}" is used {count} times in the model. All '
                             "layer names should be unique.")


def _call_key(record) -> tuple:
    """One call of a layer (its outputs share their ``CallRecord``'s inputs)."""
    return (id(record.layer), id(record.inputs))


def _call_inputs(record) -> list:
    """The tensors a call read: its inputs, then tensors among its keyword
    arguments (``initial_state``, ...), keys in sorted order (tf.nest's)."""
    extra = [record.kwargs[k] for k in sorted(record.kwargs) if k != "mask"]
    return [t for t in flatten([record.inputs, extra]) if isinstance(t, KerasTensor)]


def _layers_by_depth(inputs, outputs, records) -> list:
    """The model's layers in tf_keras's order (which is also its weight order):
    by decreasing depth (the longest path from the call to an output), ties
    in the order a depth-first walk from the outputs first meets the layers;
    inputs that reach no output come first among the depth-0 layers (as tf_keras
    orders them)."""
    input_set = set(inputs)

    def node(t):
        return _call_key(records[t])

    def parents(t):
        if t in input_set:
            return []
        return [src for src in _call_inputs(records[t]) if src in records]

    layer_of = {}
    layer_index: dict = {}
    post_order = []          # calls, inputs first (tf_keras's nodes_in_decreasing_depth)
    node_parents: dict = {}
    done = set()
    for out in outputs:
        if out not in records or node(out) in done:
            continue
        stack = [(out, iter(parents(out)))]
        layer_index.setdefault(id(records[out].layer), len(layer_index))
        started = {node(out)}
        while stack:
            t, pending = stack[-1]
            src = next(pending, None)
            if src is None:
                stack.pop()
                key = node(t)
                done.add(key)
                layer_of[key] = records[t].layer
                node_parents[key] = [node(p) for p in parents(t)]
                post_order.append(key)
                continue
            key = node(src)
            if key in done or key in started:
                continue
            started.add(key)
            layer_index.setdefault(id(records[src].layer), len(layer_index))
            stack.append((src, iter(parents(src))))
    node_depth: dict = {}
    layer_depth: dict = {}
    for key in reversed(post_order):
        depth = node_depth.setdefault(key, 0)
        lid = id(layer_of[key])
        depth = max(depth, layer_depth.get(lid, 0))
        layer_depth[lid] = depth
        node_depth[key] = depth
        for parent in node_parents[key]:
            node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    by_id = {id(layer): layer for layer in layer_of.values()}
    for t in inputs:
        r = records.get(t)
        if r is not None and isinstance(r.layer, InputLayer) and id(r.layer) not in layer_depth:
            by_id[id(r.layer)] = r.layer
            layer_depth[id(r.layer)] = 0
            layer_index[id(r.layer)] = -1
    order = sorted(layer_depth, key=lambda lid: (-layer_depth[lid], layer_index[lid]))
    return [by_id[lid] for lid in order]
