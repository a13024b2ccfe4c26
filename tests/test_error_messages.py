"""Errors a user reads: one hierarchy, decided by type, each a sentence naming the file and the reason."""
from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main
from engine.errors import (ConfigurationError, DataError, DocCleanError, ExitCode, ImageReadError, MissingDataError,
                           ModelFileError)


def test_every_public_error_is_a_doccleanerror_with_an_exit_code() -> None:
    from engine.data.digits import DatasetDownloadError
    from engine.data.idx import IdxFormatError
    from engine.evaluation.scoring import NothingReadable

    for kind in (ImageReadError, ModelFileError, DataError, ConfigurationError, MissingDataError,
                 DatasetDownloadError, IdxFormatError, NothingReadable):
        assert issubclass(kind, DocCleanError) and kind.exit_code == ExitCode.FAILED
    error = ImageReadError("/scans/a.png", "not an image")
    assert (str(error), error.path, error.reason) == ("/scans/a.png: not an image", Path("/scans/a.png"),
                                                      "not an image")


@pytest.mark.parametrize("command", [["evaluate", "--model", "fast", "--pairs"],
                                     ["train", "--arch", "docunet", "-o", "model.keras", "--data"]])
def test_a_missing_or_empty_data_folder_is_named_with_its_reason(command, tmp_path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["-q", *command, str(tmp_path / "nowhere")]) == ExitCode.FAILED
    err = capsys.readouterr().err
    assert err.startswith("error: ") and f"{tmp_path / 'nowhere'}" in err and err.endswith(": no such folder\n")
    assert main(["-q", *command, str(tmp_path / "empty")]) == ExitCode.FAILED
    err = capsys.readouterr().err
    assert f"error: {tmp_path / 'empty'}: no noisy/clean pairs found" in err
    assert "refused" not in err and "Traceback" not in err


def test_a_warning_during_training_is_one_line_without_python(shared_data, tmp_path, capsys) -> None:
    import warnings

    shown = warnings.showwarning
    try:
        code = main(["-q", "train", "--data", "mnist", "--data-folder", str(shared_data / "mnist"), "--arch", "dense",
                     "--epochs", "1", "--max-samples", "200", "-o", str(tmp_path / "digits.keras")])
    finally:
        warnings.showwarning = shown
    err = capsys.readouterr().err
    assert code == ExitCode.OK
    assert "warning: training split not available" in err
    assert ".py:" not in err and "Warning:" not in err and "load_dataset(" not in err


def test_errors_cross_processes_with_their_file_and_reason() -> None:
    # A worker process (a cluster's, a pool's) reports a page's error to the process that tells the user.
    import pickle

    from engine.errors import ImageReadError, ImageWriteError
    from engine.io.documents import PageOfFailedDocument

    document = ImageWriteError(Path("book.pdf"), "the disk is full")
    for error in (ImageReadError(Path("scan.png"), "it is not an image"), document,
                  PageOfFailedDocument("book.pdf [page 2]", document)):
        copy = pickle.loads(pickle.dumps(error))
        assert (type(copy), str(copy), copy.path, copy.reason, copy.exit_code) == (
            type(error), str(error), error.path, error.reason, error.exit_code)
    assert str(pickle.loads(pickle.dumps(PageOfFailedDocument("p", document))).document_error) == str(document)
