"""The "Model" box: which model cleans, on which runtime, what it is, and loading it off the UI thread."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from engine.vocabulary import PageMode, Runtime
from engine.cleaning.model_pool import ModelPool
from engine.models.bundled import model_for_mode
from gui.fields import choice_combo
from gui.model_choice import ModelChoice
from gui.model_summary import describe_model
from gui.workers import TaskRunner


class ModelBox(QGroupBox):
    """The model picker, the runtime, a line about the loaded model (or why it cannot clean), "Train…"."""

    ready = Signal(str)  # the loaded model's description, or why it cannot be used

    def __init__(self, runner: TaskRunner, denoisers: ModelPool, parent: Optional[QWidget] = None) -> None:
        super().__init__("Model", parent)
        self.runner, self.denoisers = runner, denoisers
        self.problem: Optional[str] = None  # why the chosen model cannot clean, while it cannot
        self.mode: str = PageMode.GREY
        self._text = ""  # the loaded model's description
        self.model_choice = ModelChoice()
        self.model_label = QLabel("Loading model…")
        self.model_label.setWordWrap(True)
        self.train_button = QPushButton("Train a model…")
        self.backend_combo = choice_combo(Runtime)
        self.backend_combo.setToolTip("The runtime that runs the model; all give the same pages, "
                                      "Keras (the reference) is slower")
        runtime_row = QHBoxLayout()
        runtime_row.addWidget(QLabel("Runtime"))
        runtime_row.addWidget(self.backend_combo, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.model_choice)
        layout.addLayout(runtime_row)
        layout.addWidget(self.model_label)
        layout.addWidget(self.train_button)

    def current_model(self) -> Optional[Path]:
        return self.model_choice.current_model()

    def load(self, path: Optional[Path] = None) -> None:
        """Load ``path`` (default: the chosen model) on the preview worker; ``ready`` says how it went."""
        path = self.current_model() if path is None else path
        self.model_label.setText("Loading model…")
        self.model_label.setStyleSheet("")
        self.problem = None
        self._text = ""
        self.runner.start(lambda t: describe_model(self.denoisers.get(path)), "preview", name="load model",
                          owner=self,
                          on_result=lambda text: self._loaded(path, text, None),
                          on_failed=lambda message: self._loaded(path, f"Cannot use this model: {message}", message))

    def set_mode(self, mode: str) -> None:
        """The pages' mode: black and white from the general model is the ink model's work, and says so."""
        self.mode = mode
        self._show()

    def _show(self) -> None:
        if not self._text:
            return  # still loading: the label says so
        model = self.current_model()
        runs = model_for_mode(model, self.mode)
        note = f"\nBlack and white pages: the ink model ({Path(runs).name})" if (
            self.problem is None and runs is not None and runs != model) else ""
        self.model_label.setText(self._text + note)

    def _loaded(self, path: Optional[Path], text: str, problem: Optional[str]) -> None:
        if path != self.current_model():
            return  # another model was chosen meanwhile
        self._text = text
        self.problem = problem
        self._show()
        self.model_label.setStyleSheet("color: #c01010" if problem else "")
        self.ready.emit(problem or text)
