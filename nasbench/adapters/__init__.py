"""Other libraries' optimizers as nasbench strategies, so they run under nasbench's runner, clock and statistics
beside the built-in ones. Each needs its library (an optional extra) and imports it only when a run starts."""
