"""Models: dialogue drafting, translation, language identification, fine-tuning, evaluation."""
