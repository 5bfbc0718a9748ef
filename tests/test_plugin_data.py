"""Other plugins' data in the data layer (PR curves' tensors, hparams' metadata content), against what the real
`tensorboard` package reads from the same tensorboardX-written fixture."""
from __future__ import annotations

import numpy as np
from tensorboard.util import tensor_util

from conftest import FIXTURES, loaded_provider, tb_multiplexer


def test_tensors_and_plugin_contents_equal_tensorboards():
    logdir = FIXTURES / "tbx"
    multiplexer = tb_multiplexer(logdir, pr_curves=0)
    with loaded_provider(logdir) as provider:
        for plugin in ("pr_curves", "hparams"):
            want = {run: tags for run, tags in multiplexer.PluginRunToTagToContent(plugin).items() if tags}
            assert want, plugin
            assert provider.plugin_contents(plugin) == want
            assert {run: set(tags) for run, tags in provider.tags(plugin).items()} == \
                   {run: set(tags) for run, tags in want.items()}
        events = multiplexer.Tensors("tbx_run", "pr")
        points = provider.tensors("tbx_run", "pr")
        assert [p.step for p in points] == [e.step for e in events]
        assert [p.wall_time for p in points] == [e.wall_time for e in events]
        for point, event in zip(points, events):
            np.testing.assert_array_equal(point.array, tensor_util.make_ndarray(event.tensor_proto))
        assert provider.tensors("tbx_run", "no such tag") is None
        assert provider.tensors("no such run", "pr") is None
