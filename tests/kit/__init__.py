"""What tests and benchmarks share, so neither imports the other.

``kafka`` (topics, a worker process, producing and reading back), ``pages`` and
``hostile`` (synthetic and hostile inputs), ``services`` (moto, Tansu, a private
redis-server), ``processes`` (process trees, memory, tagged processes), ``faults`` (the
fault scenarios), ``fuzz`` (the decode + extract fuzz target), ``syndication`` (the
multilingual copy generator), ``datasets`` and ``scores`` (the labelled page sets and
how an extraction is scored).
"""
