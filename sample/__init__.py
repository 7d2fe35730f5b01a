"""The bundled sample: a static site with known answers (site/), WARC/WET files of it (warc/) and the
server that the demo, the tests and the benchmarks serve it with (server.py). Not part of the installed
library: the curation code never needs it."""
