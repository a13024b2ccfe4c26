"""The docclean command line: a front end to the engine, beside the GUI."""
