"""The MES domain: model, rules, ports and use cases. Pure Python, no I/O, no frameworks."""
