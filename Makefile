# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 6006
LOGDIR ?= logs

.PHONY: install demo logs test test-fast bench protos wheel clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test,fast]"
	touch $(STAMP)

install: $(STAMP)

logs: install
	$(BIN)/python examples/write_demo_logs.py --logdir $(LOGDIR)

demo: logs
	$(BIN)/board --logdir $(LOGDIR) --port $(PORT)

test: install
	$(BIN)/python -m pytest -q -rs tests

test-fast: install
	$(BIN)/python -m pytest -q -x -m "not browser and not slow" tests

bench: install
	$(BIN)/python bench/write_bench.py
	$(BIN)/python bench/engine_bench.py
	$(BIN)/python bench/load_bench.py --skip-slow
	$(BIN)/python bench/image_memory_bench.py
	$(BIN)/python bench/graph_bench.py
	$(BIN)/python bench/serve_bench.py --logdir small
	$(BIN)/python bench/serve_bench.py --logdir large

# Regenerate summaries/proto/*_pb2.py from the .proto sources (protoc from grpcio-tools, in a scratch venv).
protos:
	$(PY) -m venv .venv-protoc
	.venv-protoc/bin/pip install -q grpcio-tools
	.venv-protoc/bin/python summaries/proto/generate.py

wheel: install
	$(BIN)/python -m build --wheel --outdir dist .

clean:
	rm -rf $(VENV) .venv-protoc dist build *.egg-info .pytest_cache
