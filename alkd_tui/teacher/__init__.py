"""The LLM teacher: prompts, candidates, backends (Ollama, replay, the teacher recommender), parsing, labelling jobs."""
