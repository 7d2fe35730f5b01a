"""goldpan's compiled modules: the extractor's line features (goldpan/extract/_fastlines.c) and the
classifiers' fastText line preparation (goldpan/classify/_ftline.c).

Everything else about the package is in pyproject.toml; C extensions are declared here because
setuptools' pyproject form for them (`[tool.setuptools] ext-modules`) is still experimental and warns on
every install. pip builds it with the machine's gcc and Python headers; goldpan falls back to its Python
reference where one is missing (tests/unit/test_extract_fastlines.py and
tests/unit/test_classify_text.py require them built).
"""

from setuptools import Extension, setup

setup(ext_modules=[
    Extension("goldpan.extract._fastlines", ["goldpan/extract/_fastlines.c"]),
    Extension("goldpan.classify._ftline", ["goldpan/classify/_ftline.c"]),
])
