"""Training models of the zoo (Keras/TensorFlow; imported only when training)."""
