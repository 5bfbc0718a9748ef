"""Writes logdir/: custom scalars layouts and scalars as tensorboardX 2.6.5 writes them.

Run with a Python that has tensorboardX (not the project venv):
    /work/peers_tb/bin/python tests/data/custom_scalars/make_fixture.py
Runs (sorted, the order TensorBoard merges layouts in):
  a  loss/{train,valid}, acc/{train,valid}, price/{mid,low,high}; layout "Losses" (two multiline charts)
     and "Prices" (a margin chart), by add_custom_scalars.
  b  loss/{train,valid,test} (test with a NaN), acc/train; layout "Losses" again (one chart equal to a's,
     which the merge skips, one new) and a new "Extra" category.
  c  price/{mid,low,high}; two layouts: the first (category "Stale") is replaced by the second, a margin
     chart in "Prices" (add_custom_scalars_multilinechart, then add_custom_scalars_marginchart).
  d  other/{x,y}; a closed category "Hidden" (tensorboardX's dict form cannot say closed: its Layout proto
     is written through tensorboardX's own summary code path).
  e  loss/train only, no layout.
"""
import math
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOGDIR = HERE / "logdir"
WALL = 1_700_000_000.0
# The layouts runs a and b write (tests/test_custom_scalars.py builds the same with our builder).
LAYOUT_A = {"Losses": {"loss": ["Multiline", ["loss/.*"]], "accuracy": ["Multiline", ["acc/train", "acc/valid"]]},
            "Prices": {"band": ["Margin", ["price/mid", "price/low", "price/high"]]}}
LAYOUT_B = {"Losses": {"loss": ["Multiline", ["loss/.*"]], "train only": ["Multiline", ["loss/train", "acc/train"]]},
            "Extra": {"test loss": ["Multiline", ["loss/te"]]}}


def main():
    from tensorboardX import SummaryWriter
    from tensorboardX.proto import layout_pb2
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

    shutil.rmtree(LOGDIR, ignore_errors=True)

    def scalars(writer, tags, steps, seed, nan_at=None):
        for step in range(steps):
            for k, tag in enumerate(tags):
                value = math.exp(-step / (10 + k + seed)) + 0.05 * math.sin(step * (k + 1) + seed)
                if nan_at is not None and tag == nan_at[0] and step == nan_at[1]:
                    value = float("nan")
                writer.add_scalar(tag, value, step * 10, walltime=WALL + seed * 1000 + step)

    def prices(writer, steps, scale):
        for step in range(steps):
            mid = scale / (1 + step * scale)
            for tag, v in (("price/mid", mid), ("price/low", mid - 0.1 * scale), ("price/high", mid + 0.2 * scale)):
                writer.add_scalar(tag, v, step * 10, walltime=WALL + step)

    with SummaryWriter(str(LOGDIR / "a")) as w:
        scalars(w, ["loss/train", "loss/valid", "acc/train", "acc/valid"], 25, 1)
        prices(w, 25, 1.0)
        w.add_custom_scalars(LAYOUT_A)
    with SummaryWriter(str(LOGDIR / "b")) as w:
        scalars(w, ["loss/train", "loss/valid", "loss/test", "acc/train"], 18, 2, nan_at=("loss/test", 5))
        w.add_custom_scalars(LAYOUT_B)
    with SummaryWriter(str(LOGDIR / "c")) as w:
        prices(w, 12, 0.5)
        w.add_custom_scalars_multilinechart(["price/.*"], category="Stale", title="replaced")
        w.add_custom_scalars_marginchart(["price/mid", "price/low", "price/high"], category="Prices",
                                         title="band c")
    with SummaryWriter(str(LOGDIR / "d")) as w:
        scalars(w, ["other/x", "other/y"], 8, 4)
        layout = layout_pb2.Layout(category=[layout_pb2.Category(title="Hidden", closed=True, chart=[
            layout_pb2.Chart(title="other", multiline=layout_pb2.MultilineChartContent(tag=["other/.*"]))])])
        metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="custom_scalars"))
        tensor = TensorProto(dtype="DT_STRING", string_val=[layout.SerializeToString()],
                             tensor_shape=TensorShapeProto())
        w._get_file_writer().add_summary(
            Summary(value=[Summary.Value(tag="custom_scalars__config__", tensor=tensor, metadata=metadata)]))
    with SummaryWriter(str(LOGDIR / "e")) as w:
        scalars(w, ["loss/train"], 5, 5)


if __name__ == "__main__":
    main()
