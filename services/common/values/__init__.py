"""Small value types with their rules: ids, quantities, request fingerprints."""
