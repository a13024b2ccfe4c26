"""Every architecture DocClean knows, by a name a user can type (no Keras import here).

What the CLI, the GUI and model files need to know about an architecture
(its family, whether it cleans pages of any size, its seed training
settings) lives here; the Keras builders live in engine.models.zoo.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.data.catalogue import is_digit_data
from engine.errors import ConfigurationError

DIGITS = "digits"
DOCUMENT = "document"


@dataclass(frozen=True)
class Architecture:
    """What a user needs to know about one architecture before building it."""

    name: str
    summary: str
    family: str  # DIGITS (28x28 glyphs) or DOCUMENT (pages of any size)
    fully_convolutional: bool
    # Weights with the default options (tests check it against the Keras build).
    parameters: int
    defaults: dict[str, int] = field(default_factory=dict)
    # The seeds' training settings, used when the user does not say otherwise.
    optimizer: str = "adam"
    loss: str = "mse"
    batch_size: int = 128
    # Takes images flattened to 784 values instead of 28x28x1.
    flat_input: bool = False
    # The builder's options a user may set: name -> (lowest, highest) whole number.
    options: dict[str, tuple[int, int]] = field(default_factory=dict)
    # What each option does, in a sentence the app shows beside it.
    notes: dict[str, str] = field(default_factory=dict)


ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture("dense", "Dense bottleneck AE on flattened 28x28 digits (section 1)",
                     DIGITS, False, 50_992, {"bottleneck": 32}, flat_input=True,
                     options={"bottleneck": (1, 784)}),
        Architecture("mnist_denoiser", "Conv 16-8-8-16-1 digit denoiser, no pooling (section 2)",
                     DIGITS, True, 3_217, loss="bce"),
        Architecture("notmnist_conv", "Conv AE 32-64-128 with pooling, 7x7x128 code (section 3)",
                     DIGITS, False, 314_625, optimizer="rmsprop"),
        Architecture("cluster_conv", "Conv AE with a 7x7x2 code for k-means clustering (section 4)",
                     DIGITS, False, 937, optimizer="adadelta", loss="bce"),
        Architecture("feature_conv", "Conv AE with a 4x4x8 code for a classifier (section 5)",
                     DIGITS, False, 4_385, optimizer="adadelta", loss="bce"),
        Architecture("noisyoffice_basic", "Conv 8-8-1 document AE at full resolution (section 6)",
                     DOCUMENT, True, 737, loss="bce", batch_size=8),
        Architecture("noisyoffice_deep", "Conv 32-16-8-8-16-32-1 document AE, no pooling (section 6)",
                     DOCUMENT, True, 12_785, loss="bce", batch_size=8),
        # Parameters grow as width^2 x 4^depth: width 48 at depth 6 (340 M, 1.3 GB) is the
        # largest that stays under the 2 GiB a model file may unpack to.
        Architecture("docunet", "DocClean's fast U-Net document denoiser (any page size)",
                     DOCUMENT, True, 146_298, {"width": 8, "depth": 3}, batch_size=16,
                     options={"width": (1, 48), "depth": (1, 6), "stem": (1, 2), "head": (0, 1)},
                     notes={"width": "channels at full resolution, doubled at each level down",
                            "depth": "levels of half resolution: the deeper, the wider it sees",
                            "stem": "2 works at half resolution inside: about twice as fast",
                            "head": "0 cleans the page; 1 gives the probability of paper (an ink model: "
                                    "train it with the bce_dice loss, for black and white)"}),
    )
}


def get_architecture(name: str) -> Architecture:
    """The architecture called ``name``; a ConfigurationError lists the known names."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        known = ", ".join(ARCHITECTURES)
        raise ConfigurationError(f"unknown architecture {name!r}; known: {known}") from None


def architectures_for(data: str) -> list[Architecture]:
    """Architectures that can train on ``data`` ('mnist', 'notmnist', 'noisyoffice' or 'pairs')."""
    family = DIGITS if is_digit_data(data) else DOCUMENT
    return [a for a in ARCHITECTURES.values() if a.family == family]
