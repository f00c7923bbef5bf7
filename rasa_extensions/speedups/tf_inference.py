"""Call a loaded model's prediction graph directly, without tf.function's per-call checks.

Rasa 3.6 (`RasaModel._rasa_predict`) wraps `predict_step` in a `tf.function` with a fixed
input signature and calls it for every batch: DIET for every message, the response selector
for FAQs, TED when it predicts. With a fixed signature there is one concrete function, yet
each call matches the numpy inputs against the signature again (canonicalisation, casts,
nested-structure and type checks) before running it. Here the concrete function is looked
up once per model and called with the inputs converted by `tf.constant` to the signature's
dtypes; the graph, its inputs and its outputs are the ones Rasa's call uses. Eager mode
and the first call (which traces the graph) go through Rasa's own method. Parsing the 175
dev-set sentences in process took 7.80 ms of CPU per message this way against 8.96 ms with
Rasa's call (docs/benchmark.md). Installed by `install()`, which the registry in
`rasa_extensions/speedups/__init__.py` calls.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from keras.utils import tf_utils
from rasa.shared.constants import DIAGNOSTIC_DATA
from rasa.utils.tensorflow.models import RasaModel

_rasa_predict: Callable[[RasaModel, Sequence[np.ndarray]], dict[str, Any]] = RasaModel._rasa_predict
# model -> (its concrete prediction function, the dtype of each input); weak, so a model
# that is replaced (a new model loaded) is not kept alive.
_concrete: weakref.WeakKeyDictionary[RasaModel, tuple[Any, list[tf.DType]]] = (
    weakref.WeakKeyDictionary()
)


def _concrete_function(model: RasaModel) -> tuple[Any, list[tf.DType]]:
    found = _concrete.get(model)
    if found is None:
        function = model._tf_predict_step
        (specs,) = function.input_signature  # one argument: the list of input tensors
        found = (function.get_concrete_function(), [spec.dtype for spec in specs])
        _concrete[model] = found
    return found


def rasa_predict(model: RasaModel, batch_in: Sequence[np.ndarray]) -> dict[str, Any]:
    """Rasa 3.6's `RasaModel._rasa_predict`, calling the traced graph directly."""
    if model._run_eagerly or model._tf_predict_step is None:
        return _rasa_predict(model, batch_in)  # eager, or the first call: Rasa traces the graph
    model._training = False
    function, dtypes = _concrete_function(model)
    inputs = [tf.constant(array, dtype) for array, dtype in zip(batch_in, dtypes, strict=True)]
    outputs = tf_utils.sync_to_numpy_or_python_type(function(inputs))
    if DIAGNOSTIC_DATA in outputs:
        outputs[DIAGNOSTIC_DATA] = model._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
    return outputs


def install() -> None:
    """Make every loaded Rasa model predict through `rasa_predict` (idempotent)."""
    RasaModel._rasa_predict = rasa_predict  # type: ignore[method-assign]
