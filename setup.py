"""The one compiled module of goldpan: the extractor's line features (goldpan/extract/_fastlines.c).

Everything else about the package is in pyproject.toml; C extensions are declared here because
setuptools' pyproject form for them (`[tool.setuptools] ext-modules`) is still experimental and warns on
every install. pip builds it with the machine's gcc and Python headers; goldpan falls back to its Python
reference where it is missing (tests/unit/test_extract_fastlines.py requires it built).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("goldpan.extract._fastlines", ["goldpan/extract/_fastlines.c"])])
