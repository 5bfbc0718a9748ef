"""Dashboards. Each module here is one plugin, a thin Flask blueprint over the DataProvider.

A plugin module exposes:
    NAME: str                                   # used in /data/plugin/<NAME>/... and static/<NAME>.js
    TAB_NAME: str                               # the tab's label
    def create_blueprint(provider) -> flask.Blueprint   # routes relative to /data/plugin/<NAME>
    def is_active(provider) -> bool             # has this logdir any data for it?
The app factory registers the modules listed here, in this (tab) order.
"""
PLUGIN_MODULES = ["scalars", "custom_scalars", "images", "audio", "graphs", "distributions", "histograms", "text",
                  "pr_curves", "hparams", "projector"]  # tab order, as TensorBoard (projector: last, a dynamic plugin)
