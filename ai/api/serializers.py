"""What the API shows of a trained model version: its dataset's counts and its held-out evaluation (never the
model's bytes or the dataset's texts)."""

from __future__ import annotations

from rest_framework import serializers

from ..models import ModelVersion


class ClassFiguresSerializer(serializers.Serializer):
    precision = serializers.FloatField()
    recall = serializers.FloatField()
    f1 = serializers.FloatField()
    support = serializers.IntegerField()


class OutcomeFiguresSerializer(serializers.Serializer):
    """An outcome model's figures on the holdout (kind "outcome")."""

    holdout_size = serializers.IntegerField()
    positives = serializers.IntegerField(help_text="Held-out examples whose outcome happened (e.g. won).")
    negatives = serializers.IntegerField()
    auc = serializers.FloatField(help_text="Area under the ROC curve: 0.5 is chance, 1 is perfect.")
    accuracy = serializers.FloatField(help_text="Right when a probability of 0.5 or more is read as yes.")
    brier = serializers.FloatField(help_text="Mean squared error of the calibrated probabilities (lower is better).")
    log_loss = serializers.FloatField()
    mean_probability = serializers.FloatField()


class EvaluationSerializer(serializers.Serializer):
    """Text classifiers fill the first group of fields, outcome models (kind "outcome") the second."""

    holdout_size = serializers.IntegerField()
    accuracy = serializers.FloatField()
    macro_f1 = serializers.FloatField(required=False)
    coverage = serializers.FloatField(required=False)
    answered_accuracy = serializers.FloatField(required=False)
    labels = serializers.ListField(child=serializers.CharField(), required=False)
    per_class = serializers.DictField(child=ClassFiguresSerializer(), required=False, help_text="Label → its figures.")
    confusion = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        required=False,
        help_text="Rows are the true labels, columns the predicted ones, both in `labels` order.",
    )
    positives = serializers.IntegerField(required=False, help_text="Outcome models: held-out examples that were yes.")
    negatives = serializers.IntegerField(required=False)
    auc = serializers.FloatField(required=False, help_text="Outcome models: held-out AUC (0.5 is chance).")
    brier = serializers.FloatField(required=False, help_text="Outcome models: Brier score (lower is better).")
    log_loss = serializers.FloatField(required=False)
    mean_probability = serializers.FloatField(required=False)
    anchor = OutcomeFiguresSerializer(
        required=False, help_text="Outcome models: the naive Bayes over field values on the same holdout."
    )
    chosen = serializers.CharField(required=False, help_text='Outcome models: "logistic" or "naive_bayes".')


class DatasetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    examples = serializers.IntegerField()
    label_counts = serializers.DictField(child=serializers.IntegerField(), help_text="Label → examples.")
    label_names = serializers.DictField(child=serializers.CharField(), help_text="Label → what people call it.")
    sources = serializers.DictField(child=serializers.IntegerField(), help_text='e.g. {"tickets": 480}.')
    created_at = serializers.DateTimeField()


class ModelVersionOutputSerializer(serializers.ModelSerializer):
    classifier = serializers.CharField(source="name", help_text='e.g. "helpdesk.category".')
    # A plain string, not the model's choices: another app's "kind" enum would collide in the schema's names.
    kind = serializers.CharField(help_text='"text" (a classifier of texts) or "outcome" (a yes/no outcome model).')
    dataset = DatasetSerializer()
    evaluation = EvaluationSerializer(allow_null=True, help_text="This version on the holdout (the newest examples).")
    baseline = EvaluationSerializer(allow_null=True, help_text="Always the commonest label, same holdout.")
    current_evaluation = EvaluationSerializer(
        allow_null=True, help_text="The version deployed when this one finished, same holdout."
    )
    compared_with = serializers.SerializerMethodField(help_text="Version number of that deployed version.")
    params = serializers.DictField(help_text="What the holdout selected.")

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "classifier",
            "kind",
            "version",
            "status",
            "progress",
            "progress_message",
            "deployed",
            "deployed_at",
            "forced",
            "decision",
            "error",
            "abstain_below",
            "params",
            "training_seconds",
            "created_at",
            "trained_at",
            "dataset",
            "evaluation",
            "baseline",
            "current_evaluation",
            "compared_with",
        ]

    def get_compared_with(self, version: ModelVersion) -> int | None:
        return version.compared_with.version if version.compared_with else None
