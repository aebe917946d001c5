"""A stand-in for ai.providers.local.training that honours its contract (train/evaluate/predict) and is scripted.

The model is a JSON word → label table, so prediction is instant and deterministic: a text's label is the one its
known words vote for, its confidence the share of the votes; below `abstain_below` it abstains. The held-out
accuracy a trained model reports (and `evaluate` gives for it on any slice) is whatever the test set in
`fake.accuracy` before training, so "better" and "worse" versions are one assignment away.
"""

from __future__ import annotations

import json
import re
from collections import Counter

from ai.providers.local.training import Evaluation, Prediction, TrainingResult


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _evaluation(labels: list[str], accuracy: float, macro_f1: float) -> Evaluation:
    names = tuple(sorted(set(labels)))
    per_class = {name: {"precision": accuracy, "recall": accuracy, "f1": macro_f1, "support": 1} for name in names}
    confusion = tuple(tuple(1 if i == j else 0 for j in range(len(names))) for i in range(len(names)))
    return Evaluation(len(labels), accuracy, macro_f1, 1.0, accuracy, names, per_class, confusion)


class FakeTraining:
    def __init__(self) -> None:
        self.accuracy = 0.9
        self.macro_f1 = 0.85
        self.abstain_below = 0.6
        self.progress_seen: list[tuple[float, str]] = []
        self.trained_on: list[list[str]] = []

    def train(self, texts, labels, *, progress=None, holdout_fraction=0.2) -> TrainingResult:
        texts, labels = list(texts), list(labels)
        if len(set(labels)) < 2:
            raise ValueError("A classifier needs examples of at least two different labels.")
        self.trained_on.append(texts)
        holdout_start = max(1, int(len(texts) * (1 - holdout_fraction)))
        for fraction, message in ((0.1, "Reading examples"), (0.5, "Choosing features"), (0.9, "Refitting")):
            if progress:
                progress(fraction, message)
            self.progress_seen.append((fraction, message))
        votes: dict[str, Counter] = {}
        for text, label in zip(texts, labels, strict=True):
            for word in _words(text):
                votes.setdefault(word, Counter())[label] += 1
        table = {word: counter.most_common(1)[0][0] for word, counter in votes.items()}
        model = {"table": table, "accuracy": self.accuracy, "macro_f1": self.macro_f1}
        model["abstain_below"] = self.abstain_below
        holdout = labels[holdout_start:]
        commonest = Counter(labels[:holdout_start]).most_common(1)[0][0]
        baseline_accuracy = round(sum(1 for label in holdout if label == commonest) / len(holdout), 4)
        return TrainingResult(
            model_bytes=json.dumps(model).encode(),
            evaluation=_evaluation(holdout, self.accuracy, self.macro_f1),
            baseline=_evaluation(holdout, baseline_accuracy, baseline_accuracy / 2),
            holdout_start=holdout_start,
            params={"features": "fake words", "C": 1},
            abstain_below=self.abstain_below,
            seconds=0.01,
        )

    def evaluate(self, model_bytes, texts, labels) -> Evaluation:
        model = json.loads(bytes(model_bytes))
        return _evaluation(list(labels), model["accuracy"], model["macro_f1"])

    def predict(self, model_bytes, texts) -> list[Prediction]:
        model = json.loads(bytes(model_bytes))
        results = []
        for text in texts:
            votes = Counter(model["table"][word] for word in _words(text) if word in model["table"])
            if not votes:
                results.append(Prediction(sorted(set(model["table"].values()))[0], 0.0, True))
                continue
            label, count = votes.most_common(1)[0]
            confidence = round(count / sum(votes.values()), 4)
            results.append(Prediction(label, confidence, confidence < model["abstain_below"]))
        return results

    def predict_stored(self, key, model_bytes, texts) -> list[Prediction]:
        return self.predict(model_bytes(), texts)

    def install(self, monkeypatch) -> FakeTraining:
        from ai.providers.local import training

        for name in ("train", "evaluate", "predict", "predict_stored"):
            monkeypatch.setattr(training, name, getattr(self, name), raising=False)
        return self
