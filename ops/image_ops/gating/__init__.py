"""Evidence-gated rollout: one config of gates, the evidence behind them, advance and auto."""
