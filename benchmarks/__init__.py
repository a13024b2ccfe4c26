"""Quality and speed of DocClean measured against the anchor methods (see run_benchmark.py)."""
