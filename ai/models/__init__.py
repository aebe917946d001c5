"""The AI app's tables, all in the workspace schema: stored embeddings (vectors.py), provider settings and policy
(config.py), prompt overrides (prompts.py) and the ledger of runs and feedback (ledger.py)."""

from .config import AIPolicy, FeatureRoute, ProviderConfig
from .ledger import AIFeedback, AIRun
from .prompts import PromptOverride
from .vectors import Embedding

__all__ = ["AIFeedback", "AIPolicy", "AIRun", "Embedding", "FeatureRoute", "PromptOverride", "ProviderConfig"]
