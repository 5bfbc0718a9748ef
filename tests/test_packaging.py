"""The wheel ships what `board` needs at run time: the page's assets and the protos."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_static_assets_and_protos(tmp_path):
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("board-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    static = sorted(p.name for p in (ROOT / "static").iterdir() if p.is_file())
    assert static, "static/ is empty"
    missing = [n for n in static if f"board_server/static/{n}" not in names]
    assert not missing, f"static assets missing from the wheel: {missing}"
    assert {"summaries/proto/event.proto", "summaries/proto/event_pb2.py"} <= names
    assert any(n.endswith("entry_points.txt") for n in names)
    modules = sorted(str(p.relative_to(ROOT)) for top in ("summaries", "board_server") for p in (ROOT / top).rglob("*.py")
                     if "__pycache__" not in p.parts)
    missing_modules = [m for m in modules if m not in names]
    assert not missing_modules, f"modules missing from the wheel (add their package to pyproject): {missing_modules}"


def test_every_engine_module_imports_first_and_the_server_never_loads_the_engine():
    """Each engine module can be the first one a script imports (math_ops and reduce_ops import each other),
    and the read side stays free of the engine, as the architecture says."""
    modules = sorted(p.stem for p in (ROOT / "summaries" / "engine").glob("*.py") if p.stem != "__init__")
    script = ("import importlib, sys\n"
              f"for name in {modules!r}:\n"
              "    for loaded in [m for m in sys.modules if m.startswith('summaries')]:\n"
              "        del sys.modules[loaded]\n"
              "    importlib.import_module('summaries.engine.' + name)\n"
              "for loaded in [m for m in sys.modules if m.startswith(('summaries', 'board_server'))]:\n"
              "    del sys.modules[loaded]\n"
              "import board_server.app, board_server.data.logdir, board_server.cli\n"
              "print(sorted(m for m in sys.modules if m.startswith('summaries.engine')))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
