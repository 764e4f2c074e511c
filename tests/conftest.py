"""Shared test set-up: one Numba cache folder inside the checkout for every test
process, so compiled kernels are reused across tests and runs."""
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))
os.environ.setdefault("SYMKB_CACHE_DIR", str(ROOT / ".symkb_cache"))
# no compiles in child processes (docs/compiler.md, "Two forms of a kernel"): each
# test compiles what it checks, once, in its own process; tests/test_tiers.py
# turns them on
os.environ.setdefault("SYMKB_CHILD_COMPILES", "0")

import pytest  # noqa: E402

# The CUDA kernels run on Numba's simulator, which must be switched on before
# numba is imported: they run in their own pytest process
# (NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/cuda), or on a real GPU with
# the simulator switched off explicitly (NUMBA_ENABLE_CUDASIM=0).
collect_ignore = [] if os.environ.get("NUMBA_ENABLE_CUDASIM") in ("0", "1") else ["cuda"]

from symkb import backend as K  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_session():
    """Each test starts with a clean session and default configuration."""
    K.clear_session()
    yield
    K.clear_session()
    K.set_floatx("float32")
    K.set_epsilon(1e-7)
    K.set_image_data_format("channels_last")


# -- lanes: tools/run_tests.py runs this suite in several processes at once ----
# Each process collects every test, then runs whole test modules that it
# claims first (an exclusively created file per module in the folder all
# the processes share): no test runs twice, none is left out, and a module's
# fixtures live in one process. Without the variable pytest runs as usual.
CLAIMS = os.environ.get("SYMKB_TEST_CLAIMS")


def _claim(module: str) -> bool:
    name = module.replace(os.sep, "_").replace("/", "_").replace(".", "_")
    try:
        os.close(os.open(os.path.join(CLAIMS, name), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _claimed_modules(items):
    groups: dict = {}
    for item in items:
        groups.setdefault(item.nodeid.split("::")[0], []).append(item)
    for module, group in groups.items():
        if _claim(module):
            yield group


if CLAIMS:
    def pytest_runtestloop(session):
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            raise session.Interrupted(f"{session.testsfailed} errors during collection")
        if session.config.option.collectonly:
            return True
        modules = _claimed_modules(session.items)
        group = next(modules, None)
        while group is not None:
            following = None
            for k, item in enumerate(group):
                if k + 1 < len(group):
                    nextitem = group[k + 1]
                else:  # the next module this process claims: its fixtures follow
                    following = next(modules, None)
                    nextitem = following[0] if following else None
                item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
                if session.shouldfail:
                    raise session.Failed(session.shouldfail)
                if session.shouldstop:
                    raise session.Interrupted(session.shouldstop)
            group = following
        return True
