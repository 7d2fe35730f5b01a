"""BPE token counts, offline: tiktoken with vocabulary files shipped on PyPI."""
