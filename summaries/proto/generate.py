"""Regenerate the *_pb2.py modules from the .proto sources (run by `make protos`).

Two post-processing steps make the generated code safe to ship:
- messages go into a private descriptor pool, so importing them beside TensorFlow or
  TensorBoard (which register the same `tensorflow.Event` names in the default pool) never
  collides;
- the gencode/runtime version pin is dropped, so the modules import under any protobuf
  runtime that has the builder API (>= 3.20), not only the one protoc came from.
"""
import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def main() -> None:
    protos = sorted(p.relative_to(ROOT).as_posix() for p in HERE.glob("*.proto"))
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{ROOT}", f"--python_out={ROOT}", *protos],
                   check=True, cwd=ROOT)
    for proto in protos:
        path = ROOT / proto.replace(".proto", "_pb2.py")
        text = path.read_text()
        text = re.sub(r"from google\.protobuf import runtime_version as _runtime_version\n", "", text)
        text = re.sub(r"_runtime_version\.ValidateProtobufRuntimeVersion\([^)]*\)\n", "", text)
        text = text.replace("from google.protobuf import descriptor_pool as _descriptor_pool\n",
                            "from summaries.proto._pool import POOL\n")
        text = text.replace("_descriptor_pool.Default()", "POOL")
        path.write_text(text)
        print("wrote", path.relative_to(ROOT))


if __name__ == "__main__":
    main()
