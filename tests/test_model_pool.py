"""Any caller may share a loaded model across threads: loaded once, one page at a time per model."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from engine.cleaning.model_pool import ModelPool
from engine.errors import ConfigurationError


def test_a_model_is_loaded_once_and_cleans_the_same_from_many_threads(samples_dir) -> None:
    from engine.io import read_page, list_pages

    pool = ModelPool(threads=1)
    page = read_page(next(iter(list_pages(samples_dir / "noisyoffice-2.png")))).pixels[:160, :200]
    alone = pool.get("fast").denoise(page)
    with ThreadPoolExecutor(4) as workers:
        models = list(workers.map(lambda _: pool.get("fast"), range(8)))
        outputs = list(workers.map(lambda model: model.denoise(page), models))
    assert all(model is models[0] for model in models)
    for output in outputs:
        np.testing.assert_array_equal(output, alone)


def test_one_model_cleans_one_page_at_a_time() -> None:
    pool = ModelPool(threads=1)
    model = pool.get("fast")
    inside, most = [0], [0]
    guard = threading.Lock()
    predict = model.inner.backend.predict

    def counting(batch):
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            return predict(batch)
        finally:
            with guard:
                inside[0] -= 1

    model.inner.backend.predict = counting
    page = np.full((96, 96), 0.8, dtype=np.float32)
    with ThreadPoolExecutor(4) as workers:
        list(workers.map(lambda _: model.denoise(page), range(8)))
    assert most[0] == 1


def test_another_runtime_or_thread_count_loads_the_model_again() -> None:
    pool = ModelPool(threads=1)
    first = pool.get("fast")
    pool.configure(threads=1)
    assert pool.get("fast") is first
    pool.configure(threads=2)
    assert pool.get("fast") is not first and pool.threads == 2
    with pytest.raises(ConfigurationError, match="runtime must be one of auto, openvino, keras"):
        pool.configure(runtime="cuda")
