"""Entry point of the embedded server: llama-cpp-python's OpenAI-compatible server, with llama.cpp's
extra weight buffer types (runtime repacking, the AMX kernels) off unless `--extra-bufts` is given.

Why: llama-cpp-python builds with `-march=native`. On this project's machines the CPU advertises AMX
but the sandboxed kernel does not grant the AMX tile state, and the first decode dies with SIGILL in
ggml's AMX path (measured: llama-cpp-python 0.3.36, SmolLM2 Q4_1). `use_extra_bufts=false`, a
standard llama.cpp model parameter the server does not expose, keeps every matmul on the plain
AVX2/AVX-512 kernels. Run as `python -m goldpan.llm.serve <llama_cpp.server arguments>`.
"""

from __future__ import annotations

import sys


def _without_extra_buffer_types() -> None:
    import llama_cpp.llama as llama_mod
    import llama_cpp.llama_cpp as lib

    default = lib.llama_model_default_params

    def params():
        p = default()
        p.use_extra_bufts = False
        return p

    lib.llama_model_default_params = params
    llama_mod.llama_cpp.llama_model_default_params = params


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--extra-bufts" in args:
        args.remove("--extra-bufts")
    else:
        _without_extra_buffer_types()
    sys.argv = [sys.argv[0], *args]
    from llama_cpp.server.__main__ import main as server_main

    server_main()


if __name__ == "__main__":
    main()
