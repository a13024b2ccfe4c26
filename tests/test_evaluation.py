"""engine.evaluation.scoring on real NoisyOffice pairs."""
from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from types import SimpleNamespace

import numpy as np
import pytest

from cli.main import main
from engine.evaluation import scoring
from engine.evaluation.scoring import EvaluationReport, NothingReadable, evaluate, evaluate_ink
from engine.data.pairs import find_pairs, load_pair
from engine.progress import CancelToken, Cancelled


@pytest.fixture(scope="module")
def all_pairs(noisyoffice_dir):
    return find_pairs(noisyoffice_dir).pairs


@pytest.fixture(scope="module")
def few_pairs(all_pairs):
    # Both page heights (420 and 258) occur among NoisyOffice pages; take a spread.
    return all_pairs[::22]


def _key(page: np.ndarray) -> str:
    return hashlib.sha1(page.tobytes()).hexdigest()


def _oracle(pairs):
    """A clean_fn that knows the answer for each noisy page."""
    answers = {}
    for pair in pairs:
        noisy, clean = load_pair(pair)
        answers[_key(noisy)] = clean
    return lambda noisy: answers[_key(noisy)]


def test_identity_scores_the_noisy_pages_with_pooled_rmse(all_pairs):
    assert len(all_pairs) == 176
    # A third of the set keeps the test fast; its noisy RMSE is that of the whole (~0.17).
    sample = all_pairs[::3]
    result = evaluate(sample, lambda page: page)
    squared, pixels = 0.0, 0
    for pair in sample:
        noisy, clean = load_pair(pair)
        squared += float(np.sum((noisy.astype(np.float64) - clean) ** 2))
        pixels += clean.size
    assert result.pairs == len(sample)
    assert result.rmse == pytest.approx(math.sqrt(squared / pixels), rel=1e-9)
    assert 0.16 < result.rmse < 0.18
    assert result.psnr == pytest.approx(np.mean([row["psnr"] for row in result.per_pair]))
    assert result.ssim == pytest.approx(np.mean([row["ssim"] for row in result.per_pair]))
    assert 0.0 < result.ssim < 1.0
    # Pooled RMSE weights pages by pixel count, unlike the mean of page RMSEs.
    weighted = sum(row["rmse"] ** 2 * row["megapixels"] for row in result.per_pair)
    total = sum(row["megapixels"] for row in result.per_pair)
    assert result.rmse == pytest.approx(math.sqrt(weighted / total), rel=1e-9)


def test_perfect_cleaning_scores_zero_error(few_pairs):
    result = evaluate(few_pairs, _oracle(few_pairs))
    assert result.rmse == 0.0
    assert result.psnr == math.inf
    assert result.ssim == pytest.approx(1.0)
    assert result.to_json_dict()["psnr"] is None


def test_json_dict_has_exactly_the_summary_keys(few_pairs):
    summary = evaluate(few_pairs, lambda page: page).to_json_dict()
    assert set(summary) == {"rmse", "psnr", "ssim", "pairs", "seconds_per_megapixel"}
    assert summary["pairs"] == len(few_pairs)
    assert all(isinstance(summary[key], float) for key in ("rmse", "psnr", "ssim"))


def test_per_pair_rows_name_their_pages(few_pairs):
    result = evaluate(few_pairs, lambda page: page)
    assert [row["name"] for row in result.per_pair] == [pair.name for pair in few_pairs]
    assert {"name", "document", "rmse", "psnr", "ssim", "megapixels", "seconds"} <= set(
        result.per_pair[0]
    )


def test_only_time_inside_clean_fn_is_counted(few_pairs, monkeypatch):
    pause = 0.02

    def slow_identity(page):
        time.sleep(pause)
        return page

    slow = evaluate(few_pairs, slow_identity)
    megapixels = sum(row["megapixels"] for row in slow.per_pair)
    assert slow.seconds_per_megapixel >= pause * len(few_pairs) / megapixels
    assert slow.seconds_per_megapixel == pytest.approx(
        sum(row["seconds"] for row in slow.per_pair) / megapixels
    )
    # Reading and scoring a page take milliseconds of CPU; an identity clean_fn
    # takes microseconds, so any I/O or scoring time counted would show.  Timed on
    # this thread's CPU clock, so a busy machine does not count against it.
    monkeypatch.setattr(scoring, "time", SimpleNamespace(perf_counter=time.thread_time))
    fast = evaluate(few_pairs, lambda page: page)
    assert fast.seconds_per_megapixel < 0.005


def test_progress_counts_pages(few_pairs):
    events = []
    evaluate(few_pairs, lambda page: page, progress=events.append)
    assert {event.stage for event in events} == {"evaluate"}
    assert events[0].done == 0
    assert events[-1].done == events[-1].total == len(few_pairs)


