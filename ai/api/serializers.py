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


class EvaluationSerializer(serializers.Serializer):
    holdout_size = serializers.IntegerField()
    accuracy = serializers.FloatField()
    macro_f1 = serializers.FloatField()
    coverage = serializers.FloatField()
    answered_accuracy = serializers.FloatField()
    labels = serializers.ListField(child=serializers.CharField())
    per_class = serializers.DictField(child=ClassFiguresSerializer(), help_text="Label → its figures.")
    confusion = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="Rows are the true labels, columns the predicted ones, both in `labels` order.",
    )


class DatasetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    examples = serializers.IntegerField()
    label_counts = serializers.DictField(child=serializers.IntegerField(), help_text="Label → examples.")
    label_names = serializers.DictField(child=serializers.CharField(), help_text="Label → what people call it.")
    sources = serializers.DictField(child=serializers.IntegerField(), help_text='e.g. {"tickets": 480}.')
    created_at = serializers.DateTimeField()


class ModelVersionOutputSerializer(serializers.ModelSerializer):
    classifier = serializers.CharField(source="name", help_text='e.g. "helpdesk.category".')
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
