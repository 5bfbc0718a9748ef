"""Graph dashboard internals: sources (any writer's graph -> one GraphDef), hierarchy (name scopes),
layout (layered drawing). The Flask plugin is board_server/plugins/graphs.py."""
