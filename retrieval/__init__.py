"""Knowledge base: ingestion, embeddings, FAISS index and search."""
