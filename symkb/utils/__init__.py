"""Utilities around models and graphs (tf_keras.utils names)."""
from .vis_utils import GraphvizNotFoundError, model_to_dot, plot_model

__all__ = ["plot_model", "model_to_dot", "GraphvizNotFoundError"]
