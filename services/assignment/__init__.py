"""The programme itself: directory of townships, villages and departments (and later cadres,
assignments, work logs, problems and inspections)."""
