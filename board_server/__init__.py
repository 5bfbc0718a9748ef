"""board: serve TensorBoard logdirs (the read side; never imports the summaries engine)."""
__version__ = "0.1.0"
