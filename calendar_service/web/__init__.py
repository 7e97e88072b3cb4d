"""HTTP handlers, thin, one module per feature; each exports ``routes``."""
