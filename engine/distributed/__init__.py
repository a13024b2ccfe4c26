"""Cleaning beyond one process: the batch on a Ray cluster (engine.distributed.ray_batch).

Nothing here is imported by a local run: Ray is an extra (``pip install 'docclean[ray]'``), imported
only when a command asks for it.
"""
