"""Fine-tuning all-MiniLM-L6-v2 end to end with a coarse and a fine head, on CPU.

Needs the 'embeddings' extra (torch, transformers, the weights package); nothing here is
imported by serving, which runs the exported ONNX graph (training/runtime/finetuned_classifier.py).
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from training.runtime import extras
from training.runtime.finetuned_classifier import MAX_TOKENS, network_text
from training.tiers.embeddings import mean_pooled

# Settings chosen on a fixed split of the tutorial dataset (bench/RESULTS.md, "Accuracy of the
# model tiers": how the fine-tuned tier's settings were chosen).
LEARNING_RATE = 1e-4
HEAD_LEARNING_RATE = 2e-3
BATCH_SIZE = 32
MAX_EPOCHS = 4
PATIENCE = 1
WARMUP_SHARE = 0.06
WEIGHT_DECAY = 0.01
DROPOUT = 0.1
# Seconds for the whole fine-tuning: the epochs planned are those that fit inside it, as
# measured on the first PLAN_AFTER_BATCHES batches and on each finished epoch.
TIME_BUDGET = 660.0
PLAN_AFTER_BATCHES = 10
# torch's intra-op threads while fine-tuning (QC_TRAINING_THREADS overrides). On the shared
# 2-core machine one thread took 0.4 s per batch where two took 1.0 s (they wait on each
# other while the other core is busy); on an idle machine two are faster.
TRAINING_THREADS = 1
# Not trained (see fine_tune), so not stored: a refit takes them from the installed weights.
FROZEN = frozenset({"encoder.embeddings.word_embeddings.weight"})


def training_threads() -> int:
    """torch threads for fine-tuning: QC_TRAINING_THREADS, else TRAINING_THREADS."""
    value = os.environ.get("QC_TRAINING_THREADS", "")
    return max(1, int(value)) if value.isdigit() else TRAINING_THREADS


@dataclass
class Tuned:
    """What fine-tuning produced: weights, validation logits and the history of epochs."""

    state: dict[str, np.ndarray]
    validation_logits: tuple[np.ndarray, np.ndarray]
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0


def _imports() -> tuple:
    """torch and transformers, or a clear error when the extra is missing."""
    missing = extras.missing_modules(("torch", "transformers", extras.MODEL_PACKAGE))
    if missing:
        raise extras.EmbeddingsUnavailable(
            f"the 'embeddings' extra is not installed (missing: {', '.join(missing)}): "
            "run make embeddings"
        )
    import torch
    import transformers

    return torch, transformers


def tokenizer_json() -> str:
    """The installed model's tokenizer, serialised (stored in the model for serving)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(extras.model_path() / "tokenizer.json")).to_str()


