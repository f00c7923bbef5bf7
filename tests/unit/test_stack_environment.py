"""The servers' environment (ops/stack.py): TensorFlow's thread pools as the bench measured.

Each test starts a real Python process with the environment the stack gives a server, runs
Rasa's own start-up set-up in it, and asks what TensorFlow ended up with.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from ops.stack import SERVING_TF_THREADS, server_environment
from quickconnect.config import load_settings

# What `rasa` does at start-up for every command (rasa/__main__.py).
START_UP = (
    "import sys\n"
    "from rasa.utils.tensorflow.environment import setup_tf_environment\n"
    "setup_tf_environment()\n"
)
THREADS = (
    "import tensorflow as tf\n"
    "print(tf.config.threading.get_inter_op_parallelism_threads(),"
    " tf.config.threading.get_intra_op_parallelism_threads())\n"
)
IMPORTED = "print('tensorflow' in sys.modules)\n"


def run_after_start_up(code: str, env: dict[str, str]) -> list[str]:
    """The words `code` prints in a new process with `env`, after Rasa's start-up set-up."""
    out = subprocess.run(
        [sys.executable, "-c", START_UP + code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()


def tensorflow_threads(env: dict[str, str]) -> tuple[int, int]:
    inter, intra = run_after_start_up(THREADS, env)[-2:]
    return int(inter), int(intra)


@pytest.fixture
def no_tf_threads_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SERVING_TF_THREADS:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_tf_threads_set")
def test_the_rasa_server_runs_tensorflow_with_one_thread_per_pool() -> None:
    env = server_environment(load_settings())
    assert tensorflow_threads(env) == (1, 1)
    # and a process without that environment would not (TensorFlow's default: 0 = as many
    # as it decides), so the setting is what makes the difference
    bare = {k: v for k, v in env.items() if k not in SERVING_TF_THREADS}
    assert tensorflow_threads(bare) == (0, 0)


@pytest.mark.usefixtures("no_tf_threads_set")
def test_the_environment_can_choose_other_thread_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_INTRA_OP_PARALLELISM_THREADS", "2")
    env = server_environment(load_settings())
    assert env["TF_INTRA_OP_PARALLELISM_THREADS"] == "2"
    assert tensorflow_threads(env) == (1, 2)


def test_the_action_server_gets_no_tensorflow_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """`rasa run actions` would import TensorFlow at start-up just to apply them."""
    monkeypatch.setenv("TF_INTRA_OP_PARALLELISM_THREADS", "2")
    actions = server_environment(load_settings(), rasa=False)
    assert not set(SERVING_TF_THREADS) & set(actions)
    assert run_after_start_up(IMPORTED, actions)[-1] == "False"
    # the same start-up with the Rasa server's environment does import it
    assert run_after_start_up(IMPORTED, server_environment(load_settings()))[-1] == "True"


def test_both_servers_get_one_blas_thread_and_two_malloc_arenas_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A quarter of the CPU per message, 100 MB less RSS (docs/benchmark.md, 2026-12-04)."""
    from ops.stack import SERVING_ENV

    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    assert SERVING_ENV == {"OPENBLAS_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}
    for rasa in (True, False):
        env = server_environment(load_settings(), rasa=rasa)
        assert (env["OPENBLAS_NUM_THREADS"], env["MALLOC_ARENA_MAX"]) == ("1", "2")
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    for rasa in (True, False):
        env = server_environment(load_settings(), rasa=rasa)
        assert (env["OPENBLAS_NUM_THREADS"], env["MALLOC_ARENA_MAX"]) == ("2", "4")


def test_the_rasa_server_runs_numpy_with_one_blas_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before NumPy loads OpenBLAS, so it is read from the process environment."""
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    code = "from threadpoolctl import threadpool_info; print(threadpool_info()[0]['num_threads'])"
    env = server_environment(load_settings())
    out = subprocess.run(
        [sys.executable, "-c", f"import numpy; {code}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] == "1"
