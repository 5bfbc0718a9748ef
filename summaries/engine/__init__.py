"""The TF1 graph engine. math_ops is loaded first whichever module is imported: it and reduce_ops
import each other (math_ops re-exports the reductions, as TensorFlow's does), which works only in that order."""
from summaries.engine import math_ops  # noqa: F401
