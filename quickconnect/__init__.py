"""QuickConnect support business layer: database, services and catalog (no Rasa imports)."""
