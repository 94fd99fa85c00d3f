high = by_priority("high")
print(f"{len(high)} high-priority tickets")
{"ids": [t["id"] for t in high], "total_words": sum(t["words"] for t in high)}
