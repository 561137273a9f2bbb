"""Trial-based learning: present patterns, decode the output, grade, update (docs/trials.md)."""
from .decoding import decode, decode_first, decode_population, decode_rate  # noqa: F401
from .emotion import EmotionProjection, emotion_value  # noqa: F401
from .encoding import delta_encode, latency_encode, rate_encode  # noqa: F401
from .loop import LearningHistory, TrialRunner, run_trials  # noqa: F401
from .output import write_learning  # noqa: F401
