"""Real training: NB201 networks in torch, datasets, the trainer, the benchmark builder and validation.

Submodules import torch; ``import nasbench`` never imports this package (only ``nasbench build``/``validate`` do).
"""
