"""Train the churn classifier.

SYNTHETIC EXAMPLE: loads checkpoints, configs and a Hugging Face model in unsafe ways on purpose.
"""

from __future__ import annotations

import argparse
import pickle

import torch
import yaml
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def load_config(path: str) -> dict:
    with open(path) as fh:
        # yaml.load without SafeLoader can construct arbitrary Python objects.
        return yaml.load(fh, Loader=yaml.Loader)


def load_checkpoint(path: str) -> dict:
    # torch.load without weights_only=True unpickles whatever the file contains.
    return torch.load(path)


def load_baseline(path: str):
    with open(path, "rb") as fh:
        return pickle.load(fh)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", default="models/classifier.pkl")
    parser.add_argument("--config", default="pipelines/train.yaml")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()

    config = load_config(args.config)
    baseline = load_baseline(args.model)
    # Executes Python code shipped in the model repository.
    tokenizer = AutoTokenizer.from_pretrained(config["base_model"], trust_remote_code=True)
    model = AutoModelForSequenceClassification.from_pretrained(config["base_model"], trust_remote_code=True)
    if args.checkpoint:
        model.load_state_dict(load_checkpoint(args.checkpoint)["model"])

    optimizer = torch.optim.AdamW(model.parameters(), lr=config.get("lr", 2e-5))
    for epoch in range(args.epochs):
        print(f"epoch {epoch}: baseline={baseline!r} tokenizer={tokenizer.name_or_path} opt={optimizer}")
    torch.save({"model": model.state_dict()}, "checkpoints/last.pt")


if __name__ == "__main__":
    main()
