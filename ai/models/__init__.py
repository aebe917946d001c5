"""The AI app's tables, all in the workspace schema: stored embeddings (vectors.py), provider settings and policy
(config.py), prompt overrides (prompts.py), the ledger of runs and feedback (ledger.py) and trained classifiers'
datasets and versions (classifiers.py)."""

from .classifiers import Dataset, Kind, ModelVersion
from .config import AIPolicy, FeatureRoute, ProviderConfig
from .ledger import AIFeedback, AIRun
from .prompts import PromptOverride
from .vectors import Embedding

__all__ = [
    "AIFeedback",
    "AIPolicy",
    "AIRun",
    "Dataset",
    "Embedding",
    "FeatureRoute",
    "Kind",
    "ModelVersion",
    "PromptOverride",
    "ProviderConfig",
]
