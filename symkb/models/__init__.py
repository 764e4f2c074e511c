"""Models: Sequential and the functional Model."""
from .functional import Model  # noqa: F401
from .sequential import Sequential  # noqa: F401
from .saving import load_model, model_from_json, save_model  # noqa: F401
from .cloning import clone_model  # noqa: F401
from .many import fit_many  # noqa: F401  (several models as Dask tasks)
