"""The CDN rollout flag: the decision rule, where the flag is stored, and the live copy."""