def _tokenise(texts: list[str]) -> list[list[int]]:
    """Word-piece ids of the questions as the network reads them (with [CLS] and [SEP])."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(tokenizer_json())
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.no_padding()
    return [item.ids for item in tokenizer.encode_batch([network_text(t) for t in texts])]


def build_network(n_coarse: int, n_fine: int) -> object:
    """The encoder with mean pooling and two linear heads (coarse, fine)."""
    torch, transformers = _imports()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()  # a bar per weight file, on standard error

    class Network(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = transformers.AutoModel.from_pretrained(
                str(extras.model_path()), local_files_only=True
            )
            hidden = self.encoder.config.hidden_size
            self.dropout = torch.nn.Dropout(DROPOUT)
            self.coarse = torch.nn.Linear(hidden, n_coarse)
            self.fine = torch.nn.Linear(hidden, n_fine)

        def forward(self, input_ids, attention_mask):  # noqa: ANN001, ANN201
            tokens = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask
            ).last_hidden_state
            pooled = self.dropout(mean_pooled(tokens, attention_mask))
            return self.coarse(pooled), self.fine(pooled)

    return Network()


def _batch(torch: object, sequences: list[list[int]]) -> tuple:
    """Ids and mask padded to the batch's longest question."""
    longest = max(len(s) for s in sequences)
    ids = np.zeros((len(sequences), longest), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1
    return torch.from_numpy(ids), torch.from_numpy(mask)


def network_logits(network: object, sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Coarse and fine logits of tokenised questions (evaluation mode, sorted by length)."""
    torch, _ = _imports()
    network.eval()
    order = np.argsort([len(s) for s in sequences], kind="stable")
    coarse = np.zeros((len(sequences), network.coarse.out_features), dtype=np.float32)
    fine = np.zeros((len(sequences), network.fine.out_features), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), 128):
            rows = order[start : start + 128]
            ids, mask = _batch(torch, [sequences[i] for i in rows])
            coarse_logits, fine_logits = network(ids, mask)
            coarse[rows], fine[rows] = coarse_logits.numpy(), fine_logits.numpy()
    return coarse, fine


def _state_arrays(network: object) -> dict[str, np.ndarray]:
    """The network's weights as float16 arrays (what a refit continues from)."""
    return {
        name: tensor.detach().cpu().numpy().astype(np.float16)
        for name, tensor in network.state_dict().items()
        if tensor.is_floating_point() and name not in FROZEN
    }


def load_state(network: object, state: dict[str, np.ndarray]) -> None:
    """Load float16 arrays saved by ``_state_arrays`` (heads only when their shapes match)."""
    torch, _ = _imports()
    own = network.state_dict()
    usable = {
        name: torch.from_numpy(np.asarray(array, dtype=np.float32))
        for name, array in state.items()
        if name in own and tuple(own[name].shape) == tuple(array.shape)
    }
    network.load_state_dict(usable, strict=False)


def fine_tune(
    texts: list[str],
    coarse: np.ndarray,
    fine: np.ndarray,
    validation: tuple[list[str], np.ndarray, np.ndarray],
    n_classes: tuple[int, int],
    *,
    seed: int = 0,
    start: dict[str, np.ndarray] | None = None,
    max_epochs: int = MAX_EPOCHS,
    report: Callable[[float, str], None] = lambda fraction, message: None,
) -> Tuned:
    """Fine-tune on (texts, coarse ids, fine ids), stopping early on the validation rows.

    ``start`` holds weights to continue from (a refit). The weights of the epoch with the best
    validation accuracy (coarse plus fine) are kept.
    """
    torch, _ = _imports()
    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(training_threads())
    try:
        network = build_network(*n_classes)
        if start is not None:
            load_state(network, start)
        # The word-piece table is most of the weights and gains little from a few epochs.
        for name, parameter in network.named_parameters():
            parameter.requires_grad_(name not in FROZEN)
        sequences = _tokenise(texts)
        val_sequences = _tokenise(validation[0])
        heads = [p for name, p in network.named_parameters() if not name.startswith("encoder.")]
        body = [
            p for name, p in network.named_parameters()
            if name.startswith("encoder.") and p.requires_grad
        ]
        optimiser = torch.optim.AdamW(
            [{"params": body, "lr": LEARNING_RATE}, {"params": heads, "lr": HEAD_LEARNING_RATE}],
            weight_decay=WEIGHT_DECAY,
        )
        per_epoch = math.ceil(len(texts) / BATCH_SIZE)
        # The learning rate warms up, then falls linearly to zero at the end of the last
        # planned epoch. The plan is cut to the epochs that fit the time budget once the first
        # batches are timed (and again after each epoch), so a slow machine trains fewer epochs
        # that still end at a low learning rate, instead of stopping at a high one.
        plan = {"epochs": max_epochs}
        warmup = int(WARMUP_SHARE * per_epoch * max_epochs)

        def rate_factor(step: int) -> float:
            if step < warmup:
                return step / max(1, warmup)
            total = per_epoch * plan["epochs"]
            return max(0.0, (total - step) / max(1, total - warmup))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, rate_factor)
        coarse_t = torch.from_numpy(np.array(coarse, dtype=np.int64))
        fine_t = torch.from_numpy(np.array(fine, dtype=np.int64))
        shuffler = np.random.RandomState(seed)
        best: Tuned | None = None
        history: list[dict] = []
        began = time.perf_counter()
        epoch = 0
        while epoch < plan["epochs"]:
            epoch += 1
            network.train()
            order = shuffler.permutation(len(texts))
            losses = []
            for step in range(per_epoch):
                rows = order[step * BATCH_SIZE : (step + 1) * BATCH_SIZE]
                ids, mask = _batch(torch, [sequences[i] for i in rows])
                coarse_logits, fine_logits = network(ids, mask)
                loss = torch.nn.functional.cross_entropy(coarse_logits, coarse_t[rows])
                loss = loss + torch.nn.functional.cross_entropy(fine_logits, fine_t[rows])
                optimiser.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
                optimiser.step()
                scheduler.step()
                losses.append(loss.item())
                if epoch == 1 and step + 1 == PLAN_AFTER_BATCHES:
                    per_batch = (time.perf_counter() - began) / PLAN_AFTER_BATCHES
                    plan["epochs"] = _epochs_within(per_batch * per_epoch, 0.0, 0, max_epochs)
                if step % 20 == 0:
                    report(
                        ((epoch - 1) * per_epoch + step) / (per_epoch * plan["epochs"]),
                        f"epoch {epoch}: batch {step + 1} of {per_epoch}, "
                        f"loss {np.mean(losses[-20:]):.3f}",
                    )
            val_coarse, val_fine = network_logits(network, val_sequences)
            scores = {
                "epoch": epoch,
                "loss": float(np.mean(losses)),
                "coarse_accuracy": float(np.mean(val_coarse.argmax(1) == validation[1])),
                "fine_accuracy": float(np.mean(val_fine.argmax(1) == validation[2])),
                "seconds": round(time.perf_counter() - began, 1),
            }
            history.append(scores)
            report(epoch / plan["epochs"], (
                f"epoch {epoch}: validation coarse {scores['coarse_accuracy']:.1%}, "
                f"fine {scores['fine_accuracy']:.1%}"
            ))
            score = scores["coarse_accuracy"] + scores["fine_accuracy"]
            if best is None or score > _score(best):
                best = Tuned(_state_arrays(network), (val_coarse, val_fine), best_epoch=epoch)
                best.history = [scores]
            elif epoch - best.best_epoch > PATIENCE:
                break
            elapsed = time.perf_counter() - began
            plan["epochs"] = min(
                plan["epochs"], _epochs_within(elapsed / epoch, elapsed, epoch, max_epochs)
            )
        best.history = history
        return best
    finally:
        torch.set_num_threads(threads)


def _epochs_within(epoch_seconds: float, spent: float, done: int, most: int) -> int:
    """Epochs in all (at least the ``done`` ones, at most ``most``) that fit TIME_BUDGET."""
    more = int((TIME_BUDGET - spent) // max(epoch_seconds, 1e-9))
    return max(done, 1, min(most, done + more))


def _score(tuned: Tuned) -> float:
    """Validation coarse plus fine accuracy of the kept epoch."""
    kept = tuned.history[-1] if tuned.history else {}
    return kept.get("coarse_accuracy", 0.0) + kept.get("fine_accuracy", 0.0)


def export_onnx(state: dict[str, np.ndarray], n_classes: tuple[int, int],
                precision: str = "fp32") -> bytes:
    """The network with these weights as an ONNX graph (int8 weights if asked)."""
    torch, _ = _imports()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    network = build_network(*n_classes)
    load_state(network, state)
    network.eval()
    sample = _batch(torch, _tokenise(["What is a bridge?", "Who wrote Hamlet?"]))
    quiet = logging.getLogger()
    level = quiet.level
    with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quiet.setLevel(logging.ERROR)
        try:
            full = Path(scratch) / "full.onnx"
            with torch.no_grad():
                torch.onnx.export(
                    network, sample, str(full),
                    input_names=["input_ids", "attention_mask"],
                    output_names=["coarse_logits", "fine_logits"],
                    dynamic_axes={
                        "input_ids": {0: "batch", 1: "tokens"},
                        "attention_mask": {0: "batch", 1: "tokens"},
                        "coarse_logits": {0: "batch"},
                        "fine_logits": {0: "batch"},
                    },
                    opset_version=17, dynamo=False,
                )
            if precision == "int8":
                quantised = Path(scratch) / "int8.onnx"
                # A scale per output channel: on the tutorial dataset one scale per matrix
                # changed 1.5% of the fine answers against float32, per channel 0.8%.
                quantize_dynamic(str(full), str(quantised), weight_type=QuantType.QInt8,
                                 per_channel=True)
                full = quantised
            return full.read_bytes()
        finally:
            quiet.setLevel(level)
