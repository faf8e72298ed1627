"""Datasets as users see them: cards, search, previews, snapshots, lineage, model/report versions."""
