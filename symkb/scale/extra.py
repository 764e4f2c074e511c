"""The optional extra ``symkb[dask]``: imported when used, named when missing."""
from __future__ import annotations


def require_dask():
    """Import dask.array, or say which extra brings it."""
    try:
        import dask.array  # noqa: F401
    except ImportError as exc:
        raise ImportError("symkb.scale needs dask: pip install 'symkb[dask]' "
                          f"(dask[array] and distributed) ({exc})") from None
