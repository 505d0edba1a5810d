"""semrec trainer: PyTorch training of the generative recommender and ONNX export.

Run by the TypeScript CLI as ``python3 -m trainer <command> --config CONFIG.json``; reads a JSON
config, writes JSON lines (progress, results) to stdout. Needs only torch and numpy.
"""
