"""Models: the architecture registry, the Keras zoo, model files and their metadata, geometry, export."""
