"""An unusable cache folder falls back to a temporary one, with a warning,
instead of failing the compile."""
from __future__ import annotations

import os

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir
from symkb.lower import cache, compile_graph


def _compile_and_check(k: float):
    x = K.placeholder(shape=(None, 2), name="x")
    executable = compile_graph(ir.Graph([x], [K.exp(x) * k], name="fallback_probe"), "cpu")
    a = np.array([[0.0, 1.0], [-1.0, 2.0]], np.float32)
    out = executable(a)
    out = out[0] if isinstance(out, list) else out
    np.testing.assert_allclose(out, np.exp(a) * np.float32(k), rtol=1e-6)
    return executable


def test_a_file_in_the_way(tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv(cache.ENV_VAR, str(blocker))
    with pytest.warns(RuntimeWarning, match="not_a_folder.*cannot be used.*temporary folder"):
        executable = _compile_and_check(3.0)
    assert not str(executable.path).startswith(str(blocker))
    assert executable.path.is_file()
    assert blocker.read_text() == "a file where the cache folder should be"
    # the next compile goes straight to the same temporary folder, without a new warning
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = _compile_and_check(4.0)
    assert again.path.parent == executable.path.parent


def test_a_file_in_the_way_of_a_parent(tmp_path, monkeypatch):
    (tmp_path / "blocker").write_text("")
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "blocker" / "symkb"))
    with pytest.warns(RuntimeWarning, match="cannot be used"):
        _compile_and_check(5.0)


def test_a_folder_that_refuses_writes(tmp_path, monkeypatch):
    """A write error (no permission, a read-only file system) in the folder."""
    folder = tmp_path / "readonly"
    folder.mkdir()
    monkeypatch.setenv(cache.ENV_VAR, str(folder))
    real = cache.write_atomic

    def refuse(path, data):
        if os.path.dirname(os.path.abspath(path)) == str(folder):
            raise PermissionError(13, "Permission denied", str(path))
        real(path, data)
    monkeypatch.setattr(cache, "write_atomic", refuse)
    with pytest.warns(RuntimeWarning, match="PermissionError"):
        executable = _compile_and_check(6.0)
    assert executable.path.parent != folder and list(folder.iterdir()) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes to folders whatever their permissions")
def test_a_folder_without_write_permission(tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        monkeypatch.setenv(cache.ENV_VAR, str(folder))
        with pytest.warns(RuntimeWarning, match="cannot be used"):
            _compile_and_check(7.0)
    finally:
        folder.chmod(0o700)
