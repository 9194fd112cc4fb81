"""Learned policies: scramble data (``shards``, NumPy only), the PyTorch classifier (``model``),
training (``train``), ONNX export and loading (``policy_file``) and evaluation (``evaluate``).

Only ``shards`` is importable without the ``train`` extra; the engine never imports torch.
"""
