"""The app factory: core routes, one blueprint per dashboard, static files, security headers."""
from __future__ import annotations

import importlib
import importlib.util
import logging
from pathlib import Path

from flask import Blueprint, Flask, request, send_from_directory
from werkzeug.exceptions import HTTPException

from board_server import __version__
from board_server.jsonutil import json_error, json_response
from board_server.plugins import PLUGIN_MODULES
from board_server.serving import MAX_BODY  # the server refuses larger bodies; the app too, when not behind it

log = logging.getLogger("board")
MAX_QUERY = 8192  # bytes of query string; longer requests are refused
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


def static_dir() -> Path:
    """The page's assets: inside the installed package, or static/ of a source checkout."""
    packaged = Path(__file__).resolve().parent / "static"
    return packaged if (packaged / "index.html").is_file() else Path(__file__).resolve().parent.parent / "static"


def plotly_dir() -> Path:
    """plotly.js as shipped inside the installed `plotly` package (found without importing it)."""
    spec = importlib.util.find_spec("plotly")
    return Path(next(iter(spec.submodule_search_locations))).resolve() / "package_data"


def load_plugins():
    return [importlib.import_module(f"board_server.plugins.{name}") for name in PLUGIN_MODULES]


def create_app(provider, *, window_title: str = "", data_location: str = "",
               allowed_hosts: set[str] | None = None) -> Flask:
    """`allowed_hosts`: Host header names accepted (None accepts any; set when bound to loopback,
    so a DNS-rebinding page cannot talk to us)."""
    app = Flask(__name__, static_folder=None)
    app.config["PROVIDER"] = provider
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.url_map.merge_slashes = False  # `/static//etc/x` is a JSON 404, not a redirect to another path
    plugins = load_plugins()
    assets = static_dir()

    @app.before_request
    def _guard():
        if allowed_hosts is not None:
            if host_name(request.host).lower() not in allowed_hosts:
                return json_error(f"Host {request.host!r} is not allowed; this server answers on localhost only "
                                  f"(start it with --bind_all or --host to serve other names)", 403)
        if len(request.query_string) > MAX_QUERY:
            return json_error("query string too long", 414)
        return None

    @app.after_request
    def _headers(response):
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        if request.path.startswith("/data/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(HTTPException)
    def _http_error(e: HTTPException):
        return json_error(e.description or e.name, e.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        log.exception("error serving %s", request.path)
        return json_error("internal error (see the server log)", 500)

    core = Blueprint("core", __name__)

    @core.route("/")
    def index():
        return send_from_directory(assets, "index.html", max_age=0)

    @core.route("/static/<path:name>")
    def static_file(name: str):
        return send_from_directory(assets, name, max_age=0)

    @core.route("/vendor/plotly.min.js")
    def plotly_js():
        return send_from_directory(plotly_dir(), "plotly.min.js", mimetype="text/javascript", max_age=86400)

    @core.route("/data/runs")
    def runs():
        return json_response([run.name for run in provider.runs()])

    @core.route("/data/runs_info")
    def runs_info():
        return json_response([{"name": r.name, "start_time": r.start_time} for r in provider.runs()])

    @core.route("/data/environment")
    def environment():
        return json_response({"data_location": data_location, "window_title": window_title,
                              "version": __version__, "experiment_name": "", "experiment_description": "",
                              "creation_time": 0})

    @core.route("/data/status")
    def status():
        return json_response({**provider.loading_status(), "reload_interval": getattr(provider, "reload_interval", 0),
                              "corruptions": provider.corruptions() if hasattr(provider, "corruptions") else {}})

    @core.route("/data/plugins_listing")
    def plugins_listing():
        return json_response({p.NAME: {"enabled": bool(p.is_active(provider)), "tab_name": p.TAB_NAME,
                                       "disable_reload": False, "remove_dom": False,
                                       "loading_mechanism": {"type": "JS_MODULE",
                                                             "module_path": f"static/{p.NAME}.js"}}
                              for p in plugins})

    app.register_blueprint(core)
    for plugin in plugins:
        app.register_blueprint(plugin.create_blueprint(provider), url_prefix=f"/data/plugin/{plugin.NAME}")
    return app


def with_path_prefix(app: Flask, prefix: str):
    """Serve `app` under `prefix` (e.g. behind a reverse proxy); everything else is a JSON 404."""
    prefix = "/" + prefix.strip("/")
    if prefix == "/":
        return app
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.wrappers import Response

    def not_found(environ, start_response):
        return Response('{"error": "not found"}', 404, mimetype="application/json")(environ, start_response)

    return DispatcherMiddleware(not_found, {prefix: app})


def host_name(host_header: str | None) -> str:
    """The name part of a Host header: `[::1]:6006` -> `[::1]`, `localhost:6006` -> `localhost`."""
    host = host_header or ""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host
