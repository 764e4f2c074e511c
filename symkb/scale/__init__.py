"""Running compiled models over data larger than one machine, on Dask.

* :func:`predict` maps a model over dask arrays chunked along the batch axis
  and returns lazy dask arrays (``model.predict`` does the same when given a
  dask array).
* A model travels to the workers as a :class:`Payload`: its graph as JSON and
  its weights as arrays, never pickled code; each worker process compiles it
  once (:func:`worker_stats` says how often it did).

dask (and ``distributed`` for clusters) is the optional extra ``symkb[dask]``;
this package imports it only when called. ``docs/scale-out.md`` is the guide.
"""
from __future__ import annotations

from .payload import Payload, payload_of
from .payload import stats as worker_stats
from .extra import require_dask
from .arrays import predict, is_dask_array, has_dask_arrays
from ..lower import executable as _executable



def _call_on_collections(executable, x):
    return predict(executable, x, target=executable.target)


_executable.COLLECTIONS = ("dask.",)
_executable.COLLECTION_CALL[0] = _call_on_collections

__all__ = ["require_dask", "Payload", "payload_of", "predict", "worker_stats", "is_dask_array",
           "has_dask_arrays"]