def test_cancel_stops_at_the_next_page(few_pairs):
    token = CancelToken()
    cleaned = []

    def clean_fn(page):
        cleaned.append(page.shape)
        if len(cleaned) == 2:
            token.cancel()
        return page

    with pytest.raises(Cancelled):
        evaluate(few_pairs, clean_fn, cancel=token)
    assert len(cleaned) == 2


def test_cancelled_token_cleans_nothing(few_pairs):
    token = CancelToken()
    token.cancel()
    calls = []
    with pytest.raises(Cancelled):
        evaluate(few_pairs, lambda page: calls.append(1) or page, cancel=token)
    assert calls == []


def test_wrong_output_shape_names_the_file(few_pairs):
    with pytest.raises(ValueError, match=few_pairs[0].noisy.name):
        evaluate(few_pairs, lambda page: page[:-1])


def test_no_pairs_is_an_error():
    with pytest.raises(ValueError, match="at least one pair"):
        evaluate([], lambda page: page)


def test_report_is_a_plain_dataclass():
    report = EvaluationReport(rmse=0.1, psnr=20.0, ssim=0.9, pairs=1, seconds_per_megapixel=0.5)
    assert report.per_pair == []
    assert report.to_json_dict()["seconds_per_megapixel"] == 0.5


# ---------------------------------------------------------------- unreadable pairs


def _cut(path) -> None:
    """Keep the header and half the pixel data: the size is known, the pixels are not."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.fixture
def three_pairs(noisyoffice_dir, tmp_path):
    """Three real NoisyOffice pairs copied into their own folder."""
    for sub in ("noisy", "clean"):
        (tmp_path / sub).mkdir()
        for name in ("0.png", "1.png", "2.png"):
            shutil.copy(noisyoffice_dir / sub / name, tmp_path / sub / name)
    return tmp_path


def test_a_truncated_pair_is_reported_and_the_others_are_scored(three_pairs):
    _cut(three_pairs / "noisy" / "1.png")
    pairs = find_pairs(three_pairs).pairs
    events = []
    result = evaluate(pairs, lambda page: page, progress=events.append)
    assert result.pairs == 2
    assert [row["name"] for row in result.per_pair] == ["0", "1", "2"]
    bad = result.per_pair[1]
    assert bad["error"] == f"{three_pairs / 'noisy' / '1.png'}: truncated file"
    assert result.errors == [bad["error"]]
    assert result.to_json_dict()["errors"] == [bad["error"]]
    alone = evaluate([pairs[0], pairs[2]], lambda page: page)
    assert (result.rmse, result.psnr, result.ssim) == (alone.rmse, alone.psnr, alone.ssim)
    assert events[-1].done == events[-1].total == 3


def test_no_readable_pair_is_one_error_naming_each_file(three_pairs):
    for name in ("0.png", "1.png", "2.png"):
        _cut(three_pairs / "noisy" / name)
    with pytest.raises(NothingReadable) as info:
        evaluate(find_pairs(three_pairs).pairs, lambda page: page)
    assert info.value.summary == "none of the 3 pairs could be read"
    assert len(info.value.errors) == 3 and all("truncated file" in e for e in info.value.errors)
    assert isinstance(info.value, ValueError)


def test_cli_prints_each_unreadable_pair_and_scores_the_rest(three_pairs, capsys):
    bad = three_pairs / "noisy" / "1.png"
    _cut(bad)
    code = main(["-q", "evaluate", "--pairs", str(three_pairs), "--include-seen", "--json"])
    out, err = capsys.readouterr()
    assert code == 2  # as for denoise: some inputs failed, the others were done
    assert f"error: {bad}: truncated file" in err.splitlines()
    result = json.loads(out)
    assert result["pairs"] == 2 and result["errors"] == [f"{bad}: truncated file"]
    assert 0 < result["rmse"] < 0.2


def test_cli_says_so_when_no_pair_can_be_read(three_pairs, capsys):
    for name in ("0.png", "1.png", "2.png"):
        _cut(three_pairs / "noisy" / name)
    assert main(["-q", "evaluate", "--pairs", str(three_pairs), "--include-seen"]) == 1
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == ""
    assert [line for line in lines if line.startswith("error: ")] == [
        *(f"error: {three_pairs / 'noisy' / name}: truncated file" for name in ("0.png", "1.png", "2.png")),
        "error: none of the 3 pairs could be read",
    ]


def test_ink_evaluation_of_nothing_readable_says_so(tmp_path):
    page = tmp_path / "scan.png"
    page.write_bytes(b"not a picture")
    with pytest.raises(NothingReadable) as info:
        evaluate_ink([page], lambda pixels: pixels)
    assert str(info.value) == f"the one page could not be read: {page}: not an image, or a kind of image DocClean cannot read"
