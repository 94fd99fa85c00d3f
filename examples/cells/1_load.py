tickets = [
    {"id": 1, "priority": "high", "words": 120},
    {"id": 2, "priority": "low", "words": 40},
    {"id": 3, "priority": "high", "words": 75},
]
def by_priority(p):
    return [t for t in tickets if t["priority"] == p]
