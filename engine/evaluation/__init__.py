"""Scoring cleaned pages: image metrics, DIBCO binary metrics, evaluation over pairs and folders."""
