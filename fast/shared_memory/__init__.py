"""Fast shared-memory algorithms: real threads over one shared array (HOGWILD!, CYCLADES)."""
