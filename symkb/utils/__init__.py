"""Utilities around models and graphs (tf_keras.utils names)."""
from .graphviz import GraphvizNotFoundError
from .vis_utils import model_to_dot, plot_model

__all__ = ["plot_model", "model_to_dot", "GraphvizNotFoundError"]
