"""A model unlike the pages it is given says so before the batch."""
import numpy as np

from cli.main import main
from engine.cleaning.denoiser import Denoiser
from engine.cleaning.suitability import samples, unsuited_warning
from engine.io import read_page


def test_samples_cover_both_pages_of_a_spread():
    page = np.zeros((1000, 3000), np.float32)
    page[:, :1500] = 1.0
    squares = samples(page, side=400)
    assert len(squares) == 3 and all(s.shape == (400, 400) for s in squares)
    assert squares[0].min() == 1.0 and squares[2].max() == 0.0  # the left page, then the right one


def test_the_office_model_on_a_book_page_is_told_and_the_general_one_is_not(realscans_dir, noisyoffice_dir):
    page = read_page(realscans_dir / "set0005-06.jpg").pixels
    office = Denoiser.from_file("noisyoffice", precision="float32")
    warning = unsuited_warning(office, page, "set0005-06.jpg")
    assert warning and "docclean-noisyoffice.keras would erase" in warning and "set0005-06.jpg" in warning
    assert "the general model (the default) suits most pages" in warning
    assert unsuited_warning(Denoiser.from_file(precision="float32"), page, "p") is None  # not even tried
    assert unsuited_warning(office, read_page(noisyoffice_dir / "noisy" / "161.png").pixels, "p") is None


def test_the_command_line_says_it_before_cleaning(realscans_dir, tmp_path, capsys):
    assert main(["-q", "denoise", str(realscans_dir / "set0005-06.jpg"), "-o", str(tmp_path),
                 "--model", "noisyoffice"]) == 0
    err = capsys.readouterr().err
    assert err.index("would erase") < err.index("this page looks unlike")  # before, then the page's own
