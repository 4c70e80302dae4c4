"""The gates file (targets, windows, steps) and the pass/fail checks: what both the probe
and the gated rollout judge by."""
