"""ONNX model -> symkb graph (written next)."""


def load(path):
    raise NotImplementedError


def from_onnx(model):
    raise NotImplementedError
