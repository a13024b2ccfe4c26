"""Cleaning pages: tiling, inference backends, the content check, the batch over files."""
