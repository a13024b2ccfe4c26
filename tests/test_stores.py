"""Inputs and outputs in an object store (``s3://``), against a local S3 server (moto).

A run from and to a bucket writes the objects a local run writes, byte for byte with their
provenance; a second run skips what was done and uploads nothing; an object in the way is never
replaced but with --overwrite; a bad object fails alone, named by its URL.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cli.main import main
from engine.errors import ImageWriteError
from engine.io import read_output_provenances
from engine.io.stores import Store


def _fs():
    import s3fs

    return s3fs.S3FileSystem(skip_instance_cache=True)


@pytest.fixture
def scans(tmp_path: Path, samples_dir: Path) -> Path:
    """Three real pages, one in a sub-folder, and a two-page TIFF."""
    from PIL import Image

    folder = tmp_path / "scans"
    (folder / "box 2").mkdir(parents=True)
    for name in ("noisyoffice-2.png", "noisyoffice-52.png"):
        shutil.copy(samples_dir / name, folder / name)
    shutil.copy(samples_dir / "noisyoffice-99.png", folder / "box 2" / "letter.png")
    first, second = (Image.open(samples_dir / name).convert("L") for name in ("noisyoffice-165.png",
                                                                              "noisyoffice-178.png"))
    first.save(folder / "two pages.tif", save_all=True, append_images=[second], dpi=(300, 300))
    return folder


def _upload(folder: Path, bucket: str) -> str:
    _fs().put(str(folder) + "/", f"{bucket}/scans/", recursive=True)
    return f"s3://{bucket}/scans"


def _objects(url: str) -> dict[str, bytes]:
    fs = _fs()
    root = url.removeprefix("s3://")
    return {key.removeprefix(root + "/"): fs.cat_file(key) for key in sorted(fs.find(root))}


def _files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.name.startswith(".")}


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_a_run_from_and_to_a_bucket_writes_what_a_local_run_writes(fmt: str, scans: Path, bucket: str,
                                                                   tmp_path: Path, capsys) -> None:
    local = tmp_path / "local"
    assert main(["-q", "denoise", str(scans), "-o", str(local), "--model", "fast", "--format", fmt]) == 0
    source = _upload(scans, bucket)
    out = f"s3://{bucket}/clean"
    assert main(["-q", "denoise", source, "-o", out, "--model", "fast", "--format", fmt, "-v"]) == 0
    written = _objects(out)
    assert written == _files(local)
    assert f"box 2/letter_clean.{fmt}" in written
    told = capsys.readouterr().err
    assert f"letter.png -> {out}/box 2/letter_clean.{fmt}" in told
    check = tmp_path / "check"
    _fs().get(out.removeprefix("s3://") + "/", str(check) + "/", recursive=True)
    for name in written:
        assert read_output_provenances(check / name) == read_output_provenances(local / name)
    # Run again: every page is skipped by its provenance, and nothing is uploaded again.
    stamps = {key: info["LastModified"] for key, info in _fs().find(out.removeprefix("s3://"), detail=True).items()}
    assert main(["-q", "denoise", source, "-o", out, "--model", "fast", "--format", fmt]) == 0
    assert "already clean" in capsys.readouterr().out
    after = {key: info["LastModified"] for key, info in _fs().find(out.removeprefix("s3://"), detail=True).items()}
    assert after == stamps


def test_an_object_in_the_way_is_kept_unless_overwrite(samples_dir: Path, bucket: str, capsys) -> None:
    fs = _fs()
    fs.put_file(str(samples_dir / "noisyoffice-2.png"), f"{bucket}/in/page.png")
    fs.pipe_file(f"{bucket}/out/page_clean.png", b"the user's own file")
    source, out = f"s3://{bucket}/in", f"s3://{bucket}/out"
    assert main(["-q", "denoise", source, "-o", out, "--model", "fast"]) == 0
    written = _objects(out)
    assert written["page_clean.png"] == b"the user's own file"
    assert written["page_clean-1.png"].startswith(b"\x89PNG")  # written beside it, as the local batch does
    assert main(["-q", "denoise", source, "-o", out, "--model", "fast", "--overwrite"]) == 0
    replaced = _objects(out)
    assert replaced["page_clean.png"].startswith(b"\x89PNG")


def test_an_upload_never_replaces_an_object_that_appeared_meanwhile(bucket: str, tmp_path: Path) -> None:
    page = tmp_path / "page_clean.png"
    page.write_bytes(b"this run's page")
    _fs().pipe_file(f"{bucket}/out/page_clean.png", b"another run's page")
    store = Store(f"s3://{bucket}/out")
    with pytest.raises(ImageWriteError, match=rf"s3://{bucket}/out/page_clean.png: another run wrote"):
        store.upload(page, Path("page_clean.png"), replace=False)  # S3's conditional create: If-None-Match
    assert _objects(f"s3://{bucket}/out") == {"page_clean.png": b"another run's page"}


def test_a_bad_object_fails_alone_named_by_its_url(scans: Path, bucket: str, capsys) -> None:
    whole = (scans / "noisyoffice-2.png").read_bytes()
    (scans / "truncated.png").write_bytes(whole[: len(whole) // 3])
    source = _upload(scans, bucket)
    tmp_out = f"s3://{bucket}/clean"
    assert main(["-q", "denoise", source, "-o", tmp_out, "--model", "fast"]) == 2
    err = capsys.readouterr().err
    assert f"error: {source}/truncated.png: " in err
    assert "Traceback" not in err and "/tmp/" not in err  # the URL, not the copy it was read from
    assert len(_objects(tmp_out)) == 5


def test_a_bucket_to_a_folder_and_back(scans: Path, bucket: str, tmp_path: Path) -> None:
    source = _upload(scans, bucket)
    out = tmp_path / "out"
    assert main(["-q", "denoise", source, "-o", str(out), "--model", "fast"]) == 0
    assert sorted(_files(out)) == ["box 2/letter_clean.png", "noisyoffice-2_clean.png", "noisyoffice-52_clean.png",
                                   "two pages_p1_clean.png", "two pages_p2_clean.png"]
    assert main(["-q", "denoise", str(scans), "-o", f"s3://{bucket}/from-here", "--model", "fast"]) == 0
    assert _objects(f"s3://{bucket}/from-here") == _files(out)


@pytest.mark.parametrize("argv, said", [
    (["s3://no-such-bucket/in", "-o", "OUT"], "s3://no-such-bucket/in: could not be listed: no such bucket"),
    (["IN", "-o", "s3://no-such-bucket/out"], "s3://no-such-bucket/out: there is no bucket s3://no-such-bucket"),
    (["IN", "-o", "s3://BUCKET/out", "--combine"], "cannot go into one combined PDF"),
    (["IN", "-o", "s3://BUCKET/out", "--keep-both"], "cannot keep both copies"),
    (["ftp://host/in", "-o", "OUT"], "reads and writes folders, s3:// and gs:// places, not ftp://"),
])
def test_what_cannot_be_done_is_said_in_one_sentence_before_any_work(argv: list[str], said: str, scans: Path,
                                                                      bucket: str, tmp_path: Path, capsys) -> None:
    argv = [arg.replace("IN", str(scans)).replace("OUT", str(tmp_path / "out")).replace("BUCKET", bucket)
            for arg in argv]
    assert main(["-q", "denoise", *argv, "--model", "fast"]) == 1
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() and not _objects(f"s3://{bucket}")


def test_a_cancelled_run_leaves_only_whole_objects(scans: Path, bucket: str) -> None:
    from engine.cleaning.denoiser import Denoiser
    from engine.cleaning.staged import plan_staged, run_staged
    from engine.options import BatchOptions
    from engine.progress import CancelToken, Cancelled

    source, out = _upload(scans, bucket), f"s3://{bucket}/clean"
    options, cancel, seen = BatchOptions(), CancelToken(), []
    with pytest.raises(Cancelled):
        for result in run_staged(plan_staged([source], out, options), Denoiser.from_file("fast"), options, cancel):
            seen.append(result)
            cancel.cancel()
    assert 1 <= len(seen) < 5  # stopped before the end: the files under way, at most, were finished
    written = _objects(out)
    assert {result.location.removeprefix(out + "/") for result in seen} <= set(written)
    assert all(data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82") for data in written.values())
