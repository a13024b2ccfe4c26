"""Training options are checked before any data is loaded or TensorFlow started: a sentence, never a hang."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.training.config import TrainConfig, resolved

PROJECT = Path(__file__).resolve().parents[1]

BAD = [
    (dict(steps_per_epoch=-1), "steps per epoch must be at least 1, not -1"),
    (dict(steps_per_epoch=0), "steps per epoch must be at least 1, not 0"),
    (dict(batch_size=0), "batch size must be at least 1, not 0"),
    (dict(learning_rate=-1.0), "learning rate must be a positive number"),
    (dict(learning_rate=float("nan")), "learning rate must be a positive number"),
    (dict(crop=2000), "crop must be 16 to 1024 pixels, not 2000"),
    (dict(epochs=0), "epochs must be at least 1"),
    (dict(validation_split=1.0), "validation split must be in"),
    (dict(test_fraction=-0.1), "test fraction must be in"),
    (dict(patience=0), "patience must be at least 1"),
    (dict(lr_schedule="linear"), "learning-rate schedule must be one of constant, cosine"),
    (dict(arch_options={"bogus": 1}), "docunet has no option bogus (its options: width, depth, stem, head)"),
    (dict(arch_options={"stem": 3}), "option stem of docunet must be a whole number from 1 to 2, not 3"),
    (dict(arch_options={"width": "8"}), "option width of docunet must be a whole number"),
]


@pytest.mark.parametrize("change, message", BAD, ids=[m.split(" must")[0].split(" has")[0] for _, m in BAD])
def test_a_bad_option_is_refused_with_a_sentence(change, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolved(TrainConfig(data="noisyoffice", arch="docunet", **change))


def test_fine_tuning_needs_a_readable_model_of_the_same_architecture_and_options(tmp_path):
    general = dict(data="noisyoffice", arch="docunet", arch_options={"width": 8, "depth": 4})
    assert resolved(TrainConfig(**general, init_from="general")).init_from == "general"
    with pytest.raises(ValueError, match="cannot start from noisyoffice: its options are depth 3, width 10, "
                                         "not depth 4, width 8; choose the same options"):
        resolved(TrainConfig(**general, init_from="noisyoffice"))
    with pytest.raises(ValueError, match="cannot start from general: it is a docunet model, not noisyoffice_deep"):
        resolved(TrainConfig(data="noisyoffice", arch="noisyoffice_deep", init_from="general"))
    with pytest.raises(ValueError, match=r"cannot start from that model: .*gone.keras: no such model file"):
        resolved(TrainConfig(**general, init_from=str(tmp_path / "gone.keras")))
    (tmp_path / "notes.keras").write_text("not a model")
    with pytest.raises(ValueError, match="notes.keras: not a model file or corrupt$"):
        resolved(TrainConfig(**general, init_from=str(tmp_path / "notes.keras")))


def test_good_options_pass_and_take_the_architectures_defaults():
    config = resolved(TrainConfig(data="noisyoffice", arch="docunet", arch_options={"width": 4, "stem": 2}))
    assert config.batch_size == 16 and config.optimizer == "adam" and config.loss == "mse"


_NO_TENSORFLOW = """
import sys
class _Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('tensorflow', 'keras'):
            raise AssertionError('TensorFlow imported before the options were checked')
        return None
sys.meta_path.insert(0, _Refuse())
from cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("arguments, message", [
    (["--steps-per-epoch", "-1"], "error: steps per epoch must be at least 1, not -1"),
    (["--arch-options", "{width: 8}"], "error: --arch-options is not JSON"),
    (["-o", "model.h5"], "error: model.h5: a model file must end in .keras"),
    (["--init-from", "noisyoffice"], "error: cannot start from noisyoffice: its options are depth 3, width 10"),
])
def test_the_cli_refuses_before_starting_tensorflow(arguments, message, tmp_path, noisyoffice_dir):
    command = ["-q", "train", "--data", str(noisyoffice_dir), "--arch", "docunet", "-o", "m.keras", *arguments]
    done = subprocess.run([sys.executable, "-c", _NO_TENSORFLOW, *command], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(PROJECT)})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(message), done.stderr
    assert "Traceback" not in done.stderr and not list(tmp_path.iterdir())


def test_a_mix_records_each_sources_own_weight(shared_data):
    """The description saved in the model file: synthetic listed last, whatever order the user gave."""
    from engine.training.config import TrainConfig, resolved
    from engine.training.fit import _document_data

    config = resolved(TrainConfig(data="synthetic:3,noisyoffice", arch="docunet", data_folder=str(shared_data),
                                  crop=32, steps_per_epoch=1))
    described = _document_data(config).description["sources"]
    assert {name: source["weight"] for name, source in described.items()} == {"noisyoffice": 1.0, "synthetic": 3.0}
