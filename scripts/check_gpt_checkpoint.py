#!/usr/bin/python3
"""Opens a checkpoint that examples/gpt wrote (--save) in PyTorch, as the lecture's GPTLanguageModel:
    /usr/bin/python3 scripts/check_gpt_checkpoint.py run.safetensors
Builds the lecture's model from the configuration in the file's metadata, loads the parameters with
load_state_dict(strict=False) (the optimiser's state, "optimizer.*", is left out) and checks that only the
heads' `tril` buffers are missing and nothing is unexpected; then prints the model's text for a context of token 0,
sampled in eval mode from seed 1337. Needs torch (Debian's python3-torch); the build and the tests do not.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
from make_gpt_fixtures import GPTLanguageModel  # noqa: E402  (the lecture's model)

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "BOOL": np.bool_}


def load_safetensors(path):
    """The tensors and the metadata of a safetensors file."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    metadata = header.pop("__metadata__", {})
    data = blob[8 + n:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        values = np.frombuffer(data[begin:end], dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
        tensors[name] = torch.from_numpy(values.copy())
    return tensors, metadata


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    tensors, meta = load_safetensors(sys.argv[1])
    if meta.get("model") != "GPTLanguageModel":
        sys.exit(f"{sys.argv[1]}: not a checkpoint of examples/gpt (no model = GPTLanguageModel in its metadata)")
    config = [int(meta[k]) for k in ("vocab_size", "block_size", "n_embd", "n_head", "n_layer")]
    model = GPTLanguageModel(*config, float(meta["dropout"]))
    params = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    result = model.load_state_dict(params, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith(".tril")]
    if missing or result.unexpected_keys:
        sys.exit(f"missing: {missing}, unexpected: {result.unexpected_keys}")
    print(f"loaded {len(params)} tensors into the lecture's GPTLanguageModel {config}; "
          f"missing only the {len(result.missing_keys)} tril buffers")
    chars = meta["vocabulary"]
    torch.manual_seed(1337)
    model.eval()
    with torch.no_grad():
        ids = model.generate(torch.zeros((1, 1), dtype=torch.long), 200)[0].tolist()
    print("".join(chars[i] for i in ids))


if __name__ == "__main__":
    main()
